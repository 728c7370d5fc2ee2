"""Alembic revisions of the `v2v_provider` schema (gridchain.v2v.parties.provider_store)."""
