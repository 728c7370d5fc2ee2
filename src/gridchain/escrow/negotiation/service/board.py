"""The board's state (schema `negotiation`): public listings, mailboxes of opaque envelopes, and the operator's
log of everything it saw. Every write is one transaction; the board keeps nothing in memory, so a restart loses
nothing.

The board checks what it can (a listing's fields, a mailbox's key, an envelope's size) and relays the rest
unread: it holds no key. It logs, as a hostile operator would, each request's time, mailbox, size, the
envelope's hash and the listings (`observations`): the privacy test hands that log to the attacker.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, Text, func, select

from gridchain.errors import InputError
from gridchain.escrow.negotiation.model import Listing, check_ciphertext, parse_key, parse_listing
from gridchain.store.engine import Store
from gridchain.store.migrate import Schema

MAILBOX_MAX = 256  # envelopes a mailbox holds (a thread puts 4 in its offer's, 3 in its buyer's): ~64 bids an offer
FETCH_MAX = 100  # envelopes one fetch returns
metadata = MetaData()
listings = Table(
    "negotiation_listings",
    metadata,
    Column("key", String(64), primary_key=True),  # the offer's one-time key
    Column("community", String(64), nullable=False, index=True),
    Column("listing", Text, nullable=False),  # Listing.to_json
    Column("expires", BigInteger, nullable=False),
    Column("posted_ms", BigInteger, nullable=False),
)
messages = Table(
    "negotiation_messages",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("mailbox", String(64), nullable=False, index=True),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("posted_ms", BigInteger, nullable=False),
)
observations = Table(
    "negotiation_observations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("time_ms", BigInteger, nullable=False),
    Column("event", String(16), nullable=False),  # listed | posted | fetched | listings
    Column("mailbox", String(64), nullable=True),
    Column("size", Integer, nullable=False),  # an envelope's bytes (posted); how many answered (fetched, listings)
    Column("detail", Text, nullable=False),  # JSON: the listing, the envelope's sha256, ...
)
SCHEMA = Schema("negotiation", metadata, Path(__file__).parent.parent / "migrations")


class Board:
    """The board over a store (migrated here). `clock` gives unix seconds (a simulation's, in experiments);
    `log(event, **fields)` hears of every change (the service's JSON-line log)."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], float] = time.time,
        log: Callable[..., object] | None = None,
    ) -> None:
        self.store, self.clock, self.log = store, clock, log
        store.migrate(SCHEMA)

    def _ms(self) -> int:
        return int(self.clock() * 1000)

    def post_offer(self, listing: object) -> Listing:
        """List an offer (a Listing or its JSON); its key must be new."""
        checked = listing if isinstance(listing, Listing) else parse_listing(listing)
        checked = parse_listing(checked.to_json())
        text, ms = json.dumps(checked.to_json()), self._ms()

        def work(c) -> None:
            if c.execute(select(listings.c.key).where(listings.c.key == checked.key)).first() is not None:
                raise InputError("key", "already lists an offer (a key is for one offer)")
            row = {"key": checked.key, "community": checked.community, "listing": text}
            c.execute(listings.insert().values(**row, expires=checked.expires, posted_ms=ms))
            _observe(c, ms, "listed", checked.key, len(text), checked.to_json())

        self.store.atomic(work)
        self._log("listed", key=checked.key, community=checked.community)
        return checked

    def offers(self, community: str) -> list[Listing]:
        """The community's listings not yet expired, oldest first."""
        now = int(self.clock())
        query = (
            select(listings.c.listing)
            .where(listings.c.community == community, listings.c.expires > now)
            .order_by(listings.c.posted_ms, listings.c.key)
        )
        found = self.store.read(lambda c: [parse_listing(json.loads(r.listing)) for r in c.execute(query)])
        self.store.atomic(lambda c: _observe(c, self._ms(), "listings", None, len(found), {"community": community}))
        return found

    def post(self, mailbox: str, ciphertext: object) -> int:
        """Put an envelope in a mailbox; its sequence number (increasing across the board)."""
        parse_key("mailbox", mailbox)
        check_ciphertext("ciphertext", ciphertext)
        ms = self._ms()

        def work(c) -> int:
            held = c.execute(select(func.count()).where(messages.c.mailbox == mailbox)).scalar()
            if held >= MAILBOX_MAX:
                raise InputError("mailbox", f"is full ({MAILBOX_MAX} envelopes)")
            seq = c.execute(messages.insert().values(mailbox=mailbox, ciphertext=ciphertext, posted_ms=ms))
            _observe(c, ms, "posted", mailbox, len(ciphertext), {"sha256": hashlib.sha256(ciphertext).hexdigest()})
            return int(seq.inserted_primary_key[0])

        seq = self.store.atomic(work)
        self._log("posted", mailbox=mailbox, seq=seq, size=len(ciphertext))
        return seq

    def fetch(self, mailbox: str, after: int = 0) -> list[tuple[int, bytes]]:
        """The mailbox's envelopes after sequence number `after`, oldest first, at most FETCH_MAX."""
        parse_key("mailbox", mailbox)
        query = (
            select(messages.c.seq, messages.c.ciphertext)
            .where(messages.c.mailbox == mailbox, messages.c.seq > after)
            .order_by(messages.c.seq)
            .limit(FETCH_MAX)
        )
        found = self.store.read(lambda c: [(int(r.seq), bytes(r.ciphertext)) for r in c.execute(query)])
        self.store.atomic(lambda c: _observe(c, self._ms(), "fetched", mailbox, len(found), {"after": after}))
        return found

    def observations(self) -> list[dict]:
        """Everything the operator logged, in order."""
        query = select(observations).order_by(observations.c.seq)
        return self.store.read(
            lambda c: [
                {
                    "time_ms": r.time_ms,
                    "event": r.event,
                    "mailbox": r.mailbox,
                    "size": r.size,
                    "detail": json.loads(r.detail),
                }
                for r in c.execute(query)
            ]
        )

    def counts(self) -> dict:
        """How many listings (live ones too) and envelopes the board holds."""
        now = int(self.clock())

        def work(c) -> dict:
            return {
                "listings": c.execute(select(func.count()).select_from(listings)).scalar(),
                "live_listings": c.execute(select(func.count()).where(listings.c.expires > now)).scalar(),
                "envelopes": c.execute(select(func.count()).select_from(messages)).scalar(),
            }

        return self.store.read(work)

    def _log(self, event: str, **fields: object) -> None:
        if self.log is not None:
            self.log(event, **fields)


def _observe(c, ms: int, event: str, mailbox: str | None, size: int, detail: dict) -> None:
    c.execute(
        observations.insert().values(time_ms=ms, event=event, mailbox=mailbox, size=size, detail=json.dumps(detail))
    )
