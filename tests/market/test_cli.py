"""`gridchain market demo` on the embedded chain (--json, the files it writes, bad values) and `[market]` as
`gridchain deploy market` reads it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.config.file import Config
from gridchain.errors import InputError
from gridchain.market.cli.deploy import market_params
from gridchain.market.model import Params

runner = CliRunner()


def test_demo_json_parses_and_the_files_are_written(tmp_path):
    r = runner.invoke(app, ["market", "demo", "--traders", "4", "--intervals", "2", "--json", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["config"]["traders"] == 4 and len(out["intervals"]) == 2 and out["chain"] == "embedded"
    assert out["totals"]["volume_wh"] == sum(i["volume_wh"] for i in out["intervals"])
    name = out["config"]["name"]
    assert (tmp_path / f"{name}.json").is_file() and (tmp_path / f"{name}.png").stat().st_size > 10_000


def test_demo_table_fits_80_columns(tmp_path):
    args = ["market", "demo", "--traders", "4", "--intervals", "2", "--rule", "trade-reduction", "--out", str(tmp_path)]
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.stderr
    assert "of LP" in r.stdout and "note: fills are settled in energy coins" in r.stdout
    assert "Settled in coins against the meters" in r.stdout and "(conserved)" in r.stdout
    assert "not transferred" not in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 80


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--traders", "1"], "--traders"),
        (["--traders", "201"], "--traders"),
        (["--intervals", "0"], "--intervals"),
        (["--rule", "pay-as-bid"], "--rule"),
        (["--rpc-url", "ftp://x"], "--rpc-url"),
    ],
)
def test_bad_values_exit_2_with_one_line_naming_the_option(args, option, tmp_path):
    r = runner.invoke(app, ["market", "demo", *args, "--out", str(tmp_path)])
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {option}: "), r.stderr


def config(tmp_path, market: dict | None) -> Config:
    return Config(tmp_path / "gridchain.toml", {} if market is None else {"market": market})


def test_market_section_defaults_and_values(tmp_path):
    assert market_params(config(tmp_path, None)) == Params(900, 300, 300, 96, 1, 0, 0)
    p = market_params(config(tmp_path, {"zones": 2, "zone_fees": [5, 7], "rule": "trade-reduction", "gate_s": 60}))
    assert (p.zones, p.zone_fees, p.rule, p.gate_s) == (2, 5 | (7 << 32), 1, 60)


@pytest.mark.parametrize(
    ("section", "option"),
    [
        ({"interval_s": 0}, "market.interval_s"),
        ({"horizon": 129}, "market.horizon"),
        ({"zones": 9}, "market.zones"),
        ({"zones": 2, "zone_fees": [1]}, "market.zone_fees"),
        ({"zone_fees": [2**32]}, "market.zone_fees"),
        ({"rule": "pay-as-bid"}, "market.rule"),
        ({"interval_s": 60, "horizon": 1}, "market.reveal_s"),
        ({"intervals": 4}, "market.intervals"),
    ],
)
def test_bad_market_sections_name_the_option(tmp_path, section, option):
    with pytest.raises(InputError, match=f"^{option}: "):
        market_params(config(tmp_path, section))
