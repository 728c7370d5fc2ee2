"""Coordination's figures: the paper's Fig. 2 and Fig. 3 with our lines added."""

from __future__ import annotations

from pathlib import Path

from gridchain.experiments.plotting import plt

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
                lambdas,
                entry[metric],
                yerr=entry[half],
                capsize=3,
                label=LABELS.get(name, name),
                **STYLES.get(name, {"marker": "o"}),
            )
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
    for data, label, style in (
        (base, "paper's Algorithm 1 (QuickSort + Knapsack on chain)", "s-"),
        (ours, "gridchain close (verified order, calldata; paged above 1,024)", "o-"),
    ):
        xs = sorted(data)
        ax.plot(xs, [data[x] for x in xs], style, label=label)
        per.plot(xs, [data[x] / x for x in xs], style, label=label)
    calls = {int(n): c for n, c in report["coordination"].get("close_slot_calls", {}).items() if c > 1}
    if calls:  # a paged close: the line shows the total over its calls; each call is far smaller
        biggest = {int(n): g for n, g in report["coordination"]["close_slot_max_transaction"].items()}
        xs = sorted(calls)
        ax.plot(
            xs,
            [biggest[x] for x in xs],
            "o",
            mfc="none",
            color="C1",
            markersize=9,
            label="gridchain: largest single call of a paged close",
        )
        for x in xs:
            ax.annotate(f"{calls[x]} calls", (x, biggest[x]), textcoords="offset points", xytext=(-50, -12), fontsize=8)
    ax.axhline(16_777_216, color="grey", linestyle=":", label="EIP-7825 per-transaction cap (Osaka)")
    failed = sorted(int(n) for n in report["baseline"].get("failures", {}))
    if failed:
        ax.plot(failed, [16_777_216] * len(failed), "rx", markersize=10, label="Algorithm 1 runs out of gas at the cap")
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
