"""The call market demo's figure: clearing price(s) and volume per interval, and one interval's bid and ask curves."""

from __future__ import annotations

from pathlib import Path

from gridchain.experiments.plotting import plt

UNIT = 1_000_000  # micro-coins per coin


def _steps(book: list[dict], side: int) -> tuple[list[float], list[float]]:
    """A side's merit-order curve: cumulated energy [kWh] against effective price [coin/kWh]."""
    orders = sorted((o for o in book if o["side"] == side), key=lambda o: o["effective_price"], reverse=side == 0)
    xs, ys, total = [0.0], [], 0.0
    for o in orders:
        total += o["energy_wh"] / 1000
        xs.append(total)
        ys.append(o["effective_price"] / UNIT)
    return xs, ys


def settlement_panel(ax, settlement: dict) -> None:
    """Coins each settled (trader, side) received (up) or paid (down), the short seller and over-drawing buyer
    hatched."""
    rows = settlement["parties"]
    net = [(p["received"] - p["paid"]) / UNIT for p in rows]
    colors = ["tab:blue" if p["side"] == 1 else "tab:red" for p in rows]
    bars = ax.bar(range(len(rows)), net, color=colors)
    for bar, p in zip(bars, rows, strict=True):
        if p["imbalance"]:
            bar.set_hatch("//")
            bar.set_edgecolor("black")
            top = bar.get_height()
            where = (bar.get_x() + bar.get_width() / 2, top)
            ax.annotate(p["imbalance"], where, ha="center", va="bottom" if top >= 0 else "top", fontsize=8)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(rows)), [p["trader"][2:6] for p in rows], rotation=90, fontsize=7)
    ax.set_xlabel("trader (sellers blue, buyers red)")
    ax.set_ylabel("settled in coins: received - paid")
    ax.set_title("settlement against the meters")
    ax.grid(alpha=0.3, axis="y")


def demo_figure(result: dict, path: Path) -> Path:
    """Left: price per interval (buy and sell prices apart under trade reduction) over the traded volume; middle:
    the bid and ask curves of the interval with the largest volume, with its clearing price; right: each trader's
    coins settled against its meters."""
    intervals = result["intervals"]
    times = [i["time"] for i in intervals]
    fig, (ax, curve_ax, settle_ax) = plt.subplots(1, 3, figsize=(18, 4.6))
    volume_ax = ax.twinx()
    volume_ax.bar(times, [i["volume_wh"] / 1000 for i in intervals], color="tab:gray", alpha=0.35, label="volume")
    volume_ax.set_ylabel("volume [kWh]")
    traded = [i for i in intervals if i["volume_wh"] > 0]
    ax.plot([i["time"] for i in traded], [i["buy_price"] / UNIT for i in traded], "o-", color="tab:red", label="buy")
    if result["config"]["rule"] == 1:
        sells = [i["sell_price"] / UNIT for i in traded]
        ax.plot([i["time"] for i in traded], sells, "s--", color="tab:blue", label="sell")
    ax.set_zorder(volume_ax.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.set_xlabel("interval (UTC)")
    ax.set_ylabel("clearing price [coin/kWh]")
    ax.set_title(f"{result['config']['rule_name']} rule, {len(result['traders'])} traders")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    busiest = max(intervals, key=lambda i: i["volume_wh"])
    for side, color, label in ((0, "tab:red", "bids"), (1, "tab:blue", "asks")):
        xs, ys = _steps(busiest["book"], side)
        if ys:
            curve_ax.stairs(ys, xs, baseline=None, color=color, linewidth=1.5, label=label)
    if busiest["volume_wh"]:
        curve_ax.axhline(busiest["buy_price"] / UNIT, color="black", linestyle=":", linewidth=1, label="buy price")
        curve_ax.axvline(busiest["volume_wh"] / 1000, color="tab:gray", linestyle="--", linewidth=1, label="volume")
    curve_ax.set_xlabel("cumulated energy [kWh]")
    curve_ax.set_ylabel("effective price [coin/kWh]")
    curve_ax.set_title(f"orders of {busiest['time']} (price less/plus the zone fee)")
    curve_ax.legend(fontsize=8)
    curve_ax.grid(alpha=0.3)
    settlement_panel(settle_ax, result["settlement"])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
