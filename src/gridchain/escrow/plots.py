"""The escrow demo's figure: each trade's money (paid to the seller, refunded to the buyer, as shares of what it
escrowed) and the gas of its two transactions (open, settle)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gridchain.experiments.plotting import plt


def demo_figure(summary: dict, path: Path) -> Path:
    """Two panels side by side: money flows per trade [% of escrowed], gas per action per trade."""
    trades = summary["trades"]
    labels = [f"{t['trade']} {t['token']}\n{t['story']}" for t in trades]
    y = np.arange(len(trades))
    fig, (money_ax, gas_ax) = plt.subplots(1, 2, figsize=(13, 4.8), sharey=True)
    paid = np.array([100 * t["paid"] / t["amount"] for t in trades])
    money_ax.barh(y, paid, color="tab:green", label="paid to the seller")
    money_ax.barh(y, 100 - paid, left=paid, color="tab:orange", label="refunded to the buyer")
    money_ax.set_yticks(y, labels, fontsize=8)
    money_ax.invert_yaxis()
    money_ax.set_xlim(0, 100)
    money_ax.set_xlabel("share of the escrowed amount [%]")
    ok = "conserved" if summary["conservation"]["ok"] else "NOT conserved"
    money_ax.set_title(f"money flows: escrowed = paid + refunded ({ok})")
    money_ax.legend(loc="lower right", fontsize=8)
    for action, offset, color in (("open", -0.2, "tab:blue"), ("settle", 0.2, "tab:purple")):
        gas_ax.barh(y + offset, [t["gas"][action] for t in trades], height=0.4, color=color, label=action)
    gas_ax.axvline(90_000, color="black", linestyle=":", linewidth=0.8, label="issue's open target")
    gas_ax.axvline(120_000, color="black", linestyle="--", linewidth=0.8, label="issue's release target")
    gas_ax.set_xlabel(f"gas ({summary['chain']} chain)")
    gas_ax.set_title("gas per action")
    gas_ax.legend(loc="lower right", fontsize=8)
    c = summary["config"]
    fig.suptitle(f"trade escrow demo: {c['meters']} meters, seed {c['seed']}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
