"""The anonymous mode's loopback HTTP services (FastAPI): the utility's token issuance and the relayer, with
the clients that talk to them.

Layer `service` of coordination/anonymous: puts its parties on the network through gridchain.net; imported by
its cli, by coordination's scenarios and by the ESU (for the relayer's client); never imports a cli or scenarios.
"""
