"""PETCON's figures: the experiment's (one run's welfare per round against the optimum for both variants, the
mean gap per round over all runs, the histogram of rounds) and the HTTP demo's (welfare per round, money per
PHEV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gridchain.experiments.plotting import plt

COLORS = {"published": "tab:red", "damped": "tab:blue"}


def _labels(summary: dict) -> dict[str, str]:
    a = summary["config"]["damping"]
    return {"published": "as published (a = 1)", "damped": f"damped (a = {a:g})"}


def petcon_figure(summary: dict, path: Path) -> Path:
    """Three panels: run 0's welfare vs the optimum, the mean relative gap per round (log), rounds per run."""
    labels = _labels(summary)
    fig, (welfare_ax, gap_ax, hist_ax) = plt.subplots(1, 3, figsize=(17, 4.8))
    example = summary["example"]
    for variant, label in labels.items():
        values = example[variant]["welfare_usd"]
        welfare_ax.plot(range(1, len(values) + 1), values, color=COLORS[variant], linewidth=1, label=label)
        gaps = np.maximum(np.abs(summary["variants"][variant]["gap_by_round"]), 1e-12)
        gap_ax.semilogy(range(1, len(gaps) + 1), gaps, color=COLORS[variant], linewidth=1.2, label=label)
    best = example["welfare_opt_usd"]
    welfare_ax.axhline(best, color="black", linestyle="--", linewidth=0.8, label="convex optimum")
    welfare_ax.set_ylim(best * 0.99, best * 1.001)
    welfare_ax.set_xlabel("round")
    welfare_ax.set_ylabel("social welfare [$]")
    welfare_ax.set_title("run 0: welfare of each round's allocation")
    gap_ax.axhline(summary["gap_target"], color="black", linestyle=":", linewidth=0.8, label="1e-3")
    gap_ax.set_xlabel("round")
    gap_ax.set_ylabel("|relative welfare gap| (mean over runs)")
    gap_ax.set_title(f"{summary['config']['runs']} runs, stopped runs carried forward")
    top = max(max(v["rounds"]) for v in summary["variants"].values())
    bins = np.arange(0.5, top + 1.5, max(1, top // 60))
    for variant, label in labels.items():
        hist_ax.hist(summary["variants"][variant]["rounds"], bins=bins, color=COLORS[variant], alpha=0.6, label=label)
    hist_ax.axvline(summary["paper"]["iterations"], color="black", linestyle="--", linewidth=0.8, label="paper: 11.9")
    hist_ax.set_xlabel("rounds until the stop rule (or the cut-off)")
    hist_ax.set_ylabel("runs")
    hist_ax.set_title("rounds per run")
    return _save(fig, (welfare_ax, gap_ax, hist_ax), path)


def demo_figure(summary: dict, path: Path) -> Path:
    """Three panels: the welfare of each round's allocation against the convex optimum; each PHEV's payment
    (buyers) and reward (sellers) in coins; each PHEV's allocated energy against what its pole recorded (if the
    result was settled)."""
    fig, (welfare_ax, money_ax, energy_ax) = plt.subplots(1, 3, figsize=(17, 4.5))
    values = summary["welfare_usd"]
    welfare_ax.plot(
        range(1, len(values) + 1), values, color=COLORS["damped"], linewidth=1.2, label="round's allocation"
    )
    welfare_ax.axhline(summary["welfare_opt_usd"], color="black", linestyle="--", linewidth=0.8, label="convex optimum")
    welfare_ax.set_xlabel("round")
    welfare_ax.set_ylabel("social welfare [$]")
    welfare_ax.set_title(f"{summary['rounds']} rounds over HTTP ({summary['outcome']})")
    pay = np.array(summary["payments_micro"]) / 1e6
    get = np.array(summary["rewards_micro"]) / 1e6
    money_ax.bar(range(len(pay)), pay, color="tab:red", label="buyer pays")
    money_ax.bar(range(len(pay), len(pay) + len(get)), get, color="tab:green", label="seller receives")
    money_ax.set_xlabel("PHEV (buyers, then sellers)")
    money_ax.set_ylabel("coins ($)")
    money_ax.set_title(f"payments {pay.sum():.2f}, rewards {get.sum():.2f}")
    _energy_panel(energy_ax, summary["settlement"])
    return _save(fig, (welfare_ax, money_ax, energy_ax), path)


def _save(fig, axes, path: Path) -> Path:
    """Grid and legend on every panel, then the figure to `path` (closed)."""
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _energy_panel(ax, settlement: dict | str) -> None:
    """Allocated vs recorded energy per PHEV, and the penalties, or why there was no settlement."""
    if isinstance(settlement, str):
        ax.set_title(f"settlement {settlement}"[:60])
        ax.plot([], [], label="no settlement")
        return
    rows = settlement["phevs"]
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r["allocated_wh"] / 1e3 for r in rows], width=0.4, color="tab:gray", label="allocated")
    ax.bar(x + 0.2, [r["recorded_wh"] / 1e3 for r in rows], width=0.4, color="tab:blue", label="pole recorded")
    penalties = sum(r["penalty_micro"] for r in rows) / 1e6
    ax.set_xlabel("PHEV (buyers, then sellers)")
    ax.set_ylabel("energy in the window [kWh]")
    ax.set_title(f"settled on the poles' readings: penalties {penalties:.2f} coins")
