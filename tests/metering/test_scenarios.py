"""The metering day (sim/metering_demo.py) end to end: on the embedded chain, and over JSON-RPC on anvil with
`gridchain meter prove` asking the contract."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.metering import model as m
from gridchain.metering.scenarios import demo as metering_demo
from gridchain.metering.scenarios.demo import DemoConfig


def check_day(r: dict, config: DemoConfig) -> None:
    s, o, b = r["session"], r["ocpp"], r["bills"]
    # OCPP: the central system's energy is the charge point's register delta, despite the disconnect
    assert [e["event"] for e in o["log"]] == [
        "reserve",
        "start",
        "SetChargingProfile",
        "disconnect",
        "reconnect",
        "stop",
    ]
    assert o["energy_wh"] == s["energy_wh"] == sum(s["energy_per_interval_wh"])
    assert o["allocation_w"] == 3_700 and "Accepted" in o["log"][2]["detail"]
    # the energy: full power until the allocation, then the allocation, exactly (integer meter)
    full = (config.allocation_min - config.arrival_min) * 60 * config.ev_max_power_w
    limited = (config.departure_min - config.allocation_min) * 60 * 3_700
    assert s["energy_wh"] == (full + limited) // 3600
    # settlement: the EV owner pays the host at the tariff in force in each interval
    tariffs = [m.Tariff(r["config"]["day_start"], tuple(r["config"]["tariff_wei_per_kwh"]))]
    assert s["cost_wei"] == m.energy_cost(tariffs, s["first_interval"], s["energy_per_interval_wh"])
    assert s["payer"] == r["parties"]["ev_owner"].lower() and s["host"] == r["parties"]["host"].lower()
    # the EV's signed maximum was reserved at the plug; the session paid from it, the rest went back
    assert s["reserved_wei"] == config.max_cost_wei > s["cost_wei"] == s["paid_wei"]
    assert s["reservation_left_wei"] == 0
    assert b["ev_owner"]["escrow_after_wei"] == b["ev_owner"]["escrow_before_wei"] - s["cost_wei"]
    assert b["host"]["roaming_credit_wei"] == s["cost_wei"] == r["host_credit_withdrawn_wei"]
    # the host's bill is net of the roaming energy
    assert b["host"]["net_wh"] == b["host"]["household_wh"] - s["energy_wh"]
    assert b["host"]["net_cost_wei"] < b["host"]["household_cost_wei"]
    # anchors: 96 readings for each household meter, the charge point's clock-aligned readings
    assert r["anchors"]["host"]["readings"] == r["anchors"]["ev_owner"]["readings"] == 96
    assert r["anchors"]["charge_point"]["readings"] == (config.departure_min // 15 - config.arrival_min // 15)
    assert r["proof"]["verified_on_chain"] is True and r["proof"]["tampered_verified"] is False
    # NILM: the unannounced session is flagged; the signed session is not
    day0 = r["config"]["day_start"]
    flagged = r["nilm"]["host_flagged"]
    a, z = config.unannounced_min
    assert any(f["start_min"] <= a + 5 and f["end_min"] >= z - 5 for f in flagged)
    session_span = (s["first_interval"] * 900 - day0, (s["first_interval"] + s["intervals"]) * 900 - day0)
    assert not any(f["start"] - day0 < session_span[1] and f["end"] - day0 > session_span[0] for f in flagged)


def test_a_metering_day_on_the_embedded_chain():
    config = DemoConfig(seed=0)
    r = metering_demo.run(BoaGateway(accounts=4), config)
    check_day(r, config)
    assert r["config"]["chain"] == "embedded"


def test_the_demo_is_deterministic_for_a_seed():
    a = metering_demo.run(BoaGateway(accounts=4), DemoConfig(seed=3))
    b = metering_demo.run(BoaGateway(accounts=4), DemoConfig(seed=3))
    assert a["bills"] == b["bills"] and a["nilm"] == b["nilm"] and a["session"] == b["session"]


@pytest.mark.integration
def test_a_metering_day_over_json_rpc_on_anvil_and_a_proof_on_chain(tmp_path):
    from gridchain.chain.anvil import start_anvil
    from gridchain.cli import app

    runner = CliRunner()
    with start_anvil(accounts=4) as node:
        r = runner.invoke(app, ["metering", "demo", "--rpc-url", node.url, "--out", str(tmp_path), "--json"])
        assert r.exit_code == 0, r.output
        day = json.loads(r.stdout)
        check_day(day | {"series": None}, DemoConfig())
        assert day["config"]["chain"] == "rpc"
        meter = day["parties"]["host_meter"]
        t = day["config"]["day_start"] + 18 * 3600
        archive = tmp_path / "metering_demo_seed0_readings.json"
        proved = runner.invoke(
            app,
            [
                "meter",
                "prove",
                "--archive",
                str(archive),
                "--meter",
                meter,
                "--interval-start",
                str(t),
                "--rpc-url",
                node.url,
                "--json",
            ],
        )
        assert proved.exit_code == 0, proved.output
        out = json.loads(proved.stdout)
        assert out["verified_on_chain"] is True and out["verified_off_chain"] is True
        assert out["on_chain_root"] == day["anchors"]["host"]["root"][2:]
        # a tampered archive: the reading proves neither off nor on chain, and the command exits 1
        data = json.loads(archive.read_text())
        entry = next(a for a in data["anchors"] if a["meter"] == meter.lower())
        reading = next(x for x in entry["readings"] if x["intervalStart"] == t)
        reading["activeWh"] -= 500
        archive.write_text(json.dumps(data))
        forged = runner.invoke(
            app,
            [
                "meter",
                "prove",
                "--archive",
                str(archive),
                "--meter",
                meter,
                "--interval-start",
                str(t),
                "--rpc-url",
                node.url,
                "--json",
            ],
        )
        assert forged.exit_code == 1
        assert json.loads(forged.stdout)["verified_on_chain"] is False
