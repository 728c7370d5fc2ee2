"""Alembic revisions of coordination's parties' own databases, one folder per schema."""
