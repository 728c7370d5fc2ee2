"""The indexer's tables: the blocks it read events from, the events, and one cursor per contract.

`index_events` is keyed by (block, log index): a log is stored once, whichever contract or run read it. Every event
references its block in `index_blocks`, whose hash says which chain it was read from; a cursor's block and hash
say how far its contract has been read (the block is stored too, so a reorganisation below it is found by
walking the stored blocks down). Big integers in event arguments are JSON strings (`gridchain.index.codec`).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

from gridchain.store.migrate import Schema

HASH = 66  # "0x" + 64 hex digits
ADDRESS = 42

metadata = MetaData()
blocks = Table(
    "index_blocks",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(HASH), nullable=False),
    Column("parent_hash", String(HASH), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
)
events = Table(
    "index_events",
    metadata,
    Column("block", BigInteger, ForeignKey("index_blocks.number"), primary_key=True, autoincrement=False),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("contract", String(64), nullable=False),
    Column("address", String(ADDRESS), nullable=False),
    Column("tx_hash", String(HASH), nullable=False),
    Column("name", String(64), nullable=False),
    Column("args", Text, nullable=False),
    Index("index_events_by_contract", "contract", "name", "block"),
)
cursors = Table(
    "index_cursors",
    metadata,
    Column("contract", String(64), primary_key=True),
    Column("address", String(ADDRESS), nullable=False),
    Column("start_block", BigInteger, nullable=False),
    Column("block", BigInteger, nullable=False),  # the last block read (start_block - 1 before any)
    Column("hash", String(HASH), nullable=True),  # its hash (None before any block was read)
)
SCHEMA = Schema("index", metadata, Path(__file__).parent / "migrations")
