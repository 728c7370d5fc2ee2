"""What must hold after a run of faults on the market pilot, read from the chain (the contracts' events and
views), the parties' stores (the central system's transactions, the provider's receipts and settlements) and the
CLIs (`metering settle`, `metering bill`): each check returns the losses it found, each naming the broken
invariant, and what it looked at."""

from __future__ import annotations

import json
import time
from collections import Counter

from sqlalchemy import select

from gridchain.chain.events import read_events
from gridchain.chain.locked import LockedGateway
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.metering import model as m
from gridchain.metering.client import MeteringClient
from gridchain.ocpp.store import OcppStore
from gridchain.store.engine import open_store
from gridchain.v2v.client import V2VClient
from gridchain.v2v.parties.provider_store import ProviderStore, receipts_table
from tests.faults.harness import Loss
from tests.faults.market_pilot import PRICE_WEI_PER_KWH, PROVIDER, MarketPilot
from tests.faults.market_workload import Charge
from tests.support.processes import wait_until

SETTLES = "every accepted roaming session settles exactly once"
CHARGES = "a charge point's session goes through restarts of the central system"
BILL = "the bill agrees with the sessions charged"
HELD = "every V2V receipt the provider held is settled"
PAID_ONCE = "nothing is paid twice"
FINAL = ("settled", "closed")


def _store(pilot: MarketPilot):
    return open_store(f"sqlite:///{pilot.config.parent / 'state/gridchain.db'}")


def v2v_client(pilot: MarketPilot) -> V2VClient:
    return V2VClient(LockedGateway(RpcGateway(pilot.node_url, [])), pilot.v2v_address)


# -- the central system -----------------------------------------------------------------------------------


def _stored_transactions(pilot: MarketPilot, starts: range) -> dict[int, object]:
    """The central system's transactions (as its store holds them) of sessions starting in `starts`."""
    store = _store(pilot)
    try:
        loaded = OcppStore(store).load()
    finally:
        store.close()
    return {t.transaction_id: t for t in loaded.transactions if t.start_timestamp in starts}


def _finished(pilot: MarketPilot, wanted: set[int]) -> dict[int, dict]:
    """The sessions file's entries of `wanted` once all are there (or what is there after 30 s)."""
    path = pilot.config.parent / "ocpp-sessions.json"

    def read() -> dict[int, dict]:
        try:
            return {s["transaction_id"]: s for s in json.loads(path.read_text())["sessions"]}
        except (OSError, ValueError):
            return {}

    try:
        return wait_until(lambda: (f := read()) and wanted <= set(f) and f, 30, "the sessions file", 0.5)
    except AssertionError:
        return read()


def central(pilot: MarketPilot, charges: list[Charge], starts: range) -> tuple[list[Loss], dict]:
    """Every session the central system accepted (a charge point's StartTransaction answered, or a transaction
    in its store) stopped, settled by `metering settle` once, refused a second time, one SessionSettled on chain,
    priced at the tariff; the EV owner's bill over the run's sessions equals their sum."""
    losses = [
        Loss(CHARGES, f"{c.cp} session at {c.start}: exit {c.returncode}: {c.error}") for c in charges if c.returncode
    ]
    stored = _stored_transactions(pilot, starts)
    accepted = {c.accepted: c for c in charges if c.accepted is not None}
    for tx in sorted(set(accepted) - set(stored)):
        losses.append(Loss(SETTLES, f"transaction {tx} accepted at {accepted[tx].cp}: not in the central's store"))
    open_ = {tx for tx, row in stored.items() if row.stop_timestamp is None}
    losses += [Loss(SETTLES, f"transaction {tx}: still open (stuck)") for tx in sorted(open_)]
    entries = _finished(pilot, set(stored) - open_)
    settled: dict[int, dict] = {}
    for tx in sorted(set(stored) - open_):
        code, out, err = pilot.cli("metering", "settle", "--transaction", tx, "--json")
        if code != 0:
            losses.append(Loss(SETTLES, f"transaction {tx}: settle exits {code}: {err.strip()[-200:]}"))
            continue
        settled[tx] = json.loads(out)
        code, _, err = pilot.cli("metering", "settle", "--transaction", tx, "--json")
        if code != 2 or not ("settled already" in err or "cannot settle" in err):
            losses.append(Loss(SETTLES, f"transaction {tx}: settled again (exit {code}: {err.strip()[-200:]})"))
    losses += _settled_once(pilot, entries, set(stored) - open_)
    losses += _bill(pilot, charges, settled, starts)
    checked = {
        "charge_points": len(charges),
        "accepted": len(accepted),
        "stored": len(stored),
        "settled": len(settled),
        "charge_point_retries": sum(
            s.get("retries", 0) + s.get("attempts", 0)
            for c in charges
            for s in c.steps  # before, after the stop
        ),
    }
    return losses, checked


def _settled_once(pilot: MarketPilot, entries: dict[int, dict], txs: set[int]) -> list[Loss]:
    """One SessionSettled on chain for each transaction's session (found by its session id)."""
    client = MeteringClient(RpcGateway(pilot.node_url, []), pilot.metering_address)
    counts = Counter("0x" + s.session.hex() for s in client.settlements())
    losses = []
    for tx in sorted(txs):
        session = entries.get(tx, {}).get("session")
        if session is None:
            losses.append(Loss(SETTLES, f"transaction {tx}: no signed session in the sessions file"))
        elif counts[session] != 1:
            losses.append(Loss(SETTLES, f"transaction {tx}: session {session} settled {counts[session]} times"))
    return losses


def _bill(pilot: MarketPilot, charges: list[Charge], settled: dict[int, dict], starts: range) -> list[Loss]:
    """Each settlement priced at the tariff for the energy the charge point metered; the bill sums them."""
    losses, cost, energy = [], 0, 0
    tariffs = [m.Tariff(pilot.tariff_from, (PRICE_WEI_PER_KWH,) * 24)]
    for c in charges:
        s = settled.get(c.accepted) if c.summary else None
        if s is None:
            continue
        expected = m.energy_cost(tariffs, c.summary["first_interval"], c.summary["energy_wh"])
        if (s["cost_wei"], s["paid_wei"], s["energy_wh"]) != (expected, expected, c.summary["total_wh"]):
            losses.append(Loss(BILL, f"transaction {c.accepted}: settled {s}, metered {c.summary['energy_wh']}"))
        cost, energy = cost + expected, energy + c.summary["total_wh"]
    code, out, err = pilot.cli(
        "metering", "bill", "--party", "ev_owner", "--from", starts.start, "--to", starts.stop, "--json"
    )
    if code != 0:
        return [*losses, Loss(BILL, f"bill exits {code}: {err.strip()[-200:]}")]
    bill = json.loads(out) if out.startswith("{") else {}
    if (bill.get("charged_wei"), bill.get("energy_wh")) != (cost, energy):
        losses.append(
            Loss(
                BILL,
                f"billed {bill.get('charged_wei')} wei for {bill.get('energy_wh')} Wh; "
                f"charged {cost} wei for {energy} Wh",
            )
        )
    return losses


# -- the provider -----------------------------------------------------------------------------------------


def held_receipts(pilot: MarketPilot) -> dict[str, int]:
    """The provider's best receipt per token [Wh], from its store (what it acknowledged to its consumers)."""
    store = _store(pilot)
    try:
        mine = receipts_table.c.provider == pilot.evs[PROVIDER].lower()
        rows = store.read(lambda c: c.execute(select(receipts_table).where(mine)).all())
    finally:
        store.close()
    best: dict[str, int] = {}
    for r in rows:
        best[r.token] = max(best.get(r.token, 0), int(r.delivered_wh))
    return best


def settlements(pilot: MarketPilot) -> dict[str, str]:
    """The provider's settlements' states by token (0x-hex)."""
    store = _store(pilot)
    try:
        return {"0x" + t.hex(): s.state for t, s in ProviderStore(store, pilot.evs[PROVIDER]).settlements().items()}
    finally:
        store.close()


def settle_wait(pilot: MarketPilot, client: V2VClient, timeout_s: float) -> dict:
    """Wait for the provider to settle every trade it holds a receipt of; the trades still open then are only
    partly receipted (their consumer did not come back after a kill): the chain's clock is warped past their
    token's validity, when the provider settles them with what it holds. What it waited for."""

    def unsettled() -> list[str]:
        states = settlements(pilot)
        return [t for t in held_receipts(pilot) if states.get(t) not in FINAL]

    started = time.monotonic()
    try:
        wait_until(lambda: not unsettled(), timeout_s, "the provider's settlements", 1)
        return {"warped": False, "settle_wait_s": round(time.monotonic() - started)}
    except AssertionError:
        pilot.warp(client.validity_s)
    try:
        wait_until(lambda: not unsettled(), timeout_s, "the provider's settlements after the warp", 1)
    except AssertionError:
        pass  # the check reports each one still unsettled
    return {"warped": True, "settle_wait_s": round(time.monotonic() - started)}


def provider(pilot: MarketPilot, client: V2VClient) -> tuple[list[Loss], dict]:
    """Each receipt the provider held settled on chain once (one TradeClosed in its trade, for at least that
    much energy) and recorded final in its store; the contract holds exactly the live deposits, collaterals
    and pending returns (nothing was paid out twice)."""
    g, a = client.gateway, client.artifact
    names = ("AuctionStarted", "AuctionEnded", "TradeClosed")
    events = sorted(read_events(g, a, client.address, names), key=lambda e: (e.block, e.log_index))
    held, states, losses = held_receipts(pilot), settlements(pilot), []
    for token, wh in sorted(held.items()):
        closes = _closes(events, token)
        if closes is None:
            losses.append(Loss(HELD, f"token {token[:10]}: no AuctionEnded with it"))
        elif len(closes) != 1:
            invariant = HELD if not closes else PAID_ONCE
            losses.append(Loss(invariant, f"token {token[:10]} ({wh} Wh held): closed {len(closes)} times"))
        elif closes[0].args["delivered_wh"] < wh:
            losses.append(Loss(HELD, f"token {token[:10]}: settled for {closes[0].args['delivered_wh']} of {wh} Wh"))
        if states.get(token) not in FINAL:
            losses.append(Loss(HELD, f"token {token[:10]}: the provider's settlement is {states.get(token)}"))
    losses += _solvent(pilot, client)
    return losses, {"receipts_held": len(held), "held_wh": sum(held.values())}


def _closes(events, token: str) -> list | None:
    """The TradeClosed events of the trade of `token` (between its AuctionEnded and its consumer's next auction);
    None if no auction ended with it."""
    ended = [e for e in events if e.name == "AuctionEnded" and "0x" + bytes(e.args["token"]).hex() == token]
    if not ended:
        return None
    consumer, after = ended[0].args["consumer"].lower(), (ended[0].block, ended[0].log_index)
    closes = []
    for e in events:
        if e.args["consumer"].lower() != consumer or (e.block, e.log_index) <= after:
            continue
        if e.name == "AuctionStarted":
            break
        if e.name == "TradeClosed":
            closes.append(e)
    return closes


def _solvent(pilot: MarketPilot, client: V2VClient) -> list[Loss]:
    """The contract's balance: the open auctions' deposits and collaterals plus every pending return."""
    live = sum(
        x.deposit_wei + x.collateral_wei
        for x in (client.auction(addr) for addr in pilot.evs.values())
        if x.closing_time
    )
    pending = sum(client.pending_returns(addr) for addr in pilot.evs.values())
    balance = client.balance()
    if balance != live + pending:
        return [Loss(PAID_ONCE, f"the contract holds {balance} wei; live funds {live} + pending returns {pending}")]
    return []
