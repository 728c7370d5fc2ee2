"""Reading the index: a contract's events by name and block range, its checkpoint, and the counts `index status`
shows. What keeper, verify, the ESU client and the dashboard read instead of asking the node for logs.

Everything returned comes from one consistent snapshot of the store, at or below the contract's checkpoint.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from gridchain.chain.compiler import Artifact
from gridchain.chain.events import ChainReorganized
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
        return self.store.read(lambda c: _events(c, contract, names, from_block, to_block))

    def read_since(
        self, contract: str, names: Sequence[str], after_block: int
    ) -> tuple[Checkpoint | None, list[IndexedEvent]]:
        """`contract`'s checkpoint and its events above `after_block` up to it, from one snapshot."""

        def work(connection: Connection) -> tuple[Checkpoint | None, list[IndexedEvent]]:
            row = connection.execute(select(tables.cursors).where(tables.cursors.c.contract == contract)).first()
            if row is None:
                return None, []
            checkpoint = Checkpoint(row.contract, row.address, row.start_block, row.block, row.hash)
            return checkpoint, _events(connection, contract, names, after_block + 1, row.block)

        return self.store.read(work)

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


def _events(
    connection: Connection, contract: str, names: Sequence[str], from_block: int, to_block: int | None
) -> list[IndexedEvent]:
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
    return [
        IndexedEvent(
            r.contract, r.name, json.loads(r.args), r.address, r.block, r.log_index, r.tx_hash, r.block_hash, r.args
        )
        for r in connection.execute(query)
    ]


class IndexedLog:
    """A contract's history read from the index instead of the node, with `EventLog`'s reading side (`sync`,
    `named`, `events`, `checkpoint`): a reader (the coordinator's client, for verify) takes either.

    `sync()` returns the events the index stored above what was read so far, up to its checkpoint; if the block
    read last is no longer the chain's (`gateway`), it raises `ChainReorganized`, as `EventLog` does: the index
    rolls the reorganisation back, the reader starts afresh."""

    def __init__(self, reader: IndexReader, contract: str, artifact: Artifact, names: Sequence[str], gateway) -> None:
        self.reader, self.contract, self.artifact, self.names, self.gateway = reader, contract, artifact, names, gateway
        self.events: list[Event] = []
        self.checkpoint, self.checkpoint_hash = -1, None

    def sync(self) -> list[Event]:
        if self.checkpoint_hash is not None:
            now = self.gateway.block_hash(self.checkpoint)
            if now != self.checkpoint_hash:
                raise ChainReorganized(self.checkpoint, self.checkpoint_hash, now)
        cursor, stored = self.reader.read_since(self.contract, self.names, self.checkpoint)
        if cursor is None or cursor.block <= self.checkpoint:
            return []
        new = [e.event(self.artifact) for e in stored]
        self.events += new
        self.checkpoint, self.checkpoint_hash = cursor.block, cursor.hash
        return new

    def named(self, *names: str) -> list[Event]:
        return [e for e in self.events if e.name in names]
