"""Figures, drawn with matplotlib's file backend (no screen needed)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "greedy": "greedy U/demand (paper)",
    "fcfs": "first come, first served",
    "optimal": "exact knapsack optimum",
}
STYLES = {  # the optimum often lies on top of greedy: dashes and open markers keep both visible
    "greedy": {"marker": "o", "linestyle": "-"},
    "fcfs": {"marker": "s", "linestyle": "-"},
    "optimal": {"marker": "x", "linestyle": "--", "markersize": 9},
}
PANELS = (
    ("charging_index", "ci95", "charging index (mean over ESUs)"),
    ("energy_delivered", "energy_delivered_ci95", "share of energy delivered"),
    ("fully_served", "fully_served_ci95", "share of ESUs fully served"),
)


def fig2(summary: dict, path: Path) -> Path:
    """Fig. 2 of the paper and two ACN-Sim metrics: mean with 95 % interval per policy versus lambda."""
    lambdas = summary["lambdas"]
    fig, axes = plt.subplots(1, len(PANELS), figsize=(14, 4.2), sharex=True)
    for ax, (metric, half, title) in zip(axes, PANELS):
        for name, entry in summary["policies"].items():
            ax.errorbar(
                lambdas, entry[metric], yerr=entry[half], capsize=3, label=LABELS.get(name, name),
                **STYLES.get(name, {"marker": "o"}),
            )  # fmt: skip
        ax.set_title(title)
        ax.set_xlabel("new charging requests per slot (lambda)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean over runs, 95 % interval")
    axes[0].legend(loc="lower left")
    config = summary["config"]
    fig.suptitle(
        f"Charging coordination, paper's Fig. 2 setup: {summary['runs']} runs, seed {config['seed']}, "
        f"C-P_R {config['capacity_w'] / 1000:g} kW, battery {config['battery_wh'] / 1000:g} kWh"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def gas_fig3(report: dict, path: Path) -> Path:
    """The paper's Fig. 3 (gas of the close versus requests per slot) with gridchain's line added."""
    fig, (ax, per) = plt.subplots(1, 2, figsize=(12, 4.2))
    base = {int(n): g for n, g in report["baseline"]["knapsack"].items() if g is not None}
    ours = {int(n): g for n, g in report["coordination"]["close_slot"].items()}
    for data, label, style in ((base, "paper's Algorithm 1 (QuickSort + Knapsack on chain)", "s-"),
                               (ours, "gridchain close (verified order, calldata; paged above 1,024)", "o-")):  # fmt: skip
        xs = sorted(data)
        ax.plot(xs, [data[x] for x in xs], style, label=label)
        per.plot(xs, [data[x] / x for x in xs], style, label=label)
    calls = {int(n): c for n, c in report["coordination"].get("close_slot_calls", {}).items() if c > 1}
    if calls:  # a paged close: the line shows the total over its calls; each call is far smaller
        biggest = {int(n): g for n, g in report["coordination"]["close_slot_max_transaction"].items()}
        xs = sorted(calls)
        ax.plot(xs, [biggest[x] for x in xs], "o", mfc="none", color="C1", markersize=9,
                label="gridchain: largest single call of a paged close")  # fmt: skip
        for x in xs:
            ax.annotate(f"{calls[x]} calls", (x, biggest[x]), textcoords="offset points", xytext=(-50, -12), fontsize=8)
    ax.axhline(16_777_216, color="grey", linestyle=":", label="EIP-7825 per-transaction cap (Osaka)")
    failed = sorted(int(n) for n in report["baseline"].get("failures", {}))
    if failed:
        ax.plot(failed, [16_777_216] * len(failed), "rx", markersize=10,
                label="Algorithm 1 runs out of gas at the cap")  # fmt: skip
    ax.set_yscale("log")
    ax.set_xscale("log")
    ax.set_xlabel("charging requests in the slot (n)")
    ax.set_ylabel("gas to close the slot (all its calls)")
    ax.set_title("Gas to schedule one slot")
    per.set_yscale("log")
    per.set_xscale("log")
    per.set_xlabel("charging requests in the slot (n)")
    per.set_ylabel("gas per request")
    per.set_title("Gas per request")
    for a in (ax, per):
        a.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.suptitle(f"Receipt gasUsed, {report['hardfork']} rules ({report['chain']} chain)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def metering_day(result: dict, path: Path) -> Path:
    """The host's day: its household meter's 1-minute power, the signed roaming session, the unannounced EV
    charging, what NILM flagged, and the time-of-use price."""
    series = result["series"]
    hours = [i / 60 for i in range(len(series["host_p_w"]))]
    fig, (top, price) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, height_ratios=(3, 1))
    top.plot(hours, [p / 1000 for p in series["host_p_w"]], color="0.35", linewidth=0.8,
             label="host meter, active power")
    top.fill_between(hours, [p / 1000 for p in series["charge_point_w"]], step="post", alpha=0.45, color="tab:blue",
                     label="roaming session (OCPP, signed, billed to the EV owner)")  # fmt: skip
    top.fill_between(hours, [p / 1000 for p in series["unannounced_w"]], step="post", alpha=0.35, color="tab:red",
                     label="EV charging without a signed session")  # fmt: skip
    for i, s in enumerate(result["nilm"]["host_flagged"]):
        top.axvspan(s["start_min"] / 60, s["end_min"] / 60, fill=False, edgecolor="tab:red", linewidth=1.5,
                    linestyle="--", label="flagged by NILM" if i == 0 else None)  # fmt: skip
    top.set_ylabel("power [kW]")
    top.legend(loc="upper left", fontsize=8)
    top.set_title("The host's day: household meter, roaming session and NILM flag")
    prices = result["config"]["tariff_wei_per_kwh"]
    price.step(range(25), [p / 1e12 for p in prices] + [prices[-1] / 1e12], where="post", color="tab:green")
    price.set_ylabel("Twei/kWh")
    price.set_xlabel("hour of the day (UTC)")
    price.set_xlim(0, 24)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


GRID_COLORS = {
    "uncontrolled": "tab:red",
    "fcfs": "tab:orange",
    "greedy": "tab:blue",
    "optimal": "tab:cyan",
    "edf": "tab:green",
    "llf": "tab:olive",
    "offline": "0.3",
}


def grid_day(summary: dict, path: Path) -> Path:
    """Transformer loading and lowest voltage over the day per policy, and energy delivered (with the
    uncontrolled peak loading) versus EV penetration."""
    series = summary["series"]
    n = len(series["capacity_kw"])
    minutes = summary["slot_minutes"]
    hours = [12 + i * minutes / 60 for i in range(n)]  # a simulated day starts at noon
    policies = list(summary["policies"])
    fig, (load_ax, volt_ax, pen_ax) = plt.subplots(1, 3, figsize=(17, 4.8))
    load_ax.plot(hours, series["base_loading_pct"], color="0.6", linewidth=1, linestyle=":", label="base load only")
    for name in policies:
        style = {"linewidth": 1.8 if name == "uncontrolled" else 1.1, "color": GRID_COLORS.get(name),
                 "linestyle": "--" if name == "offline" else "-"}  # fmt: skip
        load_ax.plot(hours, series[name]["loading_pct"], label=name, **style)
        volt_ax.plot(hours, series[name]["min_vm_pu"], label=name, **style)
    load_ax.axhline(100, color="black", linewidth=0.8, linestyle="--")
    load_ax.set_ylabel("transformer loading [%]")
    load_ax.set_title(f"{summary['config']['grid']}, {summary['config']['evs']} EVs, {summary['date'][:10]}")
    volt_ax.axhline(0.95, color="black", linewidth=0.8, linestyle="--")
    volt_ax.axhline(0.90, color="tab:red", linewidth=0.8, linestyle="--")
    volt_ax.set_ylabel("lowest bus voltage [p.u.]")
    volt_ax.set_title("lowest voltage (EN 50160: 0.90 p.u.)")
    for ax in (load_ax, volt_ax):
        ax.set_xlabel("hour (from noon; 24 = midnight)")
        days = max(1, n * minutes // 1440)
        ax.set_xticks(range(12, 12 + 24 * days + 1, 4 if days == 1 else 12))
        ax.grid(alpha=0.3)
    load_ax.legend(fontsize=8, loc="upper left")
    sweep = summary["sweep"]
    if sweep:
        xs = [p["penetration"] for p in sweep]
        for name in policies:
            pen_ax.plot(xs, [p[name]["energy_delivered"] for p in sweep], marker="o", markersize=3.5, label=name,
                        color=GRID_COLORS.get(name))  # fmt: skip
        pen_ax.set_xlabel("EVs per 100 households")
        pen_ax.set_ylabel("share of energy delivered")
        pen_ax.grid(alpha=0.3)
        twin = pen_ax.twinx()
        twin.plot(xs, [p["uncontrolled_peak_loading_pct"] for p in sweep], color="tab:red", linestyle="--",
                  linewidth=1, label="uncontrolled peak loading [%]")  # fmt: skip
        twin.axhline(100, color="tab:red", linewidth=0.6, linestyle=":")
        twin.set_ylabel("uncontrolled peak transformer loading [%]", color="tab:red")
        pen_ax.legend(fontsize=8, loc="lower left")
        pen_ax.set_title("energy delivered vs penetration")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
