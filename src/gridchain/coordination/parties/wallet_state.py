"""An ESU wallet's state: its unused tokens and every request it keeps until the chain confirms it, in a database of
the wallet's own (`<wallet>/wallet.db`, SQLite, owner-only: it holds each token's one-time pseudonym key and the
token itself). The identity key is not here: it stays in its keystore.

Several commands may work on one wallet at once (`esu status --wait` polling while `esu request` spends a token,
`esu tokens` in a cron job), so nothing is a snapshot: every read is fresh and every change is one transaction on
the rows it touches. Spending a token deletes it and inserts its request in the same transaction (two commands
never get the same token); a request's row carries a version that each write compares, so a command never
overwrites what another one decided meanwhile; and a request is *claimed* (`sending`, with the signed body and
who sends it) before it goes to the relayer, so only one command sends it, and one found `sending` after a crash
is sent again as it was (`EsuWallet.refresh`).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, delete, func, insert, select, update

from gridchain.coordination.parties import wallet_tables as t
from gridchain.store.engine import Store, open_store, sqlite_url

DATABASE = "wallet.db"
OPEN = ("new", "sending", "unsent", "queued", "submitted", "late")  # statuses `status` still follows
"""new: signed, not yet sent (a wallet from before the database); sending: claimed by a command that is sending
it to the relayer now, or was when it crashed (then sent again as it was); unsent: the relayer could not be
reached; queued, submitted: the relayer's ticket (or, without one, the relayer or the chain held it already when
it was sent again); late: it missed its slot (refused, failed as late, or not on chain after the slot closed):
re-signed for the current slot with the same token. Final: confirmed (its arrival checked on chain), failed
(refused for another reason), expired (its token's epoch is over)."""
SEND_LEASE_S = 120  # a claim older than this is a crashed sender's (the relayer client times out after 30 s)
_NONCE = secrets.token_hex(4)


@dataclass
class Token:
    """A one-time pseudonym with the utility's blind token on it, for one community and epoch."""

    community: str
    epoch: int
    key: str  # the pseudonym's private key, 0x hex
    address: str
    token: str  # 0x hex of the 2048-bit token


@dataclass
class KeptRequest:
    """A request and the token it spends, kept until its arrival is confirmed on chain."""

    number: int  # the wallet's own running number (never sent anywhere)
    token: Token
    demand_w: int
    soc_pm: int
    tcc: int
    slot: int  # the slot it is signed for now
    status: str = "new"
    ticket: str | None = None  # the relayer's ticket id (a secret: whoever holds it may read it)
    arrival: int | None = None
    reason: str | None = None
    slots_tried: list[int] = field(default_factory=list)
    body: str | None = None  # the signed request last sent (JSON)
    claimed_by: str | None = None
    claimed_ms: int | None = None
    version: int = 0


def claimant() -> str:
    """Who is sending: this machine, process and thread (and a nonce against a reused process id)."""
    return f"{socket.gethostname()}/{os.getpid()}/{threading.get_ident()}/{_NONCE}"


def claim_is_live(kept: KeptRequest, now_ms: int | None = None) -> bool:
    """Whether another command is sending `kept` now: a claim by another thread of this process, or by a process
    of this machine that still runs, younger than the lease (a process of another machine: until the lease ends).
    A claim of this very thread is an interrupted send of its own: not live."""
    now_ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    if kept.status != "sending" or not kept.claimed_by or now_ms - (kept.claimed_ms or 0) > SEND_LEASE_S * 1000:
        return False
    if kept.claimed_by == claimant():
        return False
    host, pid, _thread, _nonce = kept.claimed_by.split("/")
    if host != socket.gethostname() or int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _token_of(row) -> Token:
    return Token(row.community, int(row.epoch), row.key, row.address, row.token)


def _request_of(row) -> KeptRequest:
    return KeptRequest(
        row.number,
        _token_of(row),
        int(row.demand_w),
        row.soc_pm,
        int(row.tcc),
        int(row.slot),
        row.status,
        row.ticket,
        None if row.arrival is None else int(row.arrival),
        row.reason,
        json.loads(row.slots_tried),
        row.body,
        row.claimed_by,
        row.claimed_ms,
        row.version,
    )


def request_row(kept: KeptRequest) -> dict:
    """The columns of `kept` (its version as it is)."""
    return {
        "number": kept.number,
        **token_row(kept.token),
        "demand_w": str(kept.demand_w),
        "soc_pm": kept.soc_pm,
        "tcc": kept.tcc,
        **_changing(kept),
    }


def token_row(token: Token) -> dict:
    return {
        "address": token.address,
        "community": token.community,
        "epoch": token.epoch,
        "key": token.key,
        "token": token.token,
    }


def _changing(kept: KeptRequest) -> dict:
    """The columns a request's life changes."""
    return {
        "slot": kept.slot,
        "status": kept.status,
        "ticket": kept.ticket,
        "arrival": None if kept.arrival is None else str(kept.arrival),
        "reason": kept.reason,
        "slots_tried": json.dumps(kept.slots_tried),
        "body": kept.body,
        "claimed_by": kept.claimed_by,
        "claimed_ms": kept.claimed_ms,
        "version": kept.version,
    }


class WalletState:
    """What an ESU's wallet holds: tokens, kept requests, tokens obtained per epoch, read fresh from `store`.

    The requests it hands out are the same objects from one read to the next (updated in place), so a caller
    holding one (the charge-point bridge) sees what a later `refresh` found."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._kept: dict[int, KeptRequest] = {}
        self._lock = threading.Lock()

    @classmethod
    def open(cls, folder: Path, field_name: str = "--wallet") -> WalletState:
        """The wallet in `folder`: its database (made owner-only if new, migrated), with a wallet.json of the
        file-based wallet imported once (see `wallet_import`); an unreadable one names `field_name`."""
        from gridchain.coordination.parties.wallet_import import import_json

        path = Path(folder) / DATABASE
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # before SQLite makes it with the umask's mode
        store = open_store(sqlite_url(path), field_name)
        store.migrate(t.SCHEMA)
        import_json(store, Path(folder), field_name)
        return cls(store)

    def close(self) -> None:
        self.store.close()

    # -- tokens -------------------------------------------------------------------------------------------
    @property
    def tokens(self) -> list[Token]:
        rows = self.store.read(lambda c: c.execute(select(t.tokens).order_by(t.tokens.c.address)).all())
        return [_token_of(r) for r in rows]

    def unused(self, community: str, epoch: int) -> list[Token]:
        query = select(t.tokens).where(t.tokens.c.community == community, t.tokens.c.epoch == epoch)
        return [_token_of(r) for r in self.store.read(lambda c: c.execute(query.order_by(t.tokens.c.address)).all())]

    def count_obtained(self, community: str, epoch: int) -> int:
        query = select(t.obtained.c.count).where(t.obtained.c.community == community, t.obtained.c.epoch == epoch)
        return self.store.read(lambda c: c.execute(query).scalar()) or 0

    def add_obtained(self, community: str, epoch: int, tokens: list[Token]) -> None:
        """Keep new tokens and count them as obtained for (community, epoch), in one transaction."""

        def work(c: Connection) -> None:
            if tokens:
                c.execute(insert(t.tokens), [token_row(x) for x in tokens])
            key = (t.obtained.c.community == community) & (t.obtained.c.epoch == epoch)
            if c.execute(update(t.obtained).where(key).values(count=t.obtained.c.count + len(tokens))).rowcount == 0:
                c.execute(insert(t.obtained).values(community=community, epoch=epoch, count=len(tokens)))

        self.store.atomic(work)

    # -- requests -----------------------------------------------------------------------------------------
    def take(
        self,
        community: str,
        epoch: int,
        demand_w: int,
        soc_pm: int,
        tcc: int,
        slot: int,
        sign: Callable[[Token], str] | None = None,
    ) -> KeptRequest | None:
        """Spend an unused token of (community, epoch) on a request for `slot`, in one transaction: the token
        leaves the unused ones and its request is kept, `sending` (claimed by this thread, with the body
        `sign(token)` made: pure, it may run twice) or `new` without `sign`. None if no token is left."""

        def work(c: Connection) -> KeptRequest | None:
            query = select(t.tokens).where(t.tokens.c.community == community, t.tokens.c.epoch == epoch)
            row = c.execute(query.order_by(t.tokens.c.address).limit(1)).first()
            if row is None:
                return None
            if c.execute(delete(t.tokens).where(t.tokens.c.address == row.address)).rowcount != 1:
                raise AssertionError(f"token {row.address} taken twice")  # serializable: cannot happen
            number = (c.execute(select(func.max(t.requests.c.number))).scalar() or 0) + 1
            kept = KeptRequest(number, _token_of(row), demand_w, soc_pm, tcc, slot, slots_tried=[slot])
            if sign is not None:
                kept.status, kept.body = "sending", sign(kept.token)
                kept.claimed_by, kept.claimed_ms = claimant(), _now_ms()
            c.execute(insert(t.requests).values(**request_row(kept)))
            return kept

        kept = self.store.atomic(work)
        return None if kept is None else self._merge(kept)

    @property
    def requests(self) -> list[KeptRequest]:
        """Every kept request, in order, as the database holds it now."""
        rows = self.store.read(lambda c: c.execute(select(t.requests).order_by(t.requests.c.number)).all())
        return [self._merge(_request_of(r)) for r in rows]

    def request(self, number: int) -> KeptRequest:
        """Request `number` as the database holds it now."""
        query = select(t.requests).where(t.requests.c.number == number)
        return self._merge(_request_of(self.store.read(lambda c: c.execute(query).one())))

    def arrivals(self) -> dict[int, int]:
        """The arrival number of each request that has one (request number -> arrival)."""
        query = select(t.requests.c.number, t.requests.c.arrival).where(t.requests.c.arrival.is_not(None))
        return {n: int(a) for n, a in self.store.read(lambda c: c.execute(query).all())}

    def record(self, kept: KeptRequest) -> bool:
        """Write what happened to `kept` if nobody changed it since it was read (its version); else reload it
        as it is now and return False (what the caller decided is dropped: another command decided first)."""
        expected = kept.version
        kept.version = expected + 1
        values = _changing(kept)
        where = (t.requests.c.number == kept.number) & (t.requests.c.version == expected)
        if self.store.atomic(lambda c: c.execute(update(t.requests).where(where).values(**values)).rowcount) == 1:
            return True
        fresh = self.request(kept.number)
        if fresh is not kept:  # not this state's object (another command's): reload it all the same
            kept.__dict__.update(vars(fresh))
        return False

    def claim(self, kept: KeptRequest, body: str, slot: int, signed_now: bool = True) -> bool:
        """Claim `kept` for sending `body` (signed for `slot`: now, or before, when a crashed send is resumed) from
        this thread: `sending`, written before it goes out. False (and `kept` reloaded) if another command
        changed it first."""
        kept.status, kept.body, kept.claimed_by, kept.claimed_ms = "sending", body, claimant(), _now_ms()
        kept.ticket, kept.reason, kept.slot = None, None, slot
        if signed_now:
            kept.slots_tried = [*kept.slots_tried, slot]
        return self.record(kept)

    def _merge(self, fresh: KeptRequest) -> KeptRequest:
        """The one object for request `fresh.number`, updated in place to `fresh`."""
        with self._lock:
            known = self._kept.setdefault(fresh.number, fresh)
            if known is not fresh:
                known.__dict__.update(fresh.__dict__)
            return known
