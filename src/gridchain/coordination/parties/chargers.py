"""The charge-point operator's bridge into coordination: each charging transaction becomes an anonymous charging
request through the ESU path, and each slot's grant goes back to its charge point as a power limit.

Told by the central system (on its thread: it only takes note) when a transaction starts, what state of charge
the EV reports, and when it stops; on a thread of its own (`run`), for every transaction of a bridged charge
point it:
- sends one request from the charge point's wallet (`EsuWallet`: a blind token, a one-time pseudonym, the
  relayer): the SoC from the transaction's MeterValues if it came within `soc_wait_s`, else the stated need's;
- follows it (`EsuWallet.refresh`: a request that missed its slot is signed again for the next one);
- at each close of a slot, pushes the power the chain granted the request for the slot now starting, through
  `push(cp_id, limit_w) -> the charge point's answer`. A transaction without a grant in that slot (its request
  not confirmed yet, deferred, served in full or expired) gets 0 W: under coordination an EV draws only what the
  community granted it. A limit equal to the one last pushed is not sent again; of several closes read at once
  only the last counts (its slot is the one starting).
When the transaction stops the bridge forgets it (the wallet keeps the request's record).

Plain values in: the wallets, a refill callable per charge point (`obtain_tokens` from the utility), the stated
need, `push` and `log(action, fields)`. Its state is the open transactions and the close reader's checkpoint
(issue 17 persists them).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from gridchain.chain.events import ChainReorganized
from gridchain.chain.gateway import ChainRevert
from gridchain.coordination.anonymous.parties.issuer import IssuanceError
from gridchain.coordination.model.request import SOC_PM_MAX
from gridchain.coordination.parties.closes import ClosedSlot, SlotCloses
from gridchain.coordination.parties.wallet import EsuWallet, Unreachable
from gridchain.coordination.parties.wallet_state import KeptRequest
from gridchain.errors import InputError

UNSETTLED = ("new", "sending", "unsent", "queued", "submitted")  # the relayer or the chain has not told yet
RETRY_S = 5.0  # [s] before a request that failed (no token, say) is tried again
CHAIN_ERRORS = (httpx.HTTPError, OSError, ChainRevert, ValueError)  # a node that did not answer (try again later)


@dataclass(frozen=True)
class StatedNeed:
    """What a request asks when the EV reports nothing: demand [W], state of charge [per-mille], slots to
    complete (TCC)."""

    demand_w: int
    soc_pm: int
    tcc: int


@dataclass
class BridgedCharger:
    """A bridged charge point: its wallet, and how to top the wallet's tokens up (the utility's issuance)."""

    wallet: EsuWallet
    refill: Callable[[], object]


@dataclass
class Transaction:
    """A bridged transaction as the bridge follows it."""

    cp_id: str
    transaction_id: int
    started_s: float  # the bridge's clock when it started
    soc_pm: int | None = None  # from its MeterValues
    request: KeptRequest | None = None
    pushed_w: int | None = None  # the last limit sent to the charge point
    stopped: bool = False
    retry_s: float = 0.0  # a request that failed is not tried again before this time of the bridge's clock


class ChargerBridge:
    def __init__(
        self,
        chargers: dict[str, BridgedCharger],
        closes: SlotCloses,
        push: Callable[[str, int], str],
        need: StatedNeed,
        log: Callable[[str, dict], None],
        soc_wait_s: float = 5.0,
        settle_wait_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`soc_wait_s`: how long after its start a transaction waits for a MeterValues with the SoC [s];
        `settle_wait_s`: how long a close waits for a request of its slot still unsettled at the relayer [s]."""
        self.chargers = chargers
        self.closes = closes
        self.push = push
        self.need = need
        self.log = log
        self.soc_wait_s = soc_wait_s
        self.settle_wait_s = settle_wait_s
        self.clock = clock
        self.transactions: dict[tuple[str, int], Transaction] = {}
        self._lock = threading.Lock()
        self._ready: list[ClosedSlot] = []  # closes read, not yet pushed
        self._waiting_since: float | None = None

    # -- told by the central system (its thread) -------------------------------------------------------------
    def transaction_started(self, cp_id: str, transaction_id: int) -> None:
        if cp_id in self.chargers:
            with self._lock:
                self.transactions.setdefault((cp_id, transaction_id), Transaction(cp_id, transaction_id, self.clock()))

    def soc(self, cp_id: str, transaction_id: int, soc_pm: int) -> None:
        with self._lock:
            tx = self.transactions.get((cp_id, transaction_id))
            if tx is not None and tx.soc_pm is None:
                tx.soc_pm = soc_pm

    def transaction_stopped(self, cp_id: str, transaction_id: int) -> None:
        with self._lock:
            tx = self.transactions.get((cp_id, transaction_id))
            if tx is not None:
                tx.stopped = True

    # -- its own thread ------------------------------------------------------------------------------------
    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        """Top the wallets up, then `step` every `interval_s` until `stop` is set; a node or service that does
        not answer is logged and tried again at the next step."""
        for cp_id in self.chargers:
            self._refill(cp_id)
        while not stop.wait(interval_s):
            try:
                self.step()
            except ChainReorganized as e:  # read the history again; the closes already pushed stay pushed
                self.closes.client.reset_history()
                self.log("bridge step failed", {"reason": f"chain reorganised: {e}"})
            except CHAIN_ERRORS as e:
                self.log("bridge step failed", {"reason": str(e)[:300]})

    def step(self) -> None:
        """Forget stopped transactions, send due requests, follow them, push the grants of new closes."""
        with self._lock:
            for key in [k for k, tx in self.transactions.items() if tx.stopped]:
                tx = self.transactions.pop(key)
                self.log("transaction unbridged", {"cp_id": tx.cp_id, "transaction_id": tx.transaction_id})
            open_txs = list(self.transactions.values())
        for tx in open_txs:
            waited = tx.soc_pm is not None or self.clock() - tx.started_s >= self.soc_wait_s
            if tx.request is None and waited and self.clock() >= tx.retry_s:
                self._request(tx)
        self._follow({tx.cp_id for tx in open_txs if tx.request is not None})
        self._ready += self.closes.new()
        while self._ready:
            closed = self._ready[0]
            if not self._settled(open_txs, closed.slot):
                return
            self._ready.pop(0)
            if self._ready:  # a later close is read already: its slot is the one now starting
                continue
            for tx in open_txs:
                self._push(tx, closed)

    def _request(self, tx: Transaction) -> None:
        wallet = self.chargers[tx.cp_id].wallet
        soc_pm = min(tx.soc_pm, SOC_PM_MAX) if tx.soc_pm is not None else self.need.soc_pm
        before = len(wallet.state.requests)
        try:
            try:
                wallet.request(self.need.demand_w, soc_pm, self.need.tcc)
            except InputError as e:
                if e.field != "--wallet":  # not a want of tokens: the request itself is wrong
                    raise
                self._refill(tx.cp_id)
                wallet.request(self.need.demand_w, soc_pm, self.need.tcc)
        except Unreachable:
            pass  # kept in the wallet as unsent: `refresh` sends it again
        except InputError as e:
            tx.retry_s = self.clock() + RETRY_S
            self.log("request failed", {"cp_id": tx.cp_id, "transaction_id": tx.transaction_id, "reason": str(e)})
            return
        if len(wallet.state.requests) == before:
            return
        tx.request = r = wallet.state.requests[-1]
        if not wallet.state.unused(wallet.community, r.token.epoch):  # low: top up for the next transaction
            self._refill(tx.cp_id)
        self.log(
            "request sent",
            {
                "cp_id": tx.cp_id,
                "transaction_id": tx.transaction_id,
                "request": r.number,
                "slot": r.slot,
                "demand_w": r.demand_w,
                "soc_pm": r.soc_pm,
                "soc_from": "meter values" if tx.soc_pm is not None else "stated need",
                "tcc": r.tcc,
                "status": r.status,
                "reason": r.reason,
            },
        )

    def _refill(self, cp_id: str) -> None:
        try:
            got = self.chargers[cp_id].refill()
        except (InputError, IssuanceError, httpx.HTTPError, OSError) as e:
            self.log("tokens failed", {"cp_id": cp_id, "reason": str(e)[:300]})
            return
        self.log("tokens", {"cp_id": cp_id, "epochs": [vars(t) for t in got]})

    def _follow(self, cp_ids: set[str]) -> None:
        for cp_id in sorted(cp_ids):
            for kept, note in self.chargers[cp_id].wallet.refresh():
                if note:
                    fields = {"cp_id": cp_id, "request": kept.number, "status": kept.status, "note": note}
                    self.log("request followed", fields)

    def _settled(self, open_txs: list[Transaction], slot: int) -> bool:
        """Whether every request that may be in `slot`'s close is settled (its arrival known or known missing);
        after `settle_wait_s` the close goes ahead anyway (an unsettled request then counts as not granted)."""
        unsettled = [t for t in open_txs if t.request and t.request.status in UNSETTLED and t.request.slot <= slot]
        if not unsettled:
            self._waiting_since = None
            return True
        if self._waiting_since is None:
            self._waiting_since = self.clock()
        if self.clock() - self._waiting_since < self.settle_wait_s:
            return False
        self._waiting_since = None
        return True

    def _push(self, tx: Transaction, closed: ClosedSlot) -> None:
        r = tx.request
        granted = closed.grant_of(r.arrival) if r and r.status == "confirmed" and r.arrival is not None else None
        limit_w = granted or 0
        if limit_w == tx.pushed_w:
            return
        try:
            answer = self.push(tx.cp_id, limit_w)
        except (LookupError, ConnectionError, TimeoutError, RuntimeError) as e:
            answer = f"not sent: {e}"
        else:
            tx.pushed_w = limit_w
        self.log(
            "profile sent",
            {
                "cp_id": tx.cp_id,
                "transaction_id": tx.transaction_id,
                "slot": closed.slot + 1,
                "closed_slot": closed.slot,
                "request": r.number if r else None,
                "granted_w": granted,
                "limit_w": limit_w,
                "answer": answer,
            },
        )
