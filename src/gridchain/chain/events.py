"""Read a contract's events once: a checkpointed log that fetches only new blocks, in bounded ranges.

Every reader of a contract's history (keeper, verifier, ESU client) used to ask the node for every log from
block 0 at each step. An `EventLog` keeps what it has read and the last block it read (its checkpoint), and
each `sync()` asks only for the blocks after it, `max_range` blocks per `eth_getLogs` (public providers cap
the range), up to `latest - confirmations`. It remembers the checkpoint's block hash: if the chain no longer
has that block, it was reorganised below what was read, and `sync()` raises `ChainReorganized` instead of
building on logs that are gone (issue 17 rolls back; a reader today starts afresh).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gridchain.chain.compiler import Artifact
from gridchain.chain.gateway import Event, Gateway

DEFAULT_MAX_RANGE = 2_000
"""Blocks per eth_getLogs: what public providers commonly accept (some allow 10,000, a few only 1,000)."""


class ChainReorganized(RuntimeError):
    """A block the log had read is no longer on the chain: what was read above it may be gone."""

    def __init__(self, block: int, read: str, now: str | None) -> None:
        super().__init__(f"block {block} was reorganised (read as {read}, now {now or 'missing'})")
        self.block = block


@dataclass
class EventLog:
    """The events `names` of the contract at `address`, read from `start_block` on, each log once.

    `events` holds them in chain order; `checkpoint` is the last block read (`start_block - 1` before any)."""

    gateway: Gateway
    artifact: Artifact
    address: str
    names: tuple[str, ...]
    start_block: int = 0
    max_range: int = DEFAULT_MAX_RANGE
    confirmations: int = 0
    events: list[Event] = field(default_factory=list)
    checkpoint: int = -1
    checkpoint_hash: str | None = None

    def __post_init__(self) -> None:
        if self.max_range < 1:
            raise ValueError(f"max_range must be at least 1, not {self.max_range}")
        self.checkpoint = max(self.checkpoint, self.start_block - 1)

    def sync(self) -> list[Event]:
        """Read the blocks after the checkpoint up to `latest - confirmations`; returns the new events."""
        self._check_checkpoint()
        head = self.gateway.block_number() - self.confirmations
        new: list[Event] = []
        while self.checkpoint < head:
            end = min(head, self.checkpoint + self.max_range)
            end_hash = self.gateway.block_hash(end)
            found = self.gateway.logs(self.artifact, self.address, self.names, self.checkpoint + 1, end)
            if self.gateway.block_hash(end) != end_hash:  # reorganised while we read: read the range again
                continue
            new += found
            self.checkpoint, self.checkpoint_hash = end, end_hash
        self.events += new
        return new

    def _check_checkpoint(self) -> None:
        if self.checkpoint_hash is None:
            return
        now = self.gateway.block_hash(self.checkpoint)
        if now != self.checkpoint_hash:
            raise ChainReorganized(self.checkpoint, self.checkpoint_hash, now)

    def named(self, *names: str) -> list[Event]:
        """The events read so far with one of these names, in chain order (no sync)."""
        return [e for e in self.events if e.name in names]


def read_events(
    gateway: Gateway, artifact: Artifact, address: str, names: tuple[str, ...], start_block: int = 0
) -> list[Event]:
    """Every event `names` of the contract from `start_block` to the latest block, once (a one-shot `EventLog`:
    in bounded ranges, for a command that reads the history and exits)."""
    log = EventLog(gateway, artifact, address, names, start_block)
    log.sync()
    return log.events
