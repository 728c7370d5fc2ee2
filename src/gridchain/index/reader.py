"""Reading the index: a contract's events by name and block range, its checkpoint, and the counts `index status`
shows. What keeper, verify, the ESU client and the dashboard read instead of asking the node for logs.

Everything returned comes from one consistent snapshot of the store, at or below the contract's checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from gridchain.chain.compiler import Artifact
from gridchain.chain.gateway import Event
from gridchain.index import tables
from gridchain.index.codec import from_json
from gridchain.store.engine import Store


@dataclass(frozen=True)
class Checkpoint:
    contract: str
    address: str
    start_block: int
    block: int  # the last block read (start_block - 1 before any)
    hash: str | None


@dataclass(frozen=True)
class IndexedEvent:
    """An event as stored: its arguments in JSON form (`gridchain.index.codec`); `event(artifact)` decodes them."""

    contract: str
    name: str
    args: dict[str, Any]
    address: str
    block: int
    log_index: int
    tx_hash: str
    block_hash: str
    args_json: str

    def event(self, artifact: Artifact) -> Event:
        """The event exactly as a gateway decodes it (equal to `read_events`' for the same log)."""
        args = from_json(artifact, self.name, self.args_json)
        return Event(self.name, args, self.address, self.block, self.tx_hash, self.log_index, self.block_hash)


class IndexReader:
    """Read-only access to the index in `store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def checkpoints(self) -> list[Checkpoint]:
        rows = self.store.read(lambda c: c.execute(select(tables.cursors).order_by(tables.cursors.c.contract)).all())
        return [Checkpoint(r.contract, r.address, r.start_block, r.block, r.hash) for r in rows]

    def checkpoint(self, contract: str) -> Checkpoint | None:
        """How far `contract` (its deployment record key) has been read; None if the index never saw it."""
        return next((c for c in self.checkpoints() if c.contract == contract), None)

    def events(
        self, contract: str, names: Sequence[str] = (), from_block: int = 0, to_block: int | None = None
    ) -> list[IndexedEvent]:
        """`contract`'s events (those named in `names`, or all) in blocks from_block..to_block, in chain order."""
        import json

        e, b = tables.events, tables.blocks
        query = (
            select(e, b.c.hash.label("block_hash"))
            .join(b, b.c.number == e.c.block)
            .where(e.c.contract == contract, e.c.block >= from_block)
            .order_by(e.c.block, e.c.log_index)
        )
        if names:
            query = query.where(e.c.name.in_(list(names)))
        if to_block is not None:
            query = query.where(e.c.block <= to_block)
        rows = self.store.read(lambda c: c.execute(query).all())
        return [
            IndexedEvent(
                r.contract, r.name, json.loads(r.args), r.address, r.block, r.log_index, r.tx_hash, r.block_hash, r.args
            )
            for r in rows
        ]

    def counts(self) -> dict[str, dict[str, int]]:
        """contract -> event name -> events stored."""

        def work(connection: Connection) -> list:
            e = tables.events
            return connection.execute(
                select(e.c.contract, e.c.name, func.count()).group_by(e.c.contract, e.c.name)
            ).all()

        out: dict[str, dict[str, int]] = {}
        for contract, name, count in self.store.read(work):
            out.setdefault(contract, {})[name] = count
        return out
