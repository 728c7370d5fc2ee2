import json

from typer.testing import CliRunner

from gridchain.cli import app

runner = CliRunner()


def test_demo_summary():
    r = runner.invoke(app, ["demo"])
    assert r.exit_code == 0, r.stderr
    assert "A day of one community" in r.stdout
    for name in ("greedy", "fcfs", "optimal"):
        assert name in r.stdout


def test_demo_json():
    r = runner.invoke(app, ["demo", "--json", "--evs", "20", "--home-batteries", "3", "--policy", "fcfs"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["esus"] == 23 and data["policy"] == "fcfs"
    assert set(data["policies"]) == {"greedy", "fcfs", "optimal"}
    assert all(row["granted_w"] <= row["capacity_w"] for row in data["slots"])
    total = sum(row["granted_w"] for row in data["slots"])
    assert total == data["policies"]["fcfs"]["delivered_wh"]


def test_demo_bad_option():
    r = runner.invoke(app, ["demo", "--evs", "-1"])
    assert r.exit_code == 2 and r.stderr == "error: --evs: -1 is outside 0..10000\n"


def test_help_and_version():
    assert runner.invoke(app, ["--version"]).stdout.startswith("gridchain ")
    for args in (["--help"], ["schedule", "--help"], ["experiment", "fig2", "--help"], ["demo", "--help"]):
        r = runner.invoke(app, args)
        assert r.exit_code == 0 and "Usage" in r.stdout
