"""A roaming session run as separate OS processes, only through the CLI and the config: init, deploy metering,
register a meter and an EV, a tariff, a deposit, `ocpp serve` and `ocpp charge-point` as processes, anchor,
settle, bill; the bill's numbers checked against the metering model. anvil mines a block every second; the test
moves its clock past the session and the day (what the world's time would do), as a node's RPC allows."""

from __future__ import annotations

import json
import signal

import pytest

from gridchain.chain.anvil import start_anvil
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.metering import model as m
from tests.support.pilot import init_pilot
from tests.support.processes import (
    free_port,
    gridchain,
    gridchain_json,
    json_lines,
    kill,
    read_banner,
    start,
    stop,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.pilot]  # real-time processes: `make pilot-test`

PRICE_DAY, PRICE_NIGHT = 300 * 10**12, 100 * 10**12  # [wei/kWh]
PRICES = ",".join(str(PRICE_NIGHT if h < 6 else PRICE_DAY) for h in range(24))
MAX_COST_WEI = 20 * 10**15
POWER_W, DURATION_S = 7_400, 3_600


@pytest.fixture(scope="module")
def node():
    anvil = start_anvil(block_time=1, accounts=2)
    try:
        yield anvil
    finally:
        anvil.stop()


@pytest.fixture(scope="module")
def pilot(node, tmp_path_factory):
    listen = f'"127.0.0.1:{free_port()}"'
    config = init_pilot(tmp_path_factory.mktemp("pilot") / "p", 0, rpc_url=node.url, edits={"ocpp.listen": listen})
    gridchain_json("deploy", "metering", "--config", config)
    return config


def test_a_roaming_session_through_processes_is_settled_and_billed(node, pilot):
    meter = gridchain_json("metering", "register-meter", "--meter", "cp1", "--owner", "host", "--config", pilot)
    ev = gridchain_json("metering", "register-ev", "--ev", "ev1", "--owner", "ev_owner", "--config", pilot)
    tariff = gridchain_json("metering", "tariff", "--prices-wei-per-kwh", PRICES, "--config", pilot)
    deposit = gridchain_json("metering", "deposit", "--amount-wei", str(50 * 10**15), "--config", pilot)
    assert deposit["escrow_wei"] == 50 * 10**15
    t0 = tariff["effective_from"]  # the session starts when the tariff does (at most 15 minutes ahead)

    server = start("ocpp", "serve", "--json", "--config", pilot)
    try:
        banner = read_banner(server)
        assert banner["pid"] == server.pid and banner["charge_points"] == {"CP1": meter["meter"]}
        session_args = ["--max-cost-wei", MAX_COST_WEI, "--power-w", POWER_W, "--start", t0, "--duration-s", DURATION_S]
        cp = gridchain("ocpp", "charge-point", "--id", "CP1", "--ev", "ev1", *session_args, "--json", "--config", pilot)
        assert cp.returncode == 0, cp.stderr
        steps = [json.loads(line) for line in cp.stdout.splitlines()]
        assert [s["action"] for s in steps][:3] == ["BootNotification", "DataTransfer SessionStart", "Authorize"]
        session = steps[-1]
        assert session["total_wh"] == POWER_W * DURATION_S // 3600 and session["ev"] == ev["ev"]
        sessions_file = pilot.parent / "ocpp-sessions.json"
        wait_until(
            lambda: sessions_file.exists() and json.loads(sessions_file.read_text())["sessions"],
            10,
            "the central system to save the session",
            interval_s=0.1,
        )
        log = json_lines(stop(server)[1])
    finally:
        kill(server)
    actions = [entry["action"] for entry in log]
    assert "session admitted" in actions and "transaction stopped" in actions and actions[-1] == "stopped"

    chain = RpcGateway(node.url, [])
    # the end of the day the session ends in (a session started late in the evening runs into the next day)
    day_end = ((t0 + DURATION_S - 1) // m.PERIOD_S + 1) * m.PERIOD_S
    chain.advance_time(day_end + 60 - chain.now())
    anchored = gridchain_json("metering", "anchor", "--config", pilot)
    assert anchored["kept"] == DURATION_S // m.INTERVAL_S
    assert {a["status"] for a in anchored["anchors"]} == {"anchored"}
    settled = gridchain_json("metering", "settle", "--transaction", str(session["transaction_id"]), "--config", pilot)
    tariffs = [m.Tariff(t0, tuple(int(p) for p in PRICES.split(",")))]
    cost = m.energy_cost(tariffs, session["first_interval"], session["energy_wh"])
    assert settled["cost_wei"] == cost == settled["paid_wei"] and settled["energy_wh"] == session["total_wh"]

    bill = gridchain_json("metering", "bill", "--party", "ev_owner", "--config", pilot)
    assert bill["charged_wei"] == cost and bill["energy_wh"] == session["total_wh"] and bill["credited_wei"] == 0
    assert [s["role"] for s in bill["sessions"]] == ["charged"]
    host = gridchain_json("metering", "bill", "--party", "host", "--config", pilot)
    assert host["credited_wei"] == cost and host["charged_wei"] == 0
    table = gridchain("metering", "bill", "--party", "ev_owner", "--config", pilot)
    assert table.returncode == 0 and max(len(line) for line in table.stdout.splitlines()) <= 80
    again = gridchain("metering", "settle", "--transaction", str(session["transaction_id"]), "--config", pilot)
    assert again.returncode == 2 and again.stderr.startswith(
        f"error: --transaction: {session['transaction_id']} is settled already (transaction 0x"
    )
    credit = gridchain_json("metering", "withdraw", "--credit", "--config", pilot)
    assert credit["amount_wei"] == cost


def test_a_central_system_killed_mid_transaction_resumes_and_its_session_settles_once(node, pilot):
    """SIGKILL `ocpp serve` while a charge point's transaction is open; the charge point meters on, queues its
    messages and reconnects with backoff to the restarted central system, which resumes from the store: every
    sample stored once, the session settled once."""
    from gridchain.ocpp.backend import RecordingBackend
    from gridchain.ocpp.store import OcppStore
    from gridchain.store.engine import open_store, sqlite_url

    chain = RpcGateway(node.url, [])
    s0 = (chain.now() // m.INTERVAL_S + 1) * m.INTERVAL_S  # after every interval billed by the test above
    server = start("ocpp", "serve", "--json", "--config", pilot)
    cp = None
    try:
        read_banner(server)
        session_args = ["--max-cost-wei", MAX_COST_WEI, "--start", s0, "--duration-s", DURATION_S, "--hold-s", 2]
        cp = start("ocpp", "charge-point", "--id", "CP1", "--ev", "ev1", *session_args, "--json", "--config", pilot)
        steps = [json.loads(cp.stdout.readline()) for _ in range(4)]
        assert steps[-1]["action"] == "StartTransaction", steps
        transaction_id = steps[-1]["transaction_id"]
        kill(server)  # SIGKILL with the transaction open
        server = start("ocpp", "serve", "--json", "--config", pilot)
        read_banner(server)
        out, err = cp.communicate(timeout=120)
        assert cp.returncode == 0, err[-2000:]
        steps += [json.loads(line) for line in out.splitlines()]
        assert "Reconnected" in [s["action"] for s in steps] and steps[-1]["transaction_id"] == transaction_id
        sessions_file = pilot.parent / "ocpp-sessions.json"

        def saved():
            data = json.loads(sessions_file.read_text())
            return [s for s in data["sessions"] if s["transaction_id"] == transaction_id]

        wait_until(saved, 10, "the restarted central system to save the session", interval_s=0.1)
        log = json_lines(stop(server)[1])
    finally:
        kill(server)
        if cp is not None:
            kill(cp)
    restored = [entry for entry in log if entry["action"] == "restored"]
    assert restored and restored[0]["sessions_pending"] == 1 and restored[0]["transactions"] >= 2
    db = open_store(sqlite_url(pilot.parent / "state" / "gridchain.db"))
    try:
        record = RecordingBackend(store=OcppStore(db)).transaction(transaction_id)
        stored = OcppStore(db).count_samples(transaction_id)
    finally:
        db.close()
    contexts = [s.context for s in record.samples]
    assert stored == len(record.samples) and not record.open and record.energy_wh == steps[-1]["total_wh"]
    assert contexts.count("Transaction.Begin") == 1 and contexts.count("Transaction.End") == 1
    assert contexts.count("Sample.Clock") == steps[-1]["signed_readings"]

    chain.advance_time(s0 + DURATION_S + m.INTERVAL_S - chain.now())
    settled = gridchain_json("metering", "settle", "--transaction", str(transaction_id), "--config", pilot)
    assert settled["energy_wh"] == steps[-1]["total_wh"]
    again = gridchain("metering", "settle", "--transaction", str(transaction_id), "--config", pilot)
    assert again.returncode == 2 and "is settled already" in again.stderr


def test_refusals_against_the_node_and_the_central_system(node, pilot):
    p = gridchain("metering", "register-meter", "--meter", "cp1", "--config", pilot)  # registered by the test above
    assert p.returncode == 2 and p.stderr == "error: metering: meter already registered\n"
    p = gridchain("metering", "tariff", "--prices-wei-per-kwh", "5", "--from", "900", "--config", pilot)
    assert p.returncode == 2 and p.stderr.startswith("error: --from: 900 is in the past")
    for human in (
        gridchain("metering", "anchor", "--config", pilot),
        gridchain("metering", "deposit", "--amount-wei", "1", "--config", pilot),
    ):
        assert human.returncode == 0 and max(len(line) for line in human.stdout.splitlines()) <= 80, human.stdout
    p = gridchain("metering", "withdraw", "--config", pilot)
    assert p.returncode == 2 and p.stderr == "error: metering: no withdrawal requested\n"
    charge = ["ocpp", "charge-point", "--id", "CP1", "--ev", "ev1", "--duration-s", "900", "--config", pilot]
    server = start("ocpp", "serve", "--config", pilot)
    try:
        assert server.stdout.readline().startswith("ocpp central system at ws://127.0.0.1:")
        busy = gridchain("ocpp", "serve", "--config", pilot)
        assert busy.returncode == 2 and busy.stderr.startswith("error: ocpp.listen: cannot listen on 127.0.0.1:")
        cheap = gridchain(*charge, "--max-cost-wei", "1")
        assert cheap.returncode == 2 and cheap.stderr.startswith(
            "error: --ev: the central system refused the session start: max_cost_wei: the EV's signed maximum 1 wei"
        )
        stop(server, signal.SIGINT)
    finally:
        kill(server)
    gone = gridchain(*charge, "--max-cost-wei", str(MAX_COST_WEI), "--reconnect-s", "0")  # not retried
    assert gone.returncode == 2 and gone.stderr.startswith("error: ocpp.listen: no central system at ws://127.0.0.1:")
