"""The household page: a household opens its wallet's public view (`gridchain esu export`: the pseudonyms and
arrival numbers of its requests, nothing secret) and sees each request's story in the rule's order, slot by slot
while it was carried (its priority, rank, demand, grant, status and why), and the energy it received.

The browser posts the view's JSON to `/api/household`; the stories come from the community page's view of the
index (`CommunityView.stories`: the same records and recomputation as the community page and `gridchain verify`),
so what a household sees is what `gridchain esu allocations` prints. Nothing is kept of a posted view.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import request_id
from gridchain.coordination.parties.wallet_public import FORMAT, PublicRequest, PublicView, parse_public_view
from gridchain.dashboard.deployment import Deployment
from gridchain.dashboard.pages.community import CommunityView, view_of
from gridchain.errors import InputError

TITLE, PATH = "Household", "/household"
MAX_BODY = 2_000_000  # bytes: a public view of 10,000 requests is about 1.5 MB
HOUR_S = 3600


class HouseholdView:
    """A posted public view explained from the community's index: per request its story, per slot the energy."""

    def __init__(self, deployment: Deployment, community: CommunityView) -> None:
        self.deployment = deployment
        self.community = community
        self._lock = threading.Lock()
        self._client: CoordinatorClient | None = None  # for views only: the slot clock and spent pseudonyms

    def explain(self, view: PublicView) -> dict[str, Any]:
        """The household's requests as the chain holds them; InputError if `view` is another chain's or
        community's."""
        d = self.deployment
        if view.chain_id != d.chain_id:
            raise InputError("chain_id", f"{view.chain_id} is not this dashboard's chain ({d.chain_id})")
        known = self.community.stories([r.arrival for r in view.requests])
        if "rows" not in known:
            return {"coordinator": known.get("coordinator"), "note": known.get("note"), "requests": []}
        if view.community != known["coordinator"]:
            raise InputError(
                "community", f"{view.community} is not this dashboard's community ({known['coordinator']})"
            )
        start, length = self._clock(known["coordinator"])
        requests = [self._request(r, known["stories"][r.arrival], known["checkpoint"]) for r in view.requests]
        energy = _energy(requests, start, length)
        return {
            "coordinator": known["coordinator"],
            "checkpoint": known["checkpoint"],
            "closed": known["closed"],
            "slot_length_s": length,
            "requests": requests,
            "energy": energy,
            "totals": _totals(requests, energy),
        }

    def _clock(self, address: str) -> tuple[int, int]:
        with self._lock:
            if self._client is None or self._client.address != address:
                self._client = CoordinatorClient(self.deployment.gateway, address)
            return self._client.slot_clock()

    def _spent(self, pseudonym: str) -> bool:
        with self._lock:
            return self._client.spent(pseudonym)

    def _request(self, r: PublicRequest, story: dict[str, Any] | None, checkpoint: int) -> dict[str, Any]:
        out: dict[str, Any] = {"id": request_id(r.arrival), "arrival": r.arrival, "pseudonym": r.pseudonym}
        out |= {"slot": r.slot, "tx_file": r.tx, "spent": self._spent(r.pseudonym)}
        if story is None:
            note = f"the chain holds no request {out['id']} (as far as the index has read, block {checkpoint})"
            return {**out, "known": False, "slots": [], "received_w": 0, "outcome": "unknown", "note": note}
        slots = story["slots"]
        out |= {k: story[k] for k in ("tx", "demand_w", "soc_pm", "tcc")}
        out |= {"known": True, "slots": slots, "received_w": sum(s["granted_w"] for s in slots)}
        out["outcome"], out["note"] = _outcome(story)
        if r.tx is not None and r.tx != story["tx"]:
            out["note"] += f"; the file names transaction {r.tx}, the chain's is {story['tx']}"
        return out


def _outcome(story: dict[str, Any]) -> tuple[str, str]:
    """Where a request's story ends: served, expired, or still waiting (its slot, or the next, not closed)."""
    slots = story["slots"]
    if not slots:
        return "waiting", f"submitted in slot {story['slot']}, which is not closed yet"
    last = slots[-1]
    if last["status"] == "scheduled":
        return "served", f"served in full in slot {last['slot']}"
    if "expired" in last["why"]:
        return "expired", f"expired in slot {last['slot']}"
    return "waiting", f"carried to slot {last['slot'] + 1}, which is not closed yet"


def _energy(requests: list[dict[str, Any]], start: int, length: int) -> list[dict[str, Any]]:
    """Per slot in which one of the household's requests was pending: the power granted to it [W], the energy
    that is over the slot [Wh] and the running total; the slot's start (UTC) for the chart's time axis."""
    granted: dict[int, int] = {}
    for r in requests:
        for s in r["slots"]:
            granted[s["slot"]] = granted.get(s["slot"], 0) + s["granted_w"]
    out, total = [], 0.0
    for slot in sorted(granted):
        energy_wh = granted[slot] * length / HOUR_S
        total += energy_wh
        begins = datetime.fromtimestamp(start + slot * length, UTC).strftime("%Y-%m-%d %H:%M")
        out.append({"slot": slot, "start": begins, "granted_w": granted[slot], "energy_wh": energy_wh})
        out[-1]["cumulative_wh"] = total
    return out


def _totals(requests: list[dict[str, Any]], energy: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes = [r["outcome"] for r in requests]
    return {
        "requests": len(requests),
        "unknown": outcomes.count("unknown"),
        "served": outcomes.count("served"),
        "waiting": outcomes.count("waiting"),
        "expired": outcomes.count("expired"),
        "demand_w": sum(r.get("demand_w", 0) for r in requests),
        "energy_wh": energy[-1]["cumulative_wh"] if energy else 0.0,
    }


def parse_body(raw: bytes) -> PublicView:
    """A posted body as a public view; InputError naming the field and value it refuses."""
    if len(raw) > MAX_BODY:
        raise InputError("body", f"{len(raw)} bytes, at most {MAX_BODY}")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError("body", f"not JSON ({e})") from None
    return parse_public_view(body)


def router(deployment: Deployment, templates) -> APIRouter:
    household = HouseholdView(deployment, view_of(deployment))
    api = APIRouter()

    @api.get(PATH, response_class=HTMLResponse)
    def page(request: Request):
        return templates.TemplateResponse(request, "household.html", {"format": FORMAT})

    @api.post("/api/household")
    async def explain(request: Request):
        """The posted public view explained: JSON, or the page's result as HTML if the client accepts text/html."""
        try:
            view = parse_body(await request.body())
            state = await run_in_threadpool(household.explain, view)
        except InputError as e:
            status = 413 if e.field == "body" and e.reason.endswith(f"at most {MAX_BODY}") else 422
            raise HTTPException(status, str(e)) from None
        if "text/html" in request.headers.get("accept", ""):
            return templates.TemplateResponse(request, "household_view.html", {"state": state})
        return JSONResponse(state)

    return api
