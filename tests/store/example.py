"""A small schema for the store's own tests: a counter table and a log table with a foreign key."""

from pathlib import Path

from sqlalchemy import Column, ForeignKey, Integer, MetaData, String, Table

from gridchain.store.migrate import Schema

metadata = MetaData()
counters = Table(
    "example_counters", metadata, Column("name", String(64), primary_key=True), Column("value", Integer, nullable=False)
)
entries = Table(
    "example_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("counter", String(64), ForeignKey("example_counters.name"), nullable=False),
    Column("note", String(200), nullable=False),
)
SCHEMA = Schema("example", metadata, Path(__file__).parent / "example_versions")
