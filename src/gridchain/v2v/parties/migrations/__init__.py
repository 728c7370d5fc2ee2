"""Alembic revisions of the v2v parties' schemas (one folder per schema)."""
