"""A provider EV's durable state (schema `v2v_provider`): its sessions, every receipt its consumers signed, its
settlements and its bids, so that a provider killed at any point restarts with every acknowledged receipt and
settles each trade once.

Rules the provider keeps with it (gridchain.v2v.parties.ev and .provider):
- a session, a delivery and a receipt are written (one `Store.atomic` each) before the HTTP answer that
  acknowledges them; the session secret is kept, so the consumer goes on with the same session after a restart;
- a settlement's intent (state `sent`, the chain's head then) is written before its transaction is sent, and its
  outcome after; a settlement found `sent` at a restart is looked up on chain (the trade closed? by which
  transaction?) before anything is sent again;
- a bid is written before it is sent, so a restarted provider does not underbid its own unconfirmed bid.
Every row carries the provider's address: providers of one deployment share the database. Amounts [Wh, wei] are
decimal TEXT (uint64 and uint80 do not fit a signed 64-bit column); tokens, secrets and signatures 0x-hex.
The auction book is not stored: it is rebuilt from the chain at start (read-only and idempotent).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import BigInteger, Column, Connection, Integer, MetaData, String, Table, Text, insert, select, update

from gridchain.store.engine import Store
from gridchain.store.migrate import Schema
from gridchain.v2v.client import SignedReceipt
from gridchain.v2v.parties.ev import Session

metadata = MetaData()
ADDRESS, HEX32, WH, WEI = String(42), String(66), String(20), String(40)
sessions_table = Table(
    "v2v_provider_sessions",
    metadata,
    Column("provider", ADDRESS, primary_key=True),
    Column("token", HEX32, primary_key=True),
    Column("consumer", ADDRESS, nullable=False),
    Column("amount_wh", WH, nullable=False),
    Column("expires_at", BigInteger, nullable=False),  # [s] chain time
    Column("secret", HEX32, nullable=False),
    Column("delivered_wh", WH, nullable=False),
    Column("state", String(16), nullable=False),  # open, closed (its settlement is final)
    Column("opened_at", BigInteger, nullable=False),  # [s] wall clock
)
receipts_table = Table(
    "v2v_provider_receipts",
    metadata,
    Column("provider", ADDRESS, primary_key=True),
    Column("token", HEX32, primary_key=True),
    Column("delivered_wh", WH, primary_key=True),
    Column("signature", String(132), nullable=False),
    Column("received_at", BigInteger, nullable=False),  # [s] wall clock
)
settlements_table = Table(
    "v2v_provider_settlements",
    metadata,
    Column("provider", ADDRESS, primary_key=True),
    Column("token", HEX32, primary_key=True),
    Column("consumer", ADDRESS, nullable=False),
    Column("delivered_wh", WH, nullable=False),  # the receipt it settles with
    Column("state", String(16), nullable=False),  # sent, settled, closed (by another transaction), refused
    Column("from_block", BigInteger, nullable=False),  # the head when it was sent: TradeClosed is at or above
    Column("attempts", Integer, nullable=False),
    Column("tx_hash", String(66)),  # the transaction that closed the trade
    Column("outcome", Text),  # JSON: TradeClosed's values, who closed it, or the refusal's reason
    Column("updated_at", BigInteger, nullable=False),
)
bids_table = Table(
    "v2v_provider_bids",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("provider", ADDRESS, nullable=False, index=True),
    Column("consumer", ADDRESS, nullable=False),
    Column("rate_wei_per_kwh", WEI, nullable=False),
    Column("head_block", BigInteger, nullable=False),  # the head when it was sent
    Column("block", BigInteger),  # where it was mined (None: sent, not known to be mined)
    Column("tx_hash", String(66)),
    Column("sent_at", BigInteger, nullable=False),
)
SCHEMA = Schema("v2v_provider", metadata, Path(__file__).parent / "migrations" / "provider")
FINAL = ("settled", "closed", "refused")


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


@dataclass(frozen=True)
class Settlement:
    """A settlement as stored: `state` sent (its outcome unknown), settled, closed or refused."""

    token: bytes
    consumer: str
    delivered_wh: int
    state: str
    from_block: int
    attempts: int
    tx_hash: str | None
    outcome: dict | None


class ProviderStore:
    """One provider's rows in the deployment's store (`provider`: its address; rows of others are not seen)."""

    def __init__(self, store: Store, provider: str) -> None:
        self.store = store
        self.provider = provider.lower()

    def _key(self, table: Table, token: bytes):
        return (table.c.provider == self.provider) & (table.c.token == _hex(token))

    # -- sessions and receipts ----------------------------------------------------------------------------
    def opened(self, session: Session) -> None:
        """A session the provider is about to acknowledge (its Proof)."""
        row = {
            "provider": self.provider,
            "token": _hex(session.token),
            "consumer": session.consumer,
            "amount_wh": str(session.amount_wh),
            "expires_at": session.expires_at,
            "secret": _hex(session.secret),
            "delivered_wh": str(session.delivered_wh),
            "state": "open",
            "opened_at": int(time.time()),
        }
        self.store.atomic(lambda c: c.execute(insert(sessions_table).values(row)))

    def delivered(self, token: bytes, delivered_wh: int) -> None:
        """The energy delivered so far in a session [Wh], before the provider says so."""
        values = {"delivered_wh": str(delivered_wh)}
        self.store.atomic(
            lambda c: c.execute(update(sessions_table).where(self._key(sessions_table, token)).values(values))
        )

    def receipted(self, receipt: SignedReceipt) -> None:
        """A consumer's signed receipt, before the provider acknowledges it (kept once per amount)."""
        row = {
            "provider": self.provider,
            "token": _hex(receipt.token),
            "delivered_wh": str(receipt.delivered_wh),
            "signature": _hex(receipt.signature),
            "received_at": int(time.time()),
        }

        def work(c: Connection) -> None:
            key = self._key(receipts_table, receipt.token) & (receipts_table.c.delivered_wh == row["delivered_wh"])
            if c.execute(select(receipts_table.c.token).where(key)).first() is None:
                c.execute(insert(receipts_table).values(row))

        self.store.atomic(work)

    def sessions(self) -> list[Session]:
        """The sessions not closed yet, each with its best receipt (the most energy: the one that settles)."""

        def work(c: Connection) -> list[Session]:
            mine = (sessions_table.c.provider == self.provider) & (sessions_table.c.state == "open")
            rows = c.execute(select(sessions_table).where(mine).order_by(sessions_table.c.opened_at)).all()
            signed = c.execute(select(receipts_table).where(receipts_table.c.provider == self.provider)).all()
            best: dict[str, SignedReceipt] = {}
            for r in signed:
                candidate = SignedReceipt(
                    bytes.fromhex(r.token[2:]), int(r.delivered_wh), bytes.fromhex(r.signature[2:])
                )
                if r.token not in best or candidate.delivered_wh > best[r.token].delivered_wh:
                    best[r.token] = candidate
            return [
                Session(
                    r.consumer,
                    bytes.fromhex(r.token[2:]),
                    int(r.amount_wh),
                    r.expires_at,
                    bytes.fromhex(r.secret[2:]),
                    int(r.delivered_wh),
                    best.get(r.token),
                )
                for r in rows
            ]

        return self.store.read(work)

    # -- settlements --------------------------------------------------------------------------------------
    def settling(self, token: bytes, consumer: str, delivered_wh: int, head_block: int) -> None:
        """The intent to settle, written before the transaction is sent (state `sent`; a retry counts up)."""

        def work(c: Connection) -> None:
            key = self._key(settlements_table, token)
            attempts = c.execute(select(settlements_table.c.attempts).where(key)).scalar()
            values = {"state": "sent", "delivered_wh": str(delivered_wh), "updated_at": int(time.time())}
            if attempts is None:
                row = {"provider": self.provider, "token": _hex(token), "consumer": consumer, **values}
                c.execute(insert(settlements_table).values({**row, "from_block": head_block, "attempts": 1}))
            else:
                c.execute(update(settlements_table).where(key).values({**values, "attempts": attempts + 1}))

        self.store.atomic(work)

    def finished(self, token: bytes, state: str, tx_hash: str | None, outcome: dict) -> None:
        """A settlement's final outcome (settled, closed or refused); its session is closed with it."""
        if state not in FINAL:
            raise ValueError(f"state {state!r} is not one of {FINAL}")
        values = {"state": state, "tx_hash": tx_hash, "outcome": json.dumps(outcome), "updated_at": int(time.time())}

        def work(c: Connection) -> None:
            c.execute(update(settlements_table).where(self._key(settlements_table, token)).values(values))
            c.execute(update(sessions_table).where(self._key(sessions_table, token)).values(state="closed"))

        self.store.atomic(work)

    def settlements(self) -> dict[bytes, Settlement]:
        """Every settlement of this provider, by token."""

        def work(c: Connection) -> dict[bytes, Settlement]:
            rows = c.execute(select(settlements_table).where(settlements_table.c.provider == self.provider)).all()
            return {
                bytes.fromhex(r.token[2:]): Settlement(
                    bytes.fromhex(r.token[2:]),
                    r.consumer,
                    int(r.delivered_wh),
                    r.state,
                    r.from_block,
                    r.attempts,
                    r.tx_hash,
                    json.loads(r.outcome) if r.outcome else None,
                )
                for r in rows
            }

        return self.store.read(work)

    # -- bids ---------------------------------------------------------------------------------------------
    def bidding(self, consumer: str, rate_wei_per_kwh: int, head_block: int) -> int:
        """A bid about to be sent; its id (for `bid_sent`)."""
        row = {
            "provider": self.provider,
            "consumer": consumer.lower(),
            "rate_wei_per_kwh": str(rate_wei_per_kwh),
            "head_block": head_block,
            "sent_at": int(time.time()),
        }
        return self.store.atomic(lambda c: c.execute(insert(bids_table).values(row)).inserted_primary_key[0])

    def bid_sent(self, bid_id: int, block: int, tx_hash: str) -> None:
        values = {"block": block, "tx_hash": tx_hash}
        self.store.atomic(lambda c: c.execute(update(bids_table).where(bids_table.c.id == bid_id).values(values)))

    def last_bids(self) -> dict[str, int]:
        """Per consumer (lower case), the block of this provider's last bid: where it was mined, or, if that is
        not known (killed before the receipt), one above the head it was sent at (the earliest it can be)."""

        def work(c: Connection) -> dict[str, int]:
            rows = c.execute(
                select(bids_table).where(bids_table.c.provider == self.provider).order_by(bids_table.c.id)
            ).all()
            return {r.consumer: r.block if r.block is not None else r.head_block + 1 for r in rows}

        return self.store.read(work)
