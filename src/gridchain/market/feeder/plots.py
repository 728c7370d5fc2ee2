"""The feeder market's figure: prices per interval under both rules, welfare of both rules against the LP optimum,
and the transformer's loading in every power flow case, over the day's hours."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gridchain.experiments.plotting import plt

MAIN = "batteries spread"
CASE_COLORS = {
    "no market": "black",
    "self-consumption": "tab:green",
    "market, full power": "tab:red",
    "market, spread": "tab:blue",
}


def _hours(summary: dict, n: int) -> np.ndarray:
    return (summary["config"]["start"] + np.arange(n)) / 4


def _nan(values: list) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def market_figure(summary: dict, path: Path) -> Path:
    """Three panels sharing the hour axis: prices, welfare per interval, transformer loading."""
    series = summary["series"]
    main = series["market"][MAIN]
    x = _hours(summary, len(main["orders"]))
    fig, (price_ax, welfare_ax, load_ax) = plt.subplots(3, 1, figsize=(11, 11), sharex=True)
    a = summary["assumptions"]
    price_ax.step(x, _nan(main["rule0_price_ct"]), where="post", color="tab:blue", label="rule 0 (uniform)")
    price_ax.step(x, _nan(main["rule1_buy_price_ct"]), where="post", color="tab:orange", label="rule 1, buyers pay")
    price_ax.step(x, _nan(main["rule1_sell_price_ct"]), where="post", color="tab:purple", label="rule 1, sellers get")
    price_ax.step(x, series["forecast_ct"], where="post", color="grey", linestyle=":", label="forecast (no batteries)")
    for level, name in ((a["retail_ct"], "retail"), (a["feed_in_ct"], "feed-in tariff")):
        price_ax.axhline(level, color="black", linewidth=0.6, linestyle="--")
        price_ax.annotate(name, (x[0], level), fontsize=8, va="bottom")
    price_ax.set_ylabel("price [ct/kWh]")
    price_ax.set_title(
        f"clearing prices, market with spread-charging batteries (no trade: no price); {summary['date']}"
    )
    welfare_ax.step(x, main["optimum_coin"], where="post", color="black", linewidth=2.2, label="LP optimum")
    welfare_ax.step(x, main["rule0_welfare_coin"], where="post", color="tab:blue", label="rule 0 (= optimum)")
    welfare_ax.step(x, main["rule1_welfare_coin"], where="post", color="tab:orange", label="rule 1")
    m = summary["market"][MAIN]
    share = m["rule1"]["efficiency"]
    welfare_ax.set_title(
        "welfare per interval: no trade at all"
        if share is None
        else f"welfare per interval: rule 1 reaches {100 * share:.1f} % of the optimum over the day"
    )
    welfare_ax.set_ylabel("welfare [coin]")
    for name, values in series["trafo_loading_pct"].items():
        load_ax.plot(x, values, color=CASE_COLORS.get(name), linewidth=1.2, label=name)
    load_ax.set_ylabel("transformer loading [%]")
    load_ax.set_xlabel("hour of the day")
    load_ax.set_title(
        f"{summary['config']['feeder']} ({summary['transformer_kva']:g} kVA): "
        f"{summary['batteries']} batteries of {summary['households']} households"
    )
    for ax in (price_ax, welfare_ax, load_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
