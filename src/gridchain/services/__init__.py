"""The loopback HTTP services: the utility's token issuance and the relayer (FastAPI, served by uvicorn)."""
