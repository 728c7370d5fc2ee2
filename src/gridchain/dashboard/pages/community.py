"""The community page: slot by slot, C - P_R against the power granted, what each close did and what it cost,
and whether each schedule on chain is the rule's (recomputed by the core model, as `gridchain verify` does).

The coordinator's history comes from the index; calldata of closes and receipts from the node, each read once.
The view is recomputed only when the index's checkpoint moves; an open page polls `/api/community?after=N` and
gets the slots closed since.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from gridchain.chain.events import ChainReorganized
from gridchain.coordination.client import HISTORY, CoordinatorClient, Submission
from gridchain.coordination.model.coordinator import UNSET, request_id, unpack
from gridchain.coordination.model.verify import ChainRecords, Verdict, verify_slots
from gridchain.coordination.parties.verifier import fetch_records
from gridchain.dashboard.deployment import Deployment
from gridchain.index.reader import IndexedLog

TITLE, PATH = "Community", "/community"
TABLE_ROWS = 200  # the page's table shows the newest slots; the chart and the API have them all


class ReadOnce(IndexedLog):
    """The coordinator's history from the index, read when the view says so (`due`), not at every accessor's
    sync: the records of one request take several accessors, each of which would read the index and ask the
    node for a block hash again."""

    due = True

    def sync(self):
        if not self.due:
            return []
        self.due = False
        fresh = self.checkpoint_hash is None
        new = super().sync()
        if fresh and self.checkpoint_hash is not None:  # a first read has nothing to compare: check it now
            now = self.gateway.block_hash(self.checkpoint)
            if now != self.checkpoint_hash:  # the index still holds a branch the chain left
                raise ChainReorganized(self.checkpoint, self.checkpoint_hash, now)
        return new


class CommunityView:
    """The coordinator's slots as rows, recomputed from the index when its checkpoint moves."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._lock = threading.Lock()
        self._client: CoordinatorClient | None = None
        self._key: tuple[int, str | None] | None = None
        self._rows: list[dict[str, Any]] = []
        self._verdicts: list[Verdict] = []
        self._records: ChainRecords | None = None  # what the verdicts were computed from
        self._pending: dict[int, list[int]] = {}  # slot -> the packed requests its close was given, in order
        self._where: dict[int, list[tuple[int, int]]] = {}  # arrival -> (slot, its index in the slot's pending)
        self._submitted: dict[int, Submission] = {}  # arrival -> its submission
        self._gas: dict[str, int] = {}  # close tx -> gas used (a mined transaction does not change)

    def state(self) -> dict[str, Any]:
        """The summary and every slot's row (the newest index read)."""
        with self._lock:
            address = self.deployment.address("coordinator")
            if address is None:
                return {"coordinator": None, "note": "no coordinator deployed (gridchain deploy coordinator)"}
            checkpoint = self.deployment.checkpoint("coordinator")
            if checkpoint is None or checkpoint.address != address:
                return {"coordinator": address, "note": "the index holds no events of it yet: run gridchain index run"}
            if not self._refresh(address):
                note = "the chain reorganised under the index: waiting for the indexer to roll it back"
                return {**self._summary(address, checkpoint.block), "note": note}
            return self._summary(address, checkpoint.block)

    def slot(self, slot: int) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """A closed slot's row and its allocations in the rule's order (None if it is not closed)."""
        state = self.state()
        with self._lock:
            if "rows" not in state or not 0 <= slot < len(self._verdicts):
                return None
            return self._rows[slot], self._allocations(slot)

    def stories(self, arrivals: Iterable[int]) -> dict[str, Any]:
        """What the index holds of each of `arrivals` (a household's requests): its submission and, for every
        closed slot it was pending in, its allocation as the slot's page gives it, with the slot's verdict. The
        summary of `state()` beside them; an arrival the index holds no submission of maps to None."""
        state = self.state()
        with self._lock:
            if "rows" not in state:
                return {**state, "stories": {}}
            return {**state, "stories": {a: self._story(a) for a in arrivals}}

    def _story(self, arrival: int) -> dict[str, Any] | None:
        submission = self._submitted.get(arrival)
        if submission is None:
            return None
        slots = []
        for slot, index in self._where.get(arrival, []):
            allocation = self._allocation(slot, index, self._fates(slot))
            of = len(self._pending[slot])
            slots.append({**allocation, "slot": slot, "of": of, "verdict": self._rows[slot]["verdict"]})
        request = unpack(submission.request)
        fields = {"demand_w": request.demand_w, "soc_pm": request.soc_pm, "tcc": request.tcc}
        return {"id": request.id, "slot": submission.slot, "tx": submission.tx_hash, **fields, "slots": slots}

    def _refresh(self, address: str) -> bool:
        """Read what the index added and recompute if its checkpoint moved; False if the chain reorganised
        under the index and the indexer has not rolled it back yet (the rows stay the last ones read)."""
        for _ in range(2):  # a reorganisation: once more, from a fresh read of the index
            try:
                if self._client is None or self._client.address != address:
                    self._client = self._attach(address)
                self._client.log.due = True  # one read of the index per request, not one per accessor
                self._client.sync()
                key = (self._client.log.checkpoint, self._client.log.checkpoint_hash)
                if key != self._key:
                    self._recompute()
                    self._key = key
                return True
            except ChainReorganized:
                self._client = None
        return False

    def _attach(self, address: str) -> CoordinatorClient:
        d = self.deployment
        client = CoordinatorClient(d.gateway, address, None, d.start_block("coordinator"))
        client.log = ReadOnce(d.reader, "coordinator", client.artifact, HISTORY, d.gateway)
        self._key = None
        return client

    def _recompute(self) -> None:
        records = fetch_records(self._client)
        closes = {e.args["slot"]: e for e in self._client.closes()}
        upto = max(records.closed, default=-1)
        kept = self._verdicts[: _same_prefix(self._records, records, len(self._verdicts))]
        self._verdicts = verify_slots(records, upto, kept) if upto >= 0 else []  # only the new slots recomputed
        self._records = records
        self._pending, self._where, carried = {}, {}, []
        for v in self._verdicts:
            self._pending[v.slot] = carried + records.submitted.get(v.slot, [])
            carried = list(v.result.carried) if v.result is not None else []
            if v.result is not None:
                for index, word in enumerate(self._pending[v.slot]):
                    self._where.setdefault(word >> 112, []).append((v.slot, index))
        self._submitted = {unpack(s.request).arrival: s for s in self._client.submissions()}
        self._rows = [self._row(v, closes.get(v.slot), v.slot in records.close_inputs) for v in self._verdicts]

    def _row(self, verdict: Verdict, close, in_one_call: bool) -> dict[str, Any]:
        row: dict[str, Any] = {"slot": verdict.slot, "verdict": "ok" if verdict.ok else "mismatch"}
        row["mismatches"] = list(verdict.mismatches)
        event = close.args if close is not None else {}
        for key in ("capacity_w", "granted_w", "requests", "scheduled", "partial_w", "expired"):
            row[key] = event.get(key)
        partial = event.get("partial_arrival", UNSET)
        row["partial"] = None if partial == UNSET else request_id(partial)
        row["carried"] = len(verdict.result.carried) if verdict.result is not None else None
        row["tx"] = close.tx_hash if close is not None else None
        row["block"] = close.block if close is not None else None
        row["gas"] = self._gas_of(close.tx_hash) if close is not None else None
        row["paged"] = not in_one_call  # a paged close: the gas is its last page's
        return row

    def _gas_of(self, tx_hash: str) -> int | None:
        if tx_hash not in self._gas:
            receipt = self.deployment.gateway.receipt(None, tx_hash)
            if receipt is None:
                return None
            self._gas[tx_hash] = receipt.gas_used
        return self._gas[tx_hash]

    def _summary(self, address: str, checkpoint: int) -> dict[str, Any]:
        ok = sum(r["verdict"] == "ok" for r in self._rows)
        return {
            "coordinator": address,
            "checkpoint": checkpoint,
            "closed": len(self._rows),
            "verified": ok,
            "mismatched": len(self._rows) - ok,
            "requests": sum(r["requests"] or 0 for r in self._rows),
            "rows": self._rows,
        }

    def _allocations(self, slot: int) -> list[dict[str, Any]]:
        fates = self._fates(slot)
        out = [self._allocation(slot, i, fates) for i in range(len(self._pending[slot]))]
        return sorted(out, key=lambda a: a["rank"])

    def _fates(self, slot: int) -> tuple[set[int], set[int]]:
        """The arrivals closed `slot` expired, and those it carried to the next slot."""
        result = self._verdicts[slot].result
        return {e.arrival for e in result.expired}, {unpack(w).arrival for w in result.carried}

    def _allocation(self, slot: int, index: int, fates: tuple[set[int], set[int]]) -> dict[str, Any]:
        """The `index`-th pending request of closed `slot`: what the close gave it, its place and why."""
        request = unpack(self._pending[slot][index])
        a = self._verdicts[slot].result.schedule.allocations[index]
        expired, carried = (request.arrival in arrivals for arrivals in fates)
        return {
            **a.to_dict(),
            "demand_w": request.demand_w,
            "soc_pm": request.soc_pm,
            "tcc": request.tcc,
            "why": _why(a, request.demand_w, expired, carried, slot),
        }


def _same_prefix(old: ChainRecords | None, new: ChainRecords, upto: int) -> int:
    """How many slots from slot 0 (at most `upto`) have the same records in `old` and `new`: their verdicts
    stand (a chain that grew changes no closed slot's records; a reorganisation does, from its fork on)."""
    if old is None or old.beta1_pm != new.beta1_pm:
        return 0
    for slot in range(upto):
        for field in ("submitted", "posted", "closed", "close_inputs", "expired"):
            if getattr(old, field).get(slot) != getattr(new, field).get(slot):
                return slot
    return upto


def _why(allocation, demand_w: int, expired: bool, carried: bool, slot: int) -> str:
    """One line on why a request got what it got (the rule's walk in priority order)."""
    status = str(allocation.status)
    if status == "scheduled":
        return "its whole demand fit in what the higher-ranked requests left"
    if status == "partial":
        got = f"got what was left ({allocation.granted_w / 1000:g} of {demand_w / 1000:g} kW)"
        if carried:
            return f"{got}; the rest is carried to slot {slot + 1}"
        return f"{got}; its charging deadline passed: the rest expired" if expired else f"{got}; the rest waits"
    if expired:
        return "nothing was left for it, and its charging deadline passed: expired"
    if carried:
        return f"nothing was left for it at its rank: carried to slot {slot + 1}"
    return "nothing was left for it at its rank"


def view_of(deployment: Deployment) -> CommunityView:
    """The one CommunityView of `deployment`, shared by every page that reads the coordinator's history (the
    routers are built once, in one thread, when the app is)."""
    view = deployment.views.get("community")
    if view is None:
        view = deployment.views["community"] = CommunityView(deployment)
    return view


def router(deployment: Deployment, templates) -> APIRouter:
    view = view_of(deployment)
    api = APIRouter()

    @api.get(PATH, response_class=HTMLResponse)
    def page(request: Request):
        state = view.state()
        rows = state.get("rows", [])
        chart = [{k: r[k] for k in ("slot", "capacity_w", "granted_w")} for r in rows]
        context = {"state": state, "rows": rows[::-1][:TABLE_ROWS], "chart": chart, "table_rows": TABLE_ROWS}
        return templates.TemplateResponse(request, "community.html", context)

    @api.get("/api/community")
    def changes(after: int = Query(-1, ge=-1, le=2**64, description="the newest slot the page shows")):
        state = view.state()
        rows = state.get("rows", [])
        return {**{k: v for k, v in state.items() if k != "rows"}, "slots": rows[after + 1 :]}

    @api.get(PATH + "/slots/{slot}", response_class=HTMLResponse)
    def slot_page(request: Request, slot: int):
        found = view.slot(slot) if 0 <= slot < 2**64 else None
        if found is None:
            raise HTTPException(404, f"slot: {slot} is not closed (as far as the index has read)")
        row, allocations = found
        return templates.TemplateResponse(request, "slot.html", {"row": row, "allocations": allocations})

    return api
