"""`gridchain experiment petcon`: JSON, files named by the configuration, the 80-column table, bad options."""

import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app

runner = CliRunner()


def test_petcon_json_and_files(tmp_path):
    r = runner.invoke(app, ["experiment", "petcon", "--runs", "2", "--seed", "3", "--json", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["config"] == {"runs": 2, "seed": 3, "tau": 0.4, "damping": 0.5, "max_rounds": 400}
    damped, published = summary["variants"]["damped"], summary["variants"]["published"]
    assert damped["outcomes"]["converged"] == 2 and damped["kkt_ok"] == 2 and damped["budget_balanced"] == 2
    assert damped["gap_final_max"] < 1e-3
    assert published["outcomes"]["converged"] == 0
    assert len(damped["rounds"]) == 2 and len(damped["gap_by_round"]) == 400
    stem = "petcon_2r_s3_tau0.4_a0.5"
    assert json.loads((tmp_path / f"{stem}.json").read_text()) == summary
    assert (tmp_path / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_petcon_table_fits_80_columns(tmp_path):
    r = runner.invoke(app, ["experiment", "petcon", "--runs", "1", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.stderr
    assert "budget balanced" in r.stdout and "11.9" in r.stdout and "2.50" in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 80


@pytest.mark.parametrize(
    "args, message",
    [
        (["--runs", "0"], "--runs: 0 is outside 1..100000"),
        (["--damping", "1.5"], "--damping: 1.5 is outside (0, 1)"),
        (["--tau", "-1"], "--tau: -1.0 is not a positive number"),
        (["--max-rounds", "1"], "--max-rounds: 1 is outside 2..10000"),
    ],
)
def test_petcon_bad_options_exit_2_naming_the_field(args, message, tmp_path):
    r = runner.invoke(app, ["experiment", "petcon", *args, "--out", str(tmp_path)])
    assert r.exit_code == 2
    assert r.stderr.strip() == f"error: {message}"
    assert list(tmp_path.iterdir()) == []
