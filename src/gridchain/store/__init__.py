"""Persistence: one SQL database per deployment (SQLite in WAL mode by default, PostgreSQL by URL) through
SQLAlchemy 2, each party's tables migrated by Alembic, every write one serializable transaction retried on
conflict. A shared adapter: imports no other gridchain package but the kernel; features bring their own tables.
"""
