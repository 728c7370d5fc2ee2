import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app

runner = CliRunner()


def test_fig2_json_files_and_plot(tmp_path):
    r = runner.invoke(
        app,
        ["experiment", "fig2", "--runs", "2", "--lambdas", "4,16", "--out", str(tmp_path), "--json", "--workers", "1"],
    )
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["lambdas"] == [4, 16] and summary["runs"] == 2
    for name in ("greedy", "fcfs", "optimal"):
        entry = summary["policies"][name]
        assert len(entry["charging_index"]) == len(entry["ci95"]) == 2
        assert len(entry["energy_delivered"]) == len(entry["fully_served"]) == 2
    stem = "fig2_runs2_seed0_lam4-16"
    assert json.loads((tmp_path / f"{stem}.json").read_text()) == summary
    png = (tmp_path / f"{stem}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_fig2_table(tmp_path):
    r = runner.invoke(app, ["experiment", "fig2", "--runs", "2", "--lambdas", "16", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.stderr
    assert "Charging index" in r.stdout and "greedy - fcfs" in r.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--runs", "0"], "error: --runs: 0 is outside 1..100000"),
        (["--lambdas", "2,x"], "error: --lambdas: '2,x' is not a comma-separated list of integers"),
        (["--lambdas", "-3"], "error: --lambdas: -3 is outside 0..10000"),
    ],
)
def test_fig2_bad_options(tmp_path, args, message):
    r = runner.invoke(app, ["experiment", "fig2", "--out", str(tmp_path), *args])
    assert r.exit_code == 2 and r.stderr.startswith(message) and r.stdout == ""


def test_fig2_unwritable_out(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = runner.invoke(app, ["experiment", "fig2", "--runs", "1", "--out", str(blocker / "sub")])
    assert r.exit_code == 2 and r.stderr.startswith("error: --out: cannot create")
