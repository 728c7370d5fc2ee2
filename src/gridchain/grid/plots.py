"""Grid impact figures: loading and voltage over the day per policy."""

from __future__ import annotations

from pathlib import Path

from gridchain.experiments.plotting import plt

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
        style = {
            "linewidth": 1.8 if name == "uncontrolled" else 1.1,
            "color": GRID_COLORS.get(name),
            "linestyle": "--" if name == "offline" else "-",
        }
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
            pen_ax.plot(
                xs,
                [p[name]["energy_delivered"] for p in sweep],
                marker="o",
                markersize=3.5,
                label=name,
                color=GRID_COLORS.get(name),
            )
        pen_ax.set_xlabel("EVs per 100 households")
        pen_ax.set_ylabel("share of energy delivered")
        pen_ax.grid(alpha=0.3)
        twin = pen_ax.twinx()
        twin.plot(
            xs,
            [p["uncontrolled_peak_loading_pct"] for p in sweep],
            color="tab:red",
            linestyle="--",
            linewidth=1,
            label="uncontrolled peak loading [%]",
        )
        twin.axhline(100, color="tab:red", linewidth=0.6, linestyle=":")
        twin.set_ylabel("uncontrolled peak transformer loading [%]", color="tab:red")
        pen_ax.legend(fontsize=8, loc="lower left")
        pen_ax.set_title("energy delivered vs penetration")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
