"""The Alembic revisions of the anonymous mode's parties' schemas, one folder per schema."""
