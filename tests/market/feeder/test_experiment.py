"""`gridchain experiment market` on a few intervals of rural3's sunniest day: rule 0 at the LP optimum in every
interval, rule 1 below it and budget balanced, the no-market flows equal to the grid feature's baseline, the CLI."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.grid import simbench_feeder
from gridchain.market.feeder.model import clear_interval, interval_orders
from gridchain.market.feeder.scenarios import (
    FAR_ZONE_FEE_UC_PER_KWH,
    RETAIL_UC_PER_KWH,
    MarketConfig,
    forecast,
    market_metrics,
    run,
    sunniest_day,
)

runner = CliRunner()
WINDOW = {"start": 24, "intervals": 8}  # 6:00 to 8:00: PV rising, the forecast varies
FEEDER = "1-LV-rural3--0-sw"


@pytest.fixture(scope="module")
def short():
    return run(MarketConfig(feeder=FEEDER, seed=5, battery_share=0.5, **WINDOW))


def test_the_short_run_is_named_and_placed_by_its_configuration(short):
    assert short["name"] == "market_rural3_d146_s5_b0.5_i24+8"
    assert short["day"] == sunniest_day(simbench_feeder(FEEDER)) == 146
    assert short["households"] == 113 and short["prosumers"] == 16 and short["batteries"] == 56
    assert 0 < short["zone1_households"] < short["households"]
    assert short["assumptions"]["zone1_fee_ct"] == FAR_ZONE_FEE_UC_PER_KWH / 1e4


def test_rule_0_is_the_lp_optimum_in_every_interval_rule_1_below_it(short):
    for name, series in short["series"]["market"].items():
        best = np.array(series["optimum_coin"])
        assert np.all(best > 0), name  # every interval of the window trades
        assert series["rule0_welfare_coin"] == pytest.approx(series["optimum_coin"], rel=1e-9)
        assert np.all(np.array(series["rule1_welfare_coin"]) <= best + 1e-12)
        totals = short["market"][name]
        assert totals["rule0"]["efficiency"] == pytest.approx(1.0, rel=1e-9)
        assert 0 < totals["rule1"]["efficiency"] < 1


def test_both_rules_are_weakly_budget_balanced_and_prices_lie_between_the_tariffs(short):
    for totals in short["market"].values():
        for rule in ("rule0", "rule1"):
            m = totals[rule]
            assert m["budget_balanced_every_interval"]
            assert m["collected_coin"] >= m["paid_out_coin"] + m["grid_fees_coin"]
            assert 8 <= m["avg_sell_price_ct"] <= m["avg_buy_price_ct"] <= 30 + 2


def test_the_no_market_flows_are_the_grid_features_baseline(short):
    feeder = simbench_feeder(FEEDER)
    first = 146 * 96 + WINDOW["start"]
    _, baseline = feeder.capacities(range(first, first + WINDOW["intervals"]))
    got = short["series"]["trafo_loading_pct"]["no market"]
    assert got == pytest.approx([round(f.trafo_loading_pct, 3) for f in baseline], abs=1e-3)
    assert short["flows"]["no market"]["min_vm_pu"] == pytest.approx(min(f.min_vm_pu for f in baseline), abs=1e-9)
    assert short["series"]["trafo_loading_pct"]["market, spread"] != got  # the batteries' response shows


def test_the_forecast_falls_back_to_the_tariffs_where_nothing_trades(short):
    assert forecast([]).size == 0
    assert short["series"]["forecast_ct"] == [
        p for p in short["series"]["market"]["no batteries"]["rule0_price_ct"]
    ]  # the window trades throughout: the forecast is the uniform price
    assert RETAIL_UC_PER_KWH / 1e4 >= max(short["series"]["forecast_ct"])


def test_cli_json_and_files(tmp_path):
    args = ["experiment", "market", "--seed", "5", "--battery-share", "0.5", "--json", "--out", str(tmp_path)]
    r = runner.invoke(app, [*args, "--start", "24", "--intervals", "8"])
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["config"] == {"feeder": FEEDER, "day": None, "seed": 5, "battery_share": 0.5, **WINDOW}
    stem = "market_rural3_d146_s5_b0.5_i24+8"
    assert json.loads((tmp_path / f"{stem}.json").read_text()) == summary
    assert (tmp_path / f"{stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_tables_fit_80_columns(tmp_path):
    r = runner.invoke(app, ["experiment", "market", "--start", "46", "--intervals", "2", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.stderr
    assert "rule 0 welfare / optimum    │      100.0 %" in r.stdout and "peak loading [%]" in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) <= 80


@pytest.mark.parametrize(
    "args, message",
    [
        (["--battery-share", "1.5"], "--battery-share: 1.5 is outside 0..1"),
        (["--feeder", "1-LV-nowhere"], "--feeder: '1-LV-nowhere' is not one of"),
        (["--day", "400"], "--day: 400 is outside 0..365"),
        (["--intervals", "0"], "--intervals: 0 is outside 1..96"),
        (["--start", "90", "--intervals", "7"], "--intervals: 7 is outside 1..6"),
    ],
)
def test_bad_options_exit_2_naming_the_field(args, message, tmp_path):
    r = runner.invoke(app, ["experiment", "market", *args, "--out", str(tmp_path / "out")])
    assert r.exit_code == 2
    assert r.stderr.strip().startswith(f"error: {message}")
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_day_without_trade_reports_no_efficiency_rather_than_100_percent():
    orders, _ = interval_orders(np.array([1000.0, -1000.0]), np.array([90_000, 0]), np.array([0, 250_000]), [0, 0])
    m = market_metrics([clear_interval(0, orders, 0)])
    for rule in ("rule0", "rule1"):
        assert m[rule]["efficiency"] is None and m[rule]["worst_interval_efficiency"] is None
        assert m[rule]["volume_kwh"] == 0 and m[rule]["avg_buy_price_ct"] is None
