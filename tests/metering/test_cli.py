"""`gridchain metering demo` and `gridchain meter prove` on the embedded chain (anvil: see test_scenarios.py)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from gridchain.cli import app

runner = CliRunner()


def test_demo_prints_bills_and_writes_the_archive_and_plot(tmp_path):
    r = runner.invoke(app, ["metering", "demo", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    for text in ("SetChargingProfile", "reserved", "Bills for the day", "net bill", "NILM flag", "refused"):
        assert text in r.stdout, text
    for name in ("metering_demo_seed0.json", "metering_demo_seed0_readings.json", "metering_demo_seed0.png"):
        assert (tmp_path / name).stat().st_size > 0, name


def test_prove_off_chain_from_the_archive_and_a_tampered_one(tmp_path):
    r = runner.invoke(app, ["metering", "demo", "--out", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    day = json.loads(r.stdout)
    meter, t = day["parties"]["ev_owner_meter"], day["config"]["day_start"] + 7 * 3600
    archive = tmp_path / "metering_demo_seed0_readings.json"
    ok = runner.invoke(
        app, ["meter", "prove", "--archive", str(archive), "--meter", meter, "--interval-start", str(t), "--json"]
    )
    assert ok.exit_code == 0, ok.output
    out = json.loads(ok.stdout)
    assert out["verified_off_chain"] and out["root"] == day["anchors"]["ev_owner"]["root"] and len(out["proof"]) == 7
    data = json.loads(archive.read_text())
    for anchor in data["anchors"]:
        for reading in anchor["readings"]:
            if reading["intervalStart"] == t and anchor["meter"] == meter.lower():
                reading["activeWh"] += 1
    archive.write_text(json.dumps(data))
    bad = runner.invoke(
        app, ["meter", "prove", "--archive", str(archive), "--meter", meter, "--interval-start", str(t), "--json"]
    )
    assert bad.exit_code == 1 and json.loads(bad.stdout)["verified_off_chain"] is False


def test_bad_input_exits_2_naming_the_field(tmp_path):
    missing = runner.invoke(
        app, ["meter", "prove", "--archive", str(tmp_path / "none.json"), "--meter", "0x1", "--interval-start", "0"]
    )
    assert missing.exit_code == 2 and "--archive" in missing.stderr
    (tmp_path / "x.json").write_text("{}")
    wrong = runner.invoke(
        app, ["meter", "prove", "--archive", str(tmp_path / "x.json"), "--meter", "0x1", "--interval-start", "0"]
    )
    assert wrong.exit_code == 2 and "not a readings archive" in wrong.stderr
    blocked = tmp_path / "file"
    blocked.write_text("")
    out = runner.invoke(app, ["metering", "demo", "--out", str(blocked / "sub")])
    assert out.exit_code == 2 and "--out" in out.stderr


def test_a_charge_point_retrying_for_longer_than_an_hour_is_refused():
    args = ["ocpp", "charge-point", "--id", "CP1", "--ev", "ev1", "--max-cost-wei", "1", "--reconnect-s", "3601"]
    r = runner.invoke(app, args)
    assert r.exit_code == 2 and r.stderr == "error: --reconnect-s: 3601 is outside 0..3600\n"


def test_help_explains():
    r = runner.invoke(app, ["metering", "demo", "--help"])
    assert r.exit_code == 0 and "relative" in r.stdout and "--rpc-url" in r.stdout
    r = runner.invoke(app, ["meter", "prove", "--help"])
    assert r.exit_code == 0 and "Merkle" in r.stdout
