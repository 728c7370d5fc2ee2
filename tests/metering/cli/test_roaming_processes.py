"""A roaming session run as separate OS processes, only through the CLI and the config: init, deploy metering,
register a meter and an EV, a tariff, a deposit, `ocpp serve` and `ocpp charge-point` as processes, anchor,
settle, bill; the bill's numbers checked against the metering model. anvil mines a block every second; the test
moves its clock past the session and the day (what the world's time would do), as a node's RPC allows."""

from __future__ import annotations

import json
import signal
import time

import pytest

from gridchain.chain.anvil import start_anvil
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.metering import model as m
from tests.metering.cli.support import cli_json, free_port, gridchain_process, make_pilot, run

pytestmark = pytest.mark.integration

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
    config = make_pilot(tmp_path_factory.mktemp("pilot"), node.url, ocpp_port=free_port())
    cli_json("deploy", "metering", "--config", config)
    return config


def test_a_roaming_session_through_processes_is_settled_and_billed(node, pilot):
    meter = cli_json("metering", "register-meter", "--meter", "cp1", "--owner", "host", "--config", pilot)
    ev = cli_json("metering", "register-ev", "--ev", "ev1", "--owner", "ev_owner", "--config", pilot)
    tariff = cli_json("metering", "tariff", "--prices-wei-per-kwh", PRICES, "--config", pilot)
    deposit = cli_json("metering", "deposit", "--amount-wei", str(50 * 10**15), "--config", pilot)
    assert deposit["escrow_wei"] == 50 * 10**15
    t0 = tariff["effective_from"]  # the session starts when the tariff does (at most 15 minutes ahead)

    server = gridchain_process("ocpp", "serve", "--json", "--config", pilot)
    try:
        banner = json.loads(server.stdout.readline())
        assert banner["pid"] == server.pid and banner["charge_points"] == {"CP1": meter["meter"]}
        session_args = ["--max-cost-wei", MAX_COST_WEI, "--power-w", POWER_W, "--start", t0, "--duration-s", DURATION_S]
        cp = run("ocpp", "charge-point", "--id", "CP1", "--ev", "ev1", *session_args, "--json", "--config", pilot)
        assert cp.returncode == 0, cp.stderr
        steps = [json.loads(line) for line in cp.stdout.splitlines()]
        assert [s["action"] for s in steps][:3] == ["BootNotification", "DataTransfer SessionStart", "Authorize"]
        session = steps[-1]
        assert session["total_wh"] == POWER_W * DURATION_S // 3600 and session["ev"] == ev["ev"]
        sessions_file = pilot.parent / "ocpp-sessions.json"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
            sessions_file.exists() and json.loads(sessions_file.read_text())["sessions"]
        ):
            time.sleep(0.1)
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        log = [json.loads(line) for line in server.stderr.read().splitlines()]
    finally:
        if server.poll() is None:
            server.kill()
    actions = [entry["action"] for entry in log]
    assert "session admitted" in actions and "transaction stopped" in actions and actions[-1] == "stopped"

    chain = RpcGateway(node.url, [])
    day_end = (t0 // m.PERIOD_S + 1) * m.PERIOD_S
    chain.advance_time(max(t0 + DURATION_S, day_end) + 60 - chain.now())
    anchored = cli_json("metering", "anchor", "--config", pilot)
    assert anchored["kept"] == DURATION_S // m.INTERVAL_S
    assert {a["status"] for a in anchored["anchors"]} == {"anchored"}
    settled = cli_json("metering", "settle", "--transaction", str(session["transaction_id"]), "--config", pilot)
    tariffs = [m.Tariff(t0, tuple(int(p) for p in PRICES.split(",")))]
    cost = m.energy_cost(tariffs, session["first_interval"], session["energy_wh"])
    assert settled["cost_wei"] == cost == settled["paid_wei"] and settled["energy_wh"] == session["total_wh"]

    bill = cli_json("metering", "bill", "--party", "ev_owner", "--config", pilot)
    assert bill["charged_wei"] == cost and bill["energy_wh"] == session["total_wh"] and bill["credited_wei"] == 0
    assert [s["role"] for s in bill["sessions"]] == ["charged"]
    host = cli_json("metering", "bill", "--party", "host", "--config", pilot)
    assert host["credited_wei"] == cost and host["charged_wei"] == 0
    table = run("metering", "bill", "--party", "ev_owner", "--config", pilot)
    assert table.returncode == 0 and max(len(line) for line in table.stdout.splitlines()) <= 80
    again = run("metering", "settle", "--transaction", str(session["transaction_id"]), "--config", pilot)
    assert again.returncode == 2 and again.stderr == "error: metering: intervals already billed\n"
    credit = cli_json("metering", "withdraw", "--credit", "--config", pilot)
    assert credit["amount_wei"] == cost


def test_refusals_against_the_node_and_the_central_system(node, pilot):
    p = run("metering", "register-meter", "--meter", "cp1", "--config", pilot)  # registered by the test above
    assert p.returncode == 2 and p.stderr == "error: metering: meter already registered\n"
    p = run("metering", "tariff", "--prices-wei-per-kwh", "5", "--from", "900", "--config", pilot)
    assert p.returncode == 2 and p.stderr.startswith("error: --from: 900 is in the past")
    for human in (
        run("metering", "anchor", "--config", pilot),
        run("metering", "deposit", "--amount-wei", "1", "--config", pilot),
    ):
        assert human.returncode == 0 and max(len(line) for line in human.stdout.splitlines()) <= 80, human.stdout
    p = run("metering", "withdraw", "--config", pilot)
    assert p.returncode == 2 and p.stderr == "error: metering: no withdrawal requested\n"
    charge = ["ocpp", "charge-point", "--id", "CP1", "--ev", "ev1", "--duration-s", "900", "--config", pilot]
    server = gridchain_process("ocpp", "serve", "--config", pilot)
    try:
        assert server.stdout.readline().startswith("ocpp central system at ws://127.0.0.1:")
        busy = run("ocpp", "serve", "--config", pilot)
        assert busy.returncode == 2 and busy.stderr.startswith("error: ocpp.listen: cannot listen on 127.0.0.1:")
        cheap = run(*charge, "--max-cost-wei", "1")
        assert cheap.returncode == 2 and cheap.stderr.startswith(
            "error: --ev: the central system refused the session start: max_cost_wei: the EV's signed maximum 1 wei"
        )
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
    gone = run(*charge, "--max-cost-wei", str(MAX_COST_WEI))
    assert gone.returncode == 2 and gone.stderr.startswith("error: ocpp.listen: no central system at ws://127.0.0.1:")
