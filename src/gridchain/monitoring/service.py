"""The monitor as a durable service (`gridchain monitor`): rounds over the store and the chain, each alert once.

A round:
1. reads the access log's new `Attested` events (blocks after the stored cursor up to the head less
   `confirmations`) and stores their roots with the cursor in one transaction (indices must continue 0, 1, ...);
2. judges the published batches whose index the log attested and the processing nodes' threads, both from the
   store, against the chain's consents (`model.audit`; records younger than `grace_s` are not alerted yet);
3. stores each new alert: a notice as `notified`; an on-chain kind as `reporting` in the transaction that finds
   it new, then `report`s it and moves it to `reported` (the `Breach` event's reason, the transaction, its gas)
   or `unreportable` (the contract cannot take it: the reason in its detail).

An alert left `reporting` by a crash is settled first (at every round): if the chain has a `Breach` for its
record's leaf, it is `reported` with that event's reason and transaction; else it is sent again. So nothing is
reported twice and nothing is lost. One service per store (the caller holds a lease).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import Connection, select

from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.model.audit import BAD_BATCH, Alert, audit
from gridchain.monitoring.model.consent import Grant
from gridchain.monitoring.model.records import RecordBatch
from gridchain.monitoring.parties import Unreportable, report_alert
from gridchain.monitoring.store import AccessStore, AlertRow
from gridchain.monitoring.store import alerts as alert_table

ALREADY = "record already reported"  # data_access.vy's revert when a Breach for the leaf is on chain


class LogGap(RuntimeError):
    """The log's `Attested` events do not continue the stored roots (a gap or a repeat)."""


def alert_key(a: Alert) -> str:
    """What makes an alert the same one in a later round: kind, household, seq and the record's leaf (for a
    batch that does not make its root, which names no household: the batch, from the detail)."""
    leaf = "" if a.record is None else a.record.leaf().hex()
    where = a.detail.split(":")[0] if a.kind == BAD_BATCH else ""
    return f"{a.kind}|{a.household}|{'' if a.seq is None else a.seq}|{leaf}|{where}"[:200]


class MonitorService:
    """Judges what the store holds against the chain, round by round; reports from `account`."""

    def __init__(
        self,
        consent: ConsentClient,
        log: AccessLogClient,
        store: AccessStore,
        account: str,
        clock: Callable[[], int],
        from_block: int = 0,
        grace_s: int = 86_400,
        confirmations: int = 0,
    ) -> None:
        self.consent = consent
        self.log = log
        self.store = store
        self.account = account
        self.clock = clock
        self.from_block = from_block
        self.grace_s = grace_s
        self.confirmations = confirmations

    # -- a round ----------------------------------------------------------------------------------------------
    def round(self) -> dict:
        """One round; its summary (JSON-able): roots read, alerts raised by state, head and lag."""
        now = self.clock()
        states: Counter[str] = Counter()
        settled = self.settle()
        head, new_roots, cursor = self.read_roots()
        roots = self.store.roots()
        published = self.store.batches()
        threads = self.store.threads()
        terms = self.consent.grants(self.from_block)
        batches = [(b, roots[b.index]) for b in published if b.index < len(roots)]
        pending = {r.leaf() for rs in threads.values() for r in rs if r.time > now - self.grace_s}
        found = audit(self.consent.mirror(self.from_block), terms, batches, threads, pending)
        new = []
        chain_roots = None
        for a in found:
            on_chain = a.on_chain and a.record is not None and a.batch is not None
            alert_id = self._add(a, "reporting" if on_chain else "notified", now)
            if alert_id is None:
                continue
            state = "notified"
            if on_chain:
                chain_roots = chain_roots if chain_roots is not None else self.chain_roots(roots)
                state = self._send(alert_id, a, chain_roots, published, terms)
            states[state] += 1
            new.append({"id": alert_id, "kind": a.kind, "household": a.household, "seq": a.seq, "state": state})
        return {
            "event": "round",
            "at": now,
            "new_roots": new_roots,
            "roots": len(roots),
            "alerts": dict(states),
            "new_alerts": new,
            "settled": settled,
            "head": head,
            "lag": max(0, head - self.confirmations - cursor),
        }

    # -- the log's roots --------------------------------------------------------------------------------------
    def cursor(self) -> int:
        """The last block whose `Attested` events are stored."""
        return int(self.store.value("roots_block", str(self.from_block - 1)))

    def read_roots(self) -> tuple[int, int, int]:
        """Store the roots attested since the cursor, up to the head less the confirmations; (head, how many
        new, the cursor after). LogGap if they do not continue the stored ones."""
        head = self.log.gateway.block_number()
        cursor = self.cursor()
        upto = head - self.confirmations
        if upto <= cursor:
            return head, 0, cursor
        events = self.log.events("Attested", cursor + 1, upto)
        rows = self._continue(len(self.store.roots()), events)
        self.store.put_roots(rows, upto)
        return head, len(rows), upto

    def chain_roots(self, roots: list[bytes]) -> list[bytes]:
        """`roots` and any the log attested after them (not yet confirmed): a report must chain up to the head
        the log holds now."""
        if len(roots) >= self.log.batches():
            return roots
        return roots + [
            root for _, root, _ in self._continue(len(roots), self.log.events("Attested", self.cursor() + 1))
        ]

    @staticmethod
    def _continue(count: int, events) -> list[tuple[int, bytes, int]]:
        rows = sorted((int(e.args["index"]), bytes(e.args["root"]), e.block) for e in events)
        if [i for i, _, _ in rows] != list(range(count, count + len(rows))):
            raise LogGap(f"the log's Attested events {[i for i, _, _ in rows]} do not continue {count} stored roots")
        return rows

    # -- alerts -----------------------------------------------------------------------------------------------
    def _add(self, a: Alert, state: str, now: int) -> int | None:
        """Store `a` in `state` unless its key is stored: its id, or None (in one transaction)."""
        key = alert_key(a)

        def work(c: Connection) -> int | None:
            if c.execute(select(alert_table.c.id).where(alert_table.c.key == key)).first() is not None:
                return None
            more = {"seq": a.seq, "detail": a.detail, "batch": a.batch, "position": a.position, "record": a.record}
            return self.store.add_alert(c, key, a.kind, a.household, state, now, **more)

        return self.store.store.atomic(work)

    def _send(
        self,
        alert_id: int,
        a: Alert,
        roots: Sequence[bytes],
        published: Sequence[RecordBatch],
        terms: Mapping[bytes, Grant],
    ) -> str:
        """Report a stored `reporting` alert; its state after (reported, unreportable, or reporting if the
        chain says it is reported but the event is not found yet)."""
        batch = next((b for b in published if b.index == a.batch), None)
        try:
            if batch is None:
                raise Unreportable(f"batch {a.batch} is not in the store")
            receipt = report_alert(self.consent, self.account, a, roots, batch, terms)
        except Unreportable as e:
            if ALREADY in e.reason:  # reported by someone (or by us before a crash): take the chain's event
                return self._settle_from_chain(alert_id, a.record.leaf())
            self.store.set_alert(alert_id, state="unreportable", detail=f"{a.detail}; not reportable: {e.reason}")
            return "unreportable"
        (event,) = receipt.named("Breach")
        reason = int(event.args["reason"])
        self.store.set_alert(alert_id, state="reported", reason=reason, tx_hash=receipt.tx_hash, gas=receipt.gas_used)
        return "reported"

    def _breaches(self) -> dict[bytes, object]:
        """The chain's `Breach` events by the record's leaf."""
        return {bytes(e.args["record"]): e for e in self.consent.events("Breach", self.from_block)}

    def _settle_from_chain(self, alert_id: int, leaf: bytes, breaches: Mapping | None = None) -> str:
        event = (self._breaches() if breaches is None else breaches).get(leaf)
        if event is None:
            return "reporting"  # to be settled by a later round
        self.store.set_alert(alert_id, state="reported", reason=int(event.args["reason"]), tx_hash=event.tx_hash)
        return "reported"

    def settle(self) -> dict:
        """Settle every alert left `reporting` (by a crash): reported by the chain's event, or sent again;
        how many of each."""
        left = self.store.alerts(states=("reporting",))
        if not left:
            return {}
        breaches = self._breaches()
        out: Counter[str] = Counter()
        published = None
        for row in left:
            if row.record is not None and row.record.leaf() in breaches:
                out[self._settle_from_chain(row.id, row.record.leaf(), breaches)] += 1
                continue
            if published is None:
                published = self.store.batches()
                roots = self.chain_roots(self.store.roots())
                terms = self.consent.grants(self.from_block)
            out["sent again: " + self._send(row.id, _alert_of(row), roots, published, terms)] += 1
        return dict(out)


def _alert_of(row: AlertRow) -> Alert:
    return Alert(row.kind, row.household, row.seq, row.detail, row.record, row.batch, row.position)
