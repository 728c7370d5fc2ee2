"""The indexer's step: read each contract's new events up to `head - confirmations` and store them with their
blocks and its cursor in ONE transaction; before that, roll back whatever a reorganisation took off the chain.

A step reads at most `max_range` blocks per contract (one `eth_getLogs` each) and writes nothing if the chain
changed while it read (`ChainMoved`: the next step reads again). Before reading it compares each cursor's stored
hash with the chain's; on a mismatch it walks the stored blocks down to the last one the chain still has (the
fork point) and deletes the events and blocks above it, and moves the cursors back to it, in one transaction.
So a crash at any point leaves events and cursors that agree, and a log is never stored twice (the events'
key is the block and the log index).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, delete, func, insert, not_, select, update

from gridchain.chain.compiler import Artifact
from gridchain.chain.events import DEFAULT_MAX_RANGE
from gridchain.chain.gateway import Event, Gateway, Header
from gridchain.errors import InputError
from gridchain.index import tables
from gridchain.index.codec import to_json
from gridchain.store.engine import Store

KEEP_BLOCKS = 256
"""Blocks below the lowest cursor that hold no event are deleted once this far below it: the fork point of a
reorganisation is found among the events' blocks and these."""
FORK_PAGE = 256  # stored blocks compared with the chain per read while looking for the fork point


@dataclass(frozen=True)
class Source:
    """What a feature asks the indexer to read (its cli's `INDEX`): its contract (a file in contracts/) and the
    events to keep (None: every event of the contract's ABI)."""

    contract: str
    events: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Target:
    """One deployed contract to index: `name` is its key in the deployment record."""

    name: str
    address: str
    artifact: Artifact
    events: tuple[str, ...]
    start_block: int


def abi_events(artifact: Artifact) -> tuple[str, ...]:
    """Every event name of the contract's ABI."""
    return tuple(e["name"] for e in artifact.abi if e.get("type") == "event")


class ChainMoved(RuntimeError):
    """The chain changed while a step read it (or another indexer stored the range first): nothing was written."""


@dataclass(frozen=True)
class Reorg:
    from_block: int  # the highest block read before
    to_block: int  # the fork point: the highest stored block the chain still has (-1: none)
    events_dropped: int


@dataclass
class StepResult:
    head: int
    final: int  # head - confirmations: what may be read
    checkpoints: dict[str, int]
    new_events: int = 0
    reorg: Reorg | None = None
    counts: dict[str, int] = field(default_factory=dict)  # contract -> events stored by this step

    @property
    def lag(self) -> int:
        """Blocks the slowest contract is behind what may be read."""
        return max(0, self.final - min(self.checkpoints.values(), default=self.final))

    @property
    def caught_up(self) -> bool:
        return self.reorg is None and self.lag == 0


@dataclass
class _Read:
    target: Target
    cursor: tuple[int, str | None]
    end: Header
    events: list[Event]


class Indexer:
    """The indexer of one deployment: `targets` read through `gateway` into `store` (its schema migrated)."""

    def __init__(
        self,
        store: Store,
        gateway: Gateway,
        targets: Sequence[Target],
        confirmations: int = 0,
        max_range: int = DEFAULT_MAX_RANGE,
    ) -> None:
        if max_range < 1 or confirmations < 0:
            raise ValueError(f"max_range must be at least 1 and confirmations at least 0: {max_range}, {confirmations}")
        self.store, self.gateway, self.targets = store, gateway, {t.name: t for t in targets}
        self.confirmations, self.max_range = confirmations, max_range
        self._prepared = False

    def prepare(self) -> None:
        """Create the missing cursors; refuse a contract the index read at another address (redeployed)."""

        def work(connection: Connection) -> None:
            known = {r.contract: r.address for r in connection.execute(select(tables.cursors))}
            for t in self.targets.values():
                if t.name not in known:
                    row = {"contract": t.name, "address": t.address, "start_block": t.start_block}
                    connection.execute(insert(tables.cursors).values(**row, block=t.start_block - 1, hash=None))
                elif known[t.name] != t.address:
                    raise InputError(
                        f"deployment.{t.name}",
                        f"the index read {known[t.name]}, the record says {t.address}: index into a new store",
                    )

        self.store.atomic(work)
        self._prepared = True

    def cursors(self) -> dict[str, tuple[int, str | None]]:
        """Each target's cursor: (last block read, its hash)."""
        rows = self.store.read(lambda c: c.execute(select(tables.cursors)).all())
        return {r.contract: (r.block, r.hash) for r in rows if r.contract in self.targets}

    def step(self) -> StepResult:
        """Roll back a reorganisation, or read and store the next range of every contract behind the head."""
        if not self._prepared:
            self.prepare()
        head = self.gateway.block_number()
        final = head - self.confirmations
        cursors = self.cursors()
        if any(h is not None and self.gateway.block_hash(b) != h for b, h in cursors.values()):
            reorg = self._roll_back(cursors)
            return StepResult(head, final, {n: b for n, (b, _) in self.cursors().items()}, reorg=reorg)
        headers: dict[int, Header] = {}
        reads = [
            self._read(self.targets[name], cursor, min(cursor[0] + self.max_range, final), headers)
            for name, cursor in cursors.items()
            if cursor[0] < final
        ]
        checkpoints = {name: b for name, (b, _) in cursors.items()}
        if not reads:
            return StepResult(head, final, checkpoints)
        self.store.atomic(lambda connection: self._write(connection, reads, headers))
        checkpoints |= {r.target.name: r.end.number for r in reads}
        counts = {r.target.name: len(r.events) for r in reads}
        return StepResult(head, final, checkpoints, sum(counts.values()), counts=counts)

    def _header(self, number: int, headers: dict[int, Header]) -> Header:
        if number not in headers:
            header = self.gateway.header(number)
            if header is None:
                raise ChainMoved(f"block {number} is gone")
            headers[number] = header
        return headers[number]

    def _read(self, target: Target, cursor: tuple[int, str | None], end: int, headers: dict[int, Header]) -> _Read:
        """Blocks cursor+1..end of one contract, checked to be one chain from the cursor's block to `end`."""
        header = self._header(end, headers)
        found = self.gateway.logs(target.artifact, target.address, target.events, cursor[0] + 1, end)
        if self.gateway.block_hash(end) != header.hash:
            raise ChainMoved(f"block {end} was replaced while its logs were read")
        for event in found:
            if self._header(event.block, headers).hash != event.block_hash:
                raise ChainMoved(f"block {event.block} was replaced while its logs were read")
        if cursor[1] is not None and self.gateway.block_hash(cursor[0]) != cursor[1]:
            raise ChainMoved(f"block {cursor[0]} was replaced while the blocks above it were read")
        return _Read(target, cursor, header, found)

    def _write(self, connection: Connection, reads: list[_Read], headers: dict[int, Header]) -> None:
        """Every read's blocks, events and cursor (pure database work: `Store.atomic` may run it twice)."""
        stored: set[int] = set()
        for read in reads:
            row = connection.execute(select(tables.cursors).where(tables.cursors.c.contract == read.target.name)).one()
            if (row.block, row.hash) != read.cursor:
                raise ChainMoved(f"{read.target.name}'s cursor moved (another indexer on this store?)")
            for number in sorted({e.block for e in read.events} | {read.end.number}):
                if number not in stored:
                    _put_block(connection, headers[number])
                    stored.add(number)
            if read.events:
                connection.execute(insert(tables.events), [_event_row(read.target.name, e) for e in read.events])
            connection.execute(
                update(tables.cursors)
                .where(tables.cursors.c.contract == read.target.name)
                .values(block=read.end.number, hash=read.end.hash)
            )
        _prune(connection)

    def _roll_back(self, cursors: dict[str, tuple[int, str | None]]) -> Reorg:
        """Delete what lies above the fork point and move the cursors back to it, in one transaction."""
        fork, fork_hash = self._fork_point()
        starts = {t.name: t.start_block - 1 for t in self.targets.values()}

        def work(connection: Connection) -> int:
            dropped = connection.execute(
                select(func.count()).select_from(tables.events).where(tables.events.c.block > fork)
            ).scalar_one()
            connection.execute(delete(tables.events).where(tables.events.c.block > fork))
            connection.execute(delete(tables.blocks).where(tables.blocks.c.number > fork))
            for row in connection.execute(select(tables.cursors).where(tables.cursors.c.block > fork)).all():
                block = max(fork, starts.get(row.contract, row.start_block - 1))
                values = {"block": block, "hash": fork_hash if block == fork else None}
                connection.execute(
                    update(tables.cursors).where(tables.cursors.c.contract == row.contract).values(values)
                )
            return dropped

        dropped = self.store.atomic(work)
        return Reorg(max(b for b, _ in cursors.values()), fork, dropped)

    def _fork_point(self) -> tuple[int, str | None]:
        """The highest stored block whose hash the chain still has: (-1, None) if none."""
        below = None
        while True:
            query = select(tables.blocks.c.number, tables.blocks.c.hash).order_by(tables.blocks.c.number.desc())
            if below is not None:
                query = query.where(tables.blocks.c.number < below)
            rows = self.store.read(lambda c, q=query: c.execute(q.limit(FORK_PAGE)).all())
            if not rows:
                return -1, None
            for number, block_hash in rows:
                if self.gateway.block_hash(number) == block_hash:
                    return number, block_hash
            below = rows[-1].number


def _put_block(connection: Connection, header: Header) -> None:
    """Store a block once; a stored block of the same number with another hash means the chain moved."""
    known = connection.execute(select(tables.blocks.c.hash).where(tables.blocks.c.number == header.number)).scalar()
    if known is None:
        row = {"number": header.number, "hash": header.hash, "parent_hash": header.parent_hash}
        connection.execute(insert(tables.blocks).values(**row, timestamp=header.timestamp))
    elif known != header.hash:
        raise ChainMoved(f"block {header.number} is stored as {known}, the chain now has {header.hash}")


def _event_row(contract: str, event: Event) -> dict:
    return {
        "block": event.block,
        "log_index": event.log_index,
        "contract": contract,
        "address": event.address,
        "tx_hash": event.tx_hash,
        "name": event.name,
        "args": to_json(event.args),
    }


def _prune(connection: Connection) -> None:
    """Delete the blocks far below every cursor that hold no event (old checkpoints)."""
    lowest = connection.execute(select(func.min(tables.cursors.c.block))).scalar()
    if lowest is None:
        return
    holds_event = select(tables.events.c.block).where(tables.events.c.block == tables.blocks.c.number).exists()
    is_cursor = tables.blocks.c.number.in_(select(tables.cursors.c.block))
    old = tables.blocks.c.number < lowest - KEEP_BLOCKS
    connection.execute(delete(tables.blocks).where(and_(old, not_(holds_event), not_(is_cursor))))
