"""A community pilot run as separate OS processes, only through the CLI and gridchain.toml (issue 16's acceptance).

`gridchain node --state --block-time 1`, `init`, `deploy all`, `utility serve`, `relayer serve`, `keeper run`; 20
ESU wallets each obtaining tokens and sending one request over four slots (one deliberately late: signed for a slot
already over, refused, then resent by `esu status` with the same token); `verify` over every slot (exit 0) and each
wallet's `allocations`; a V2V trade between two `v2v provider serve` processes and a consumer; a roaming session:
`ocpp serve` with the charge-point bridge, the charge-point simulator as its own process reporting its EV's SoC,
the bridge turning the transaction into a request and pushing the slot's grant back as SetChargingProfile, the
day's readings anchored, the session settled at the tariff, and the EV owner's bill. Every process is started
here and stopped by its PID (SIGTERM, exit code 0); the node's state file must hold the contracts.

Run by `make pilot-test` (marker `pilot`; minutes of wall-clock time: slots are real seconds here).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from gridchain.metering import model as m
from tests.support.pilot import edit_toml
from tests.support.processes import Processes, free_ports, gridchain, rpc, wait_until

pytestmark = pytest.mark.pilot

SLOT_S = 30  # long enough for five ESU processes to start and send within a slot on two busy cores
ESUS = 20
GROUPS = 4  # ESUs request in four consecutive slots, five per slot
LATE = "esu05"  # signs for the slot before the current one: refused, resent by `esu status` with the same token
PORT_OFFSETS = (0, 1, 10, 11, 20)  # utility, relayer, two V2V providers, OCPP (init's layout from --port-base)


def wallets() -> list[str]:
    return [f"esu{i:02d}" for i in range(1, ESUS + 1)]


def parallel(fn, items, workers: int = 4) -> list:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, items))


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pilot") / "pilot"
    procs = Processes(folder / "gridchain.toml")
    base = free_ports((*PORT_OFFSETS, 30))
    node_port = base + 30
    state = folder.parent / "node-state.json"
    try:
        node = procs.start("node", "node", "--port", str(node_port), "--state", str(state), "--block-time", "1")
        url = node["url"]
        init = ["init", str(folder), "--members", str(ESUS), "--light-keystores", "--port-base", str(base)]
        assert procs.run(*init, "--rpc-url", url, "--slot-length-s", str(SLOT_S)).returncode == 0
        edit_toml(procs.config, "bridge.enabled", "true")  # charge point CP1 under coordination
        procs.deployed = procs.json("deploy", "all")["contracts"]
        procs.state, procs.url = state, url
        yield procs
    finally:
        procs.kill_all()


def slot_clock(procs: Processes) -> tuple[int, int]:
    """(start time, slot length) of the deployed coordinator, from the deployment record."""
    args = procs.deployed["coordinator"]["args"]
    return int(args[0]), int(args[1])


def wait_for_slot_start(procs: Processes, slot: int, into_s: float = 1.0) -> None:
    """Sleep until `into_s` seconds into `slot` (anvil's interval mining follows the wall clock)."""
    start, length = slot_clock(procs)
    time.sleep(max(0.0, start + slot * length + into_s - time.time()))


def current_slot(procs: Processes) -> int:
    start, length = slot_clock(procs)
    return int((time.time() - start) // length)


def test_a_community_pilot_of_separate_processes(pilot):
    procs = pilot
    utility = procs.start("utility", "utility", "serve")
    relayer = procs.start("relayer", "relayer", "serve")
    keeper = procs.start("keeper", "keeper", "run")
    assert {utility["pid"], relayer["pid"], keeper["pid"]} == {p.pid for p in procs.daemons.values()} - {
        procs.daemons["node"].pid
    }

    # tokens: the utility registers today's and tomorrow's epoch keys by itself; every wallet then gets its quota
    def tokens(wallet: str) -> dict:
        return procs.json("esu", "tokens", "--wallet", wallet)

    wait_until(lambda: tokens("esu01")["epochs"][0]["held"] > 0, 60, "the utility's first epoch key on chain")
    for answer in parallel(tokens, wallets()[1:]):
        assert answer["epochs"][0]["held"] == 4, answer

    # four slots, five ESUs each; demands above the 50 kW capacity so that some wait and are carried
    first = current_slot(procs) + 1
    sent: dict[str, int] = {}
    for k in range(GROUPS):
        slot = first + k
        wait_for_slot_start(procs, slot)
        group = wallets()[5 * k : 5 * k + 5]

        def request(wallet: str, slot: int = slot) -> dict:
            args = ["esu", "request", "--wallet", wallet, "--demand-kw", "11", "--soc-pct", "30", "--slots", "3"]
            if wallet == LATE:
                args += ["--slot", str(slot - 1)]  # an ESU whose clock lags: a slot already over
            return procs.json(*args)

        for wallet, answer in zip(group, parallel(request, group, workers=5)):
            sent[wallet] = slot
            if wallet == LATE:
                assert answer["status"] == "late" and "is over" in answer["reason"], answer
            else:
                assert answer["status"] in ("queued", "late"), answer  # late only if this machine was too slow

    # every wallet follows its request until the chain confirms it; the late one is resent with the same token
    def confirmed(wallet: str) -> dict:
        return procs.json("esu", "status", "--wallet", wallet)

    def all_confirmed() -> list[dict] | None:
        answers = parallel(confirmed, wallets())
        statuses = [a["requests"][0]["status"] for a in answers]
        return answers if all(s == "confirmed" for s in statuses) else None

    answers = wait_until(all_confirmed, 6 * SLOT_S, "every request confirmed on chain")
    late = next(a for a in answers if a["wallet"] == LATE)["requests"][0]
    assert late["slots_tried"][0] == sent[LATE] - 1 and late["slot"] >= sent[LATE], late
    last = max(a["requests"][0]["slot"] for a in answers)

    # the keeper closes every slot by itself; verify recomputes them all from the chain
    wait_until(
        lambda: procs.json("keeper", "status")["next_slot_to_close"] > last + 1,
        4 * SLOT_S,
        "the keeper to close the slots",
    )
    verified = procs.run("verify", "--slots", f"0..{last + 1}", "--json")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    verdicts = json.loads(verified.stdout)
    assert verdicts["ok"] and verdicts["counts"]["ok"] == last + 2, verdicts
    table = procs.run("verify", "--slots", f"0..{last + 1}")
    assert table.returncode == 0 and max(map(len, table.stdout.splitlines())) <= 80, table.stdout
    for answer in parallel(lambda w: procs.json("esu", "allocations", "--wallet", w), wallets()):
        assert answer["ok"] and answer["allocations"], answer
    granted = [a for w in answers for a in w["requests"]]
    assert len(granted) == ESUS


def test_a_v2v_trade_between_two_provider_processes_and_a_consumer(pilot):
    procs = pilot
    evs = {ev: procs.json("v2v", "register", "--ev", ev) for ev in ("p1", "p2", "c1")}
    for ev, reserve in (("p1", 150 * 10**12), ("p2", 200 * 10**12)):
        serve = ["v2v", "provider", "serve", "--ev", ev, "--rate-wei-per-kwh", str(reserve), "--step-pm", "200"]
        procs.start(ev, *serve)
    auction = ["--amount-wh", "4000", "--max-rate-wei-per-kwh", str(300 * 10**12), "--duration-s", "12"]
    opened = procs.json("v2v", "auction", "open", "--ev", "c1", *auction)
    time.sleep(max(0.0, opened["closing_time"] + 1 - time.time()))
    wait_until(
        lambda: len(procs.json("v2v", "auctions")["auctions"][0]["bids"]) >= 2 or None, 30, "both providers to bid"
    )
    ended = procs.json("v2v", "auction", "end", "--ev", "c1")
    winner = next(ev for ev in ("p1", "p2") if evs[ev]["address"] == ended["winner"])
    assert ended["url"] == evs[winner]["url"]  # found on chain, announced by the winner's registration
    session = procs.json("v2v", "auction", "session", "--ev", "c1")
    assert session["delivered_wh"] == session["receipted_wh"] == 4000
    settled = wait_until(
        lambda: (s := procs.json("v2v", "auction", "settle", "--ev", "c1"))["delivered_wh"] == 4000 and s,
        60,
        "the trade settled",
    )
    assert settled["delivered_wh"] == 4000
    procs.json("v2v", "auction", "withdraw", "--ev", "c1")
    for ev in ("p1", "p2"):
        procs.stop(ev)


POWER_W, SESSION_S = 11_000, 900  # the charge point could draw 11 kW; its session lasts one interval
BRIDGE_DEMAND_W = 7_400  # [bridge] demand_w, init's default: what the bridge asks for on the EV's behalf


def test_a_roaming_session_under_coordination_is_settled_and_billed(pilot):
    procs = pilot
    for args in (
        ["metering", "register-meter", "--meter", "cp1", "--owner", "host"],
        ["metering", "register-ev", "--ev", "ev1", "--owner", "ev_owner"],
        ["metering", "deposit", "--amount-wei", str(50 * 10**15)],
    ):
        procs.json(*args)
    tariff = procs.json("metering", "tariff", "--prices-wei-per-kwh", str(100 * 10**12))
    t0 = tariff["effective_from"]  # the session starts when the tariff does (the simulator's own clock)
    banner = procs.start("ocpp", "ocpp", "serve")
    assert banner["bridged"] == ["CP1"]

    # plug in at the start of a slot whose predecessor is closed: the first grant the bridge reads is this slot's
    slot = current_slot(procs) + 1
    wait_for_slot_start(procs, slot)
    wait_until(lambda: procs.json("keeper", "status")["next_slot_to_close"] >= slot, 2 * SLOT_S, "the keeper")
    session = ["--max-cost-wei", 20 * 10**15, "--power-w", POWER_W, "--start", t0, "--duration-s", SESSION_S]
    held = ["--soc-pct", 35, "--hold-s", 3 * SLOT_S, "--profiles", 1]
    cp = ["ocpp", "charge-point", "--id", "CP1", "--ev", "ev1", *session, *held, "--json"]
    charge = gridchain(*cp, config=procs.config, timeout=5 * SLOT_S)
    assert charge.returncode == 0, charge.stderr
    steps = [json.loads(line) for line in charge.stdout.splitlines()]
    profiles = [s for s in steps if s["action"] == "SetChargingProfile"]
    assert [(p["limit_w"], p["status"]) for p in profiles] == [(BRIDGE_DEMAND_W, "Accepted")], steps
    done = steps[-1]
    assert done["profiles_w"] == [BRIDGE_DEMAND_W] and done["total_wh"] == BRIDGE_DEMAND_W * SESSION_S // 3600
    _, log = procs.stop("ocpp")  # its JSON log lines are on stderr
    actions = [json.loads(line)["action"] for line in log.splitlines() if line.startswith("{")]
    assert {"request sent", "profile sent", "transaction stopped"} <= set(actions), actions
    for name in ("keeper", "relayer", "utility"):
        procs.stop(name)

    # the next day, as the world's clock would bring it: the gateway anchors, the host settles, the owner's bill
    # the end of the day the session ends in (a session started late in the evening runs into the next day)
    day_end = ((t0 + SESSION_S - 1) // m.PERIOD_S + 1) * m.PERIOD_S
    now = int(rpc(procs.url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    rpc(procs.url, "evm_increaseTime", [day_end + 60 - now])
    rpc(procs.url, "evm_mine")
    anchored = procs.json("metering", "anchor")
    assert {a["status"] for a in anchored["anchors"]} == {"anchored"}
    settled = procs.json("metering", "settle", "--transaction", str(done["transaction_id"]))
    cost = m.energy_cost([m.Tariff(t0, (100 * 10**12,) * 24)], done["first_interval"], done["energy_wh"])
    assert settled["cost_wei"] == cost == settled["paid_wei"]
    bill = procs.json("metering", "bill", "--party", "ev_owner")
    assert bill["charged_wei"] == cost and bill["energy_wh"] == done["total_wh"]


def test_the_node_stops_by_pid_and_its_state_file_keeps_the_contracts(pilot):
    procs = pilot
    procs.stop("node")
    assert procs.state.stat().st_size > 0
    restarted = procs.start("node", "node", "--port", procs.url.rsplit(":", 1)[1], "--state", str(procs.state))
    assert restarted["url"] == procs.url
    again = procs.json("deploy", "all")["contracts"]
    assert all(again[name]["reused"] for name in ("coordinator", "v2v", "metering")), again
    procs.stop("node")
