"""`gridchain experiment grid`: JSON, table, files named by the configuration, bad options."""

import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app

runner = CliRunner()
SMALL = [
    "--grid",
    "1-LV-semiurb4--0-sw",
    "--evs",
    "12",
    "--seed",
    "2",
    "--policies",
    "uncontrolled,greedy,llf",
    "--sweep",
    "25,50",
]


def test_grid_json_and_files(tmp_path):
    r = runner.invoke(app, ["experiment", "grid", *SMALL, "--json", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["config"]["evs"] == 12 and summary["households"] == 32
    assert list(summary["policies"]) == ["uncontrolled", "greedy", "llf"]
    assert summary["day"] == 20  # semiurb4's highest base load: in the day from noon of 21 January 2016
    for m in summary["policies"].values():
        assert 0 <= m["energy_delivered"] <= 1 and 0 < m["min_vm_pu"] < 1.2 and m["peak_trafo_loading_pct"] > 0
    assert len(summary["series"]["greedy"]["loading_pct"]) == 96
    assert [p["penetration"] for p in summary["sweep"]] == [25, 50]
    assert [p["evs"] for p in summary["sweep"]] == [8, 16]
    stem = "grid_semiurb4_12ev_1d_s2"
    assert json.loads((tmp_path / f"{stem}.json").read_text()) == summary
    png = (tmp_path / f"{stem}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000


def test_grid_table_names_the_columns(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["experiment", "grid", *SMALL[:6], "--policies", "edf", "--sweep", "", "--day", "100"])
    assert r.exit_code == 0, r.stderr
    assert "trafo" in r.stdout and "edf" in r.stdout and "2016-04-10" in r.stdout and "EVs full" in r.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--evs", "-1"], "--evs: -1 is outside 0..5000"),
        (["--days", "15"], "--days: 15 is outside 1..14"),
        (["--grid", "1-MV-rural--0-sw"], "--grid: '1-MV-rural--0-sw' is not one of"),
        (["--policies", "greedy,cheapest"], "--policies: 'cheapest' is not one of"),
        (["--policies", " , "], "--policies: ' , ' names no policy"),
        (["--sweep", "10,x"], "--sweep: '10,x' is not a comma-separated list of integers"),
        (["--sweep", "0"], "--sweep: 0 is outside 1..1000"),
        (["--day", "400"], "--day: 400 is outside 0..364"),
        (["--reserve", "0"], "--reserve: 0.0 is outside (0, 1]"),
        (["--solver", "numba"], "--solver: 'numba' is not one of auto, lightsim2grid, pandapower"),
    ],
)
def test_bad_options_name_the_option(args, message, tmp_path):
    r = runner.invoke(app, ["experiment", "grid", *args, "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert message in r.stderr
    assert not (tmp_path / "o").exists()  # nothing written
