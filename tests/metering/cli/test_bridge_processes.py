"""The charge-point bridge as the pilot runs it: processes only, through the CLI and the config, on anvil with a
moving clock (block_time=1): init, deploy all, `utility serve` (tokens, epoch keys, capacity), `relayer serve`,
`keeper run`, `ocpp serve` with [bridge] enabled, and `ocpp charge-point` as its own process with an EV reporting
its SoC, held plugged in across a slot close. The charge point reports the SetChargingProfile the bridge sent
with the slot's grant; the central system logs the request (with the EV's SoC) and the profile. Bad [bridge]
inputs are one-line errors."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from tests.coordination.test_cli_esu import Chain
from tests.support.pilot import init_pilot
from tests.support.processes import free_port, free_ports, gridchain, start

pytestmark = [pytest.mark.integration, pytest.mark.pilot]  # real-time processes: `make pilot-test`

SLOT_S = 20
MARGIN_S = 4


def error(args: list[str]) -> str:
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: "), r.stderr
    return r.stderr.removesuffix("\n")


def stop(p: subprocess.Popen) -> int:
    """SIGTERM (by PID), then its exit code."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()


def _collect(p: subprocess.Popen, into: list[dict]) -> None:
    """The daemon's JSON log lines (stderr), as they come."""
    for line in p.stderr:
        if line.startswith("{"):
            into.append(json.loads(line))


def _wait(condition, deadline_s: float = 3 * SLOT_S) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.fixture
def pilot(tmp_path):
    from gridchain.chain.anvil import start_anvil

    with start_anvil(block_time=1, accounts=1) as node:
        # the central system on a port of its own, the keeper looking every second, the bridge on
        edits = {"ocpp.listen": f'"127.0.0.1:{free_port()}"', "keeper.poll_s": 1.0, "bridge.enabled": "true"}
        config = init_pilot(
            tmp_path / "pilot", 0, free_ports(), node.url, edits, slot_length_s=SLOT_S, flush_margin_s=MARGIN_S
        )
        deployed = gridchain("deploy", "all", "--config", str(config), "--json")
        assert deployed.returncode == 0, deployed.stderr
        yield config


def _bad(config, old: str, new: str) -> str:
    bad = config.with_name("bad.toml")  # beside it: its relative paths stay right
    text = config.read_text()
    assert old in text, old
    bad.write_text(text.replace(old, new))
    return error(["ocpp", "serve", "--config", str(bad)])


def test_bad_bridge_inputs_are_one_line_errors(pilot):
    assert _bad(pilot, 'wallets = { CP1 = "cp1" }', 'wallets = { CP1 = "nobody" }') == (
        f"error: bridge.wallets.CP1: no wallet 'nobody' in '{pilot.parent / 'wallets'}': make it with "
        "`gridchain esu init --wallet nobody`"
    )
    assert _bad(pilot, 'wallets = { CP1 = "cp1" }', 'wallets = { CP9 = "cp1" }') == (
        "error: bridge.wallets.CP9: 'CP9' is not in ocpp.charge_points (CP1)"
    )
    assert _bad(pilot, 'wallets = { CP1 = "cp1" }', 'wallets = "cp1"') == (
        'error: bridge.wallets: must be a table {CP_ID = "wallet name"}'
    )
    assert _bad(pilot, "soc_pm = 500", "soc_pm = 1000") == "error: bridge.soc_pm: 1000 is outside 0..999"
    assert _bad(pilot, "[esu]", "[esu_]").endswith("has no [esu] section")
    assert _bad(pilot, "[esu]", "[esu_]").startswith("error: esu: ")
    assert _bad(pilot, "tcc = 4 ", "tcc = 4\ntcc_slots = 3 ").startswith(
        "error: bridge.tcc_slots: unknown option (this section knows: "
    )
    c = ["ocpp", "charge-point", "--id", "CP1", "--ev", "ev1", "--max-cost-wei", "1", "--config", str(pilot)]
    assert error([*c, "--soc-pct", "101"]) == "error: --soc-pct: 101 is outside 0..100"
    assert error([*c, "--hold-s", "-1"]) == "error: --hold-s: -1 is outside 0..86400"


def test_a_charge_point_process_receives_the_slot_grant_from_the_bridge(pilot):
    c = ["--config", str(pilot)]
    for args in (
        ["metering", "register-meter", "--meter", "cp1", "--owner", "host"],
        ["metering", "register-ev", "--ev", "ev1", "--owner", "ev_owner"],
        ["metering", "deposit", "--amount-wei", str(50 * 10**15)],
        ["metering", "tariff", "--prices-wei-per-kwh", "100000000000000"],
    ):
        done = gridchain(*args, *c, "--json")
        assert done.returncode == 0, done.stderr
    t0 = json.loads(done.stdout)["effective_from"]  # the session starts when the tariff does (simulated clock)
    chain = Chain(pilot)
    daemons = {"utility": start("utility", "serve", *c, "--json")}  # cp1 is a member: init wrote members.txt
    log: list[dict] = []
    try:
        _wait(lambda: chain.client.epoch_key(chain.client.epoch_of_slot(chain.slot())) != bytes(32))
        for name, args in (("relayer", ["relayer", "serve"]), ("keeper", ["keeper", "run"])):
            daemons[name] = start(*args, *c, "--json")
        daemons["ocpp"] = start("ocpp", "serve", *c, "--json")
        banner = json.loads(daemons["ocpp"].stdout.readline())
        assert banner["bridged"] == ["CP1"] and banner["pid"] == daemons["ocpp"].pid
        reader = threading.Thread(target=_collect, args=(daemons["ocpp"], log), daemon=True)
        reader.start()
        chain.wait_until(chain.client.slot_end(chain.slot()) + 1)  # a fresh slot s: time to ask in it
        s = chain.slot()
        _wait(lambda: chain.client.next_slot_to_close >= s)  # slot s - 1 closed: the first grant is s's
        session = ["--max-cost-wei", 20 * 10**15, "--power-w", 11000, "--start", t0, "--duration-s", 900]
        held = ["--soc-pct", 35, "--hold-s", 3 * SLOT_S, "--profiles", 1]
        charge = gridchain(
            "ocpp", "charge-point", "--id", "CP1", "--ev", "ev1", *session, *held, *c, "--json", timeout=4 * SLOT_S
        )
        assert charge.returncode == 0, charge.stderr
        _wait(lambda: any(entry["action"] == "transaction unbridged" for entry in log))
    finally:
        codes = {name: stop(p) for name, p in daemons.items()}
    reader.join(timeout=10)
    assert codes == {"utility": 0, "relayer": 0, "keeper": 0, "ocpp": 0}, codes
    steps = [json.loads(line) for line in charge.stdout.splitlines()]
    profiles = [step for step in steps if step["action"] == "SetChargingProfile"]
    expected = {"action": "SetChargingProfile", "connector_id": 1, "purpose": "TxProfile", "limit_w": 7_400}
    assert profiles == [{**expected, "status": "Accepted"}], log
    session = steps[-1]
    assert session["profiles_w"] == [7_400] and session["total_wh"] == 7_400 * 900 // 3600  # charged at the grant
    [sent] = [entry for entry in log if entry["action"] == "request sent"]
    assert (sent["soc_pm"], sent["soc_from"], sent["slot"], sent["status"]) == (350, "meter values", s, "queued")
    [pushed] = [entry for entry in log if entry["action"] == "profile sent"]
    assert (pushed["closed_slot"], pushed["granted_w"], pushed["answer"]) == (s, 7_400, "Accepted")
    tokens = [entry for entry in log if entry["action"] == "tokens"]
    assert tokens[0]["epochs"][0]["obtained"] == 4  # the quota, from `utility serve`, when the bridge started
    assert log[-1]["action"] == "stopped"
