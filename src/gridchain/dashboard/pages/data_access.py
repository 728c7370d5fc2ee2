"""The Data access page: a household's view of its meter data (`gridchain data grants|accesses|alerts`, the same
rows from `gridchain.monitoring.view`): who may see it, who saw what, when and why (each access attested on chain
or not), and the breaches of its consent, highlighted.

`/data` lists the households the consent contract's grants name; `/data/<address>` is one household's page and
`/api/data/<address>` its JSON. The contracts' events come from the index (keys "data_access" and "access_log");
the grant words from the contract's views; the threads and the monitor's alerts from the deployment's store
(schema `monitoring`, when the monitor has written it: else the page shows the chain's part and says so).
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from gridchain.chain.events import ChainReorganized
from gridchain.checks import parse_address
from gridchain.dashboard.deployment import Deployment
from gridchain.errors import InputError
from gridchain.index.reader import IndexedLog
from gridchain.monitoring import view
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.store import SCHEMA, AccessStore
from gridchain.store.migrate import revision

TITLE, PATH = "Data access", "/data"
CONSENT, LOG = "data_access", "access_log"


class IndexedConsent:
    """The consent contract's client with its events read from the index (what `view` asks of a client)."""

    def __init__(self, client: ConsentClient, log: IndexedLog) -> None:
        self.client, self.log, self.gateway = client, log, client.gateway

    def events(self, name: str, from_block: int = 0):
        return [e for e in self.log.named(name) if e.block >= from_block]

    def state(self, gid: bytes):
        return self.client.state(gid)


class DataAccessView:
    """The consent contract and the access log from the index, the threads and alerts from the store."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._lock = threading.Lock()
        self._logs: dict[str, IndexedLog] = {}
        self._consent: ConsentClient | None = None
        self._store: AccessStore | None = None

    def read(self, build):
        """`build(consent, roots, store)` on the newest index read, under the lock; or a dict with a note."""
        with self._lock:
            d = self.deployment
            for name, label in ((CONSENT, "consent contract"), (LOG, "access log")):
                address = d.address(name)
                if address is None:
                    return {"note": f"no {label} deployed (gridchain deploy {name})"}
                checkpoint = d.checkpoint(name)
                if checkpoint is None or checkpoint.address.lower() != address.lower():
                    return {"note": f"the index holds no events of the {label} {address} yet: run gridchain index run"}
            self._refresh()
            roots = {int(e.args["index"]): bytes(e.args["root"]) for e in self._logs[LOG].named("Attested")}
            return build(IndexedConsent(self._consent, self._logs[CONSENT]), roots, self._access_store())

    def _refresh(self) -> None:
        d = self.deployment
        consent = d.address(CONSENT)
        if self._consent is None or self._consent.address != consent:
            self._attach()
        try:
            for log in self._logs.values():
                log.sync()
        except ChainReorganized:  # the index rolled a reorganisation back: read it afresh
            self._attach()
            for log in self._logs.values():
                log.sync()

    def _attach(self) -> None:
        d = self.deployment
        self._consent = ConsentClient(d.gateway, d.address(CONSENT))
        log = AccessLogClient(d.gateway, d.address(LOG))
        self._logs = {
            CONSENT: IndexedLog(d.reader, CONSENT, self._consent.artifact, ("Granted", "Revoked", "Breach"), d.gateway),
            LOG: IndexedLog(d.reader, LOG, log.artifact, ("Attested",), d.gateway),
        }

    def _access_store(self) -> AccessStore | None:
        """The monitoring tables, once the monitor (or the month) has created them; None until then."""
        if self._store is None and revision(self.deployment.store, SCHEMA) is not None:
            self._store = AccessStore(self.deployment.store)
        return self._store


def households(consent: IndexedConsent) -> list[dict[str, Any]]:
    """Every household a grant names: its grants and breaches counted."""
    out: dict[str, dict[str, Any]] = {}
    for e in consent.events("Granted"):
        h = str(e.args["household"])
        out.setdefault(h.lower(), {"household": h, "grants": 0, "breaches": 0})["grants"] += 1
    for e in consent.events("Breach"):
        h = str(e.args["household"])
        out.setdefault(h.lower(), {"household": h, "grants": 0, "breaches": 0})["breaches"] += 1
    return sorted(out.values(), key=lambda r: r["household"].lower())


def household_state(consent: IndexedConsent, roots: dict[int, bytes], store: AccessStore | None, who: str) -> dict:
    """One household's grants, accesses and alerts (what `gridchain data ... --json` prints), and a summary."""
    grants = view.grants(consent, who)
    accesses = [] if store is None else view.accesses(store, who, roots)
    alerts = view.alerts(store, who, consent)
    alerted = {a["leaf"] for a in alerts if a["leaf"]}
    for a in accesses:
        a["alerted"] = a["leaf"] in alerted
    return {
        "household": who,
        "now": view.utc(consent.gateway.now()),
        "store": store is not None,
        "grants": grants,
        "accesses": accesses,
        "alerts": alerts,
        "summary": {
            "grants": len(grants),
            "active": sum(g["status"] == view.ACTIVE for g in grants),
            "accesses": len(accesses),
            "unattested": sum(not a["attested"] for a in accesses),
            "alerts": len(alerts),
        },
    }


def _household(text: str) -> str:
    try:
        return parse_address("address", text)
    except InputError as e:
        raise HTTPException(422, str(e)) from None


def router(deployment: Deployment, templates) -> APIRouter:
    data = DataAccessView(deployment)
    api = APIRouter()

    @api.get(PATH, response_class=HTMLResponse)
    def index(request: Request, household: str | None = Query(None, max_length=200)):
        if household:  # the page's form
            return RedirectResponse(f"{PATH}/{_household(household.strip())}", status_code=303)
        state = data.read(lambda consent, roots, store: {"households": households(consent)})
        return templates.TemplateResponse(request, "data_access.html", {"state": state, "one": None})

    @api.get(PATH + "/{address}", response_class=HTMLResponse)
    def page(request: Request, address: str):
        who = _household(address)
        state = data.read(lambda consent, roots, store: household_state(consent, roots, store, who))
        return templates.TemplateResponse(request, "data_access.html", {"state": state, "one": who})

    @api.get("/api/data/{address}")
    def as_json(address: str):
        who = _household(address)
        state = data.read(lambda consent, roots, store: household_state(consent, roots, store, who))
        if "note" in state:
            raise HTTPException(404, f"data access: {state['note']}")
        return state

    return api
