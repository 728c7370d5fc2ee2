"""The metering page: meters, anchored days, roaming sessions and each party's bill at the tariff in force; and a
reading proven in the browser against its day's root on chain (the page's JavaScript hashes, not the server).

The metering contract's history comes from the index (contract key "metering"), recomputed when its checkpoint
moves; balances, roots and tariffs in force are the contract's views at the head. A party's bill is the
`gridchain metering bill` command's, number for number (`/api/metering/bill` answers with its JSON).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from gridchain.chain.events import ChainReorganized
from gridchain.checks import parse_address
from gridchain.config.accounts import account_address
from gridchain.dashboard.deployment import Deployment
from gridchain.dashboard.pages import metering_archive as archive
from gridchain.errors import InputError
from gridchain.index.reader import IndexedLog
from gridchain.metering import model as m
from gridchain.metering.client import CONTRACT, MeteringClient, settled_from

TITLE, PATH = "Metering", "/metering"
EVENTS = ("MeterRegistered", "GatewayAssigned", "TariffSet", "RootAnchored", "Reserved", "Released", "SessionSettled")
MICRO_ETH = 10**12
VENDOR = ("sha3.js", "_u64.js", "utils.js")  # @noble/hashes' ESM files the page imports (make setup copies them)
U64 = 2**64
UNSETTLED = dict.fromkeys(("host", "first_interval", "intervals", "energy_wh", "cost_wei", "paid_wei", "unpaid_wei"))
STATIC = Path(__file__).resolve().parents[1] / "static"


def ueth(wei: int | None) -> str:
    """wei as µETH (10^12 wei), exactly, with thousands separators."""
    if wei is None:
        return "-"
    whole, _, fraction = f"{Decimal(wei) / MICRO_ETH:,f}".partition(".")
    return whole + ("." + fraction.rstrip("0") if fraction.rstrip("0") else "")


def utc(t: int | None, day: bool = False) -> str:
    """A unix time [s] (or a day index, with `day`) as UTC, as the bill command prints it."""
    if t is None:
        return "-"
    when = datetime.fromtimestamp(t * m.PERIOD_S if day else t, UTC)
    return when.strftime("%Y-%m-%d" if day else "%Y-%m-%d %H:%M")


class History:
    """The metering contract's events folded into meters, tariffs, anchored days and sessions."""

    def __init__(self, log: IndexedLog) -> None:
        self.checkpoint = log.checkpoint  # the last block read
        self.meters: dict[str, dict[str, Any]] = {}
        for e in log.named("MeterRegistered"):
            a = e.args
            self.meters[str(a["meter"]).lower()] = {
                "meter": str(a["meter"]).lower(),
                "owner": str(a["owner"]).lower(),
                "community": int(a["community"]),
                "premises": int(a["premises"]),
                "gateway": None,
            }
        for e in log.named("GatewayAssigned"):
            gateway = str(e.args["gateway"]).lower()
            self.meters[str(e.args["meter"]).lower()]["gateway"] = None if gateway == m.ZERO else gateway
        self.tariffs: dict[int, list[m.Tariff]] = {}
        for e in sorted(log.named("TariffSet"), key=lambda e: int(e.args["version"])):
            prices = tuple(int(p) for p in e.args["prices_wei_per_kwh"])
            self.tariffs.setdefault(int(e.args["community"]), []).append(
                m.Tariff(int(e.args["effective_from"]), prices)
            )
        self.days: dict[tuple[str, int], dict[str, Any]] = {}
        for e in log.named("RootAnchored"):  # a meter-signed root replaces the one before it
            key = (str(e.args["meter"]).lower(), int(e.args["period"]))
            self.days[key] = {
                "meter": key[0],
                "day": key[1],
                "root": "0x" + bytes(e.args["root"]).hex(),
                "count": int(e.args["count"]),
                "version": int(e.args["version"]),
                "tx": e.tx_hash,
                "block": e.block,
            }
        self.settled = [settled_from(e.args) for e in log.named("SessionSettled")]
        self.sessions = self._sessions(log)

    def _sessions(self, log: IndexedLog) -> list[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        for e in log.named("Reserved"):
            a = e.args
            sid = "0x" + bytes(a["session"]).hex()
            rows[sid] = {"session": sid, "ev": str(a["ev"]).lower(), "payer": str(a["payer"]).lower()}
            rows[sid].update(meter=str(a["meter"]).lower(), start=int(a["start"]), state="reserved")
            rows[sid].update(reserved_wei=int(a["amount_wei"]), tx=e.tx_hash, **UNSETTLED)
        for e in log.named("Released"):
            rows["0x" + bytes(e.args["session"]).hex()].update(state="released", tx=e.tx_hash)
        for e, s in zip(log.named("SessionSettled"), self.settled, strict=True):
            sid = "0x" + s.session.hex()
            row = rows.setdefault(sid, {"session": sid, "reserved_wei": 0, "start": s.first_interval * m.INTERVAL_S})
            row.update(ev=s.ev, payer=s.payer, meter=s.meter, host=s.host, state="settled", tx=e.tx_hash)
            row.update(first_interval=s.first_interval, intervals=s.intervals, energy_wh=s.energy_wh)
            row.update(cost_wei=s.cost_wei, paid_wei=s.paid_wei, unpaid_wei=s.unpaid_wei)
        return sorted(rows.values(), key=lambda r: (-r["start"], r["session"]))


class MeteringView:
    """The metering contract as the page shows it, from the index and the contract's views."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self._lock = threading.Lock()
        self._client: MeteringClient | None = None
        self._log: IndexedLog | None = None
        self._key: tuple[int, str | None] | None = None
        self.history: History | None = None
        section = deployment.config.section("metering", required=False)
        self.community = section.int("community", 0, m.MAX_COMMUNITY, 1)  # the bill command's community
        self.names = _account_names(deployment)

    def refresh(self) -> str | None:
        """Read what the index holds since the last call; a note if there is nothing to show (else None)."""
        with self._lock:
            address = self.deployment.address(CONTRACT)
            if address is None:
                return "no metering contract deployed (gridchain deploy metering)"
            checkpoint = self.deployment.checkpoint(CONTRACT)
            if checkpoint is None or checkpoint.address.lower() != address.lower():
                return "the index holds no events of it yet: run gridchain index run"
            if self._client is None or self._client.address != address:
                self._attach(address)
            try:
                self._log.sync()
            except ChainReorganized:  # the index rolled a reorganisation back: read it afresh
                self._attach(address)
                self._log.sync()
            key = (self._log.checkpoint, self._log.checkpoint_hash)
            if key != self._key:
                self.history, self._key = History(self._log), key
            return None

    def _attach(self, address: str) -> None:
        d = self.deployment
        self._client = MeteringClient(d.gateway, address)
        self._log = IndexedLog(d.reader, CONTRACT, self._client.artifact, EVENTS, d.gateway)
        self._key = None

    @property
    def client(self) -> MeteringClient:
        return self._client

    def name(self, address: str | None) -> str | None:
        return self.names.get((address or "").lower())

    def party(self, text: str) -> str:
        """An account name of the deployment's config or an address; InputError naming `party` otherwise."""
        by_name = {name: address for address, name in self.names.items()}
        if text in by_name:
            return by_name[text]
        if text.startswith("0x"):
            return parse_address("party", text).lower()
        known = ", ".join(sorted(by_name)) or "none"
        raise InputError("party", f"{text!r} is neither an account name ({known}) nor an address")

    def bill(self, party: str, start: int, end: int | None) -> dict:
        end = self.deployment.gateway.now() if end is None else end
        if end <= start:
            raise InputError("to", f"{end} is not after from {start}")
        tariffs = self.history.tariffs.get(self.community, [])
        return m.bill(party, self.history.settled, start, end, self.community, tariffs)


def _account_names(deployment: Deployment) -> dict[str, str]:
    """address -> account name, for the config's accounts (addresses read from the keystores, nothing decrypted)."""
    out = {}
    for name in deployment.config.data.get("accounts", {}):
        try:
            out[account_address(deployment.config, name).lower()] = name
        except InputError:  # a keystore not there: the account is shown by its address
            continue
    return out


def vendor_ready() -> bool:
    """Whether the browser's keccak256 (@noble/hashes' ESM files) is here to be served."""
    folder = STATIC / "vendor" / "noble-hashes"
    return all((folder / name).is_file() for name in VENDOR)


def overview(view: MeteringView) -> dict[str, Any]:
    """Everything the page shows, as plain rows."""
    h, client, now = view.history, view.client, view.deployment.gateway.now()
    arch = archive.archived(view.deployment.store)
    days = [{**d, "archived": len(arch.get(key, {}))} for key, d in h.days.items()]
    days.sort(key=lambda d: (-d["day"], d["meter"]))
    meters = []
    for meter in h.meters.values():
        sessions = [s for s in h.settled if s.meter == meter["meter"]]
        anchored = sum(1 for key in h.days if key[0] == meter["meter"])
        meters.append(
            {**meter, "days": anchored, "sessions": len(sessions), "energy_wh": sum(s.energy_wh for s in sessions)}
        )
    parties = sorted(
        {s.payer for s in h.settled} | {s.host for s in h.settled} | {x["owner"] for x in h.meters.values()}
    )
    bills = []
    for party in parties:
        b = view.bill(party, 0, now)
        b.update(escrow_wei=client.escrow(party), credit_wei=client.credit(party), count=len(b["sessions"]))
        bills.append(b)
    tariffs = []
    for community, versions in sorted(h.tariffs.items()):
        in_force = m.tariff_in_force(versions, now)
        for version, t in enumerate(versions):
            p = t.prices_wei_per_kwh
            tariffs.append(
                {
                    "community": community,
                    "version": version,
                    "effective_from": t.effective_from,
                    "in_force": t is in_force,
                }
                | {"min": min(p), "max": max(p), "now": t.price_at(now) if t is in_force else None}
            )
    return {
        "contract": client.address,
        "chain_id": client.chain_id(),
        "checkpoint": h.checkpoint,
        "now": now,
        "meters": meters,
        "days": days,
        "sessions": h.sessions,
        "bills": bills,
        "tariffs": tariffs,
        "community": view.community,
        "readings": archive.picker(arch, set(h.days)),
    }


def _bad(e: InputError) -> HTTPException:
    return HTTPException(422, str(e))


def router(deployment: Deployment, templates) -> APIRouter:
    view = MeteringView(deployment)
    api = APIRouter()
    templates.env.filters["ueth"] = ueth
    templates.env.filters["utc"] = utc
    templates.env.globals["party_name"] = view.name

    @api.get(PATH, response_class=HTMLResponse)
    def page(request: Request):
        note = view.refresh()
        state = {"note": note} if note else overview(view)
        context = {"state": state, "vendor_ready": vendor_ready(), "domain": [m.DOMAIN_NAME, m.DOMAIN_VERSION]}
        return templates.TemplateResponse(request, "metering.html", context)

    @api.get(PATH + "/bill", response_class=HTMLResponse)
    def bill_page(request: Request, party: str = Query(..., max_length=200), start: int = FROM, end: int | None = TO):
        out = _bill(view, party, start, end)
        return templates.TemplateResponse(request, "metering_bill.html", {"bill": out, "name": view.name(out["party"])})

    @api.get("/api/metering/bill")
    def bill_json(party: str = Query(..., max_length=200), start: int = FROM, end: int | None = TO):
        return _bill(view, party, start, end)

    @api.get("/api/metering/proof")
    def proof(meter: str = Query(..., max_length=100), interval_start: int = Query(..., ge=0, lt=U64)):
        note = view.refresh()
        if note:
            raise HTTPException(404, f"metering: {note}")
        return _proof(view, meter, interval_start)

    return api


FROM = Query(0, alias="from", ge=0, lt=U64, description="sessions starting at or after it [unix s]")
TO = Query(None, alias="to", ge=1, lt=U64, description="sessions starting before it [unix s]; default: now")


def _bill(view: MeteringView, party: str, start: int, end: int | None) -> dict:
    note = view.refresh()
    if note:
        raise HTTPException(404, f"metering: {note}")
    try:
        return view.bill(view.party(party), start, end)
    except InputError as e:
        raise _bad(e) from None


def _proof(view: MeteringView, meter: str, interval_start: int) -> dict:
    """The on-chain root of the reading's day and, from the gateway's archive, the reading's proof path."""
    try:
        meter = parse_address("meter", meter).lower()
    except InputError as e:
        raise _bad(e) from None
    if interval_start % m.INTERVAL_S:
        raise HTTPException(422, f"interval_start: {interval_start} is not a multiple of {m.INTERVAL_S}")
    client, day = view.client, interval_start // m.PERIOD_S
    root = client.root(meter, day)
    path = archive.proof_path(client.domain(), archive.archived(view.deployment.store), meter, interval_start)
    out = {
        "contract": client.address,
        "chain_id": client.chain_id(),
        "domain": {"name": m.DOMAIN_NAME, "version": m.DOMAIN_VERSION},
        "meter": meter,
        "interval_start": interval_start,
        "day": day,
        "root": None if root is None else "0x" + root.hex(),
        "root_version": client.root_version(meter, day) if root is not None else None,
        "archive": path,
    }
    if path is None:
        out["note"] = f"the deployment's store holds no reading of meter {meter} at {interval_start}"
    return out
