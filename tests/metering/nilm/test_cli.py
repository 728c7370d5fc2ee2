"""`gridchain experiment nilm`: JSON, table, files named by the configuration, bad options."""

import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app

runner = CliRunner()
SMALL = ["--households", "2", "--tune-households", "2", "--days", "1", "--seed", "3"]


def test_nilm_json_and_files(tmp_path):
    r = runner.invoke(app, ["experiment", "nilm", *SMALL, "--json", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["experiment"] == "nilm" and summary["config"]["households"] == 2
    assert {(x["resolution_s"], x["model"]) for x in summary["results"]} == {
        (60, "forest"),
        (60, "rules"),
        (900, "forest"),
        (900, "rules"),
    }
    for x in summary["results"]:
        assert 0 <= x["precision"] <= 1 and 0 <= x["recall"] <= 1 and 0 <= x["f1"] <= 1
    stem = "nilm_h2_t2_d1_seed3"
    assert json.loads((tmp_path / f"{stem}.json").read_text()) == summary
    png = (tmp_path / f"{stem}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_nilm_table_writes_nothing_without_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["experiment", "nilm", *SMALL])
    assert r.exit_code == 0, r.stderr
    assert "precision" in r.stdout and "15 min" in r.stdout and "forest" in r.stdout
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--households", "0"], "error: --households: 0 is outside 1..1000"),
        (["--tune-households", "1001"], "error: --tune-households: 1001 is outside 1..1000"),
        (["--days", "0"], "error: --days: 0 is outside 1..365"),
        (["--seed", "-1"], "error: --seed: -1 is outside 0..4294967295"),
    ],
)
def test_nilm_bad_options(args, message):
    r = runner.invoke(app, ["experiment", "nilm", *args])
    assert r.exit_code == 2 and r.stderr.startswith(message) and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1


def test_nilm_unwritable_out(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = runner.invoke(app, ["experiment", "nilm", *SMALL, "--out", str(blocker / "sub")])
    assert r.exit_code == 2 and r.stderr.startswith("error: --out: cannot create")


def test_nilm_not_an_integer():
    r = runner.invoke(app, ["experiment", "nilm", "--days", "x"])
    assert r.exit_code == 2 and "--days" in r.stderr
