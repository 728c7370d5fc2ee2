"""The tables of an ESU wallet's own database (the household's `<wallet>/wallet.db`, not the deployment's store):
its unused tokens, every request it keeps until the chain confirms it, the tokens obtained per epoch, and the
legacy JSON files imported into it. Big numbers (a token, a demand, an arrival) are decimal or hex TEXT.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

from gridchain.store.migrate import Schema

metadata = MetaData()
ADDRESS = 42  # 0x + 40 hex digits

tokens = Table(
    "esu_wallet_tokens",
    metadata,
    Column("address", String(ADDRESS), primary_key=True),  # the one-time pseudonym
    Column("community", String(ADDRESS), nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("key", Text, nullable=False),  # the pseudonym's private key, 0x hex
    Column("token", Text, nullable=False),  # 0x hex of the blind token
    Index("esu_wallet_tokens_by_epoch", "community", "epoch"),
)

requests = Table(
    "esu_wallet_requests",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=False),  # the wallet's own running number
    Column("community", String(ADDRESS), nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("address", String(ADDRESS), nullable=False, unique=True),  # its token's pseudonym: spent once
    Column("key", Text, nullable=False),
    Column("token", Text, nullable=False),
    Column("demand_w", String(24), nullable=False),  # decimal: up to 2**64 - 1
    Column("soc_pm", Integer, nullable=False),
    Column("tcc", BigInteger, nullable=False),
    Column("slot", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("ticket", Text),
    Column("arrival", String(48)),  # decimal (slot << 32 | k)
    Column("reason", Text),
    Column("slots_tried", Text, nullable=False),  # JSON list
    Column("body", Text),  # the signed request last sent (JSON): sent again as is after a crash
    Column("claimed_by", String(200)),  # who is sending it now (host/pid/thread/nonce)
    Column("claimed_ms", BigInteger),
    Column("version", Integer, nullable=False),  # bumped by every change: writes compare it (no lost update)
)

obtained = Table(
    "esu_wallet_obtained",
    metadata,
    Column("community", String(ADDRESS), primary_key=True),
    Column("epoch", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
)

imports = Table(
    "esu_wallet_imports",
    metadata,
    Column("sha256", String(64), primary_key=True),  # of the JSON file's bytes: imported once
    Column("name", Text, nullable=False),
    Column("imported_ms", BigInteger, nullable=False),
)

SCHEMA = Schema("esu_wallet", metadata, Path(__file__).parent / "migrations" / "esu_wallet")
