"""The Alembic revisions of the anonymous mode's parties' tables, one folder per schema."""
