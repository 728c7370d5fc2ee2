"""The V2V auction through the escrow, drawn: per auction every provider's rate against the ceiling, coloured by
what became of its bid (won, lost, refused with a reason, its open refused by the escrow, no bid), and the
winner's settlement (paid to the provider, refunded to the consumer)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.patches import Patch

from gridchain.experiments.plotting import plt

COLOURS = {"won": "tab:green", "lost": "tab:blue", "refused": "tab:red", "open refused": "tab:orange",
           "no bid": "tab:gray"}  # fmt: skip


def outcome(result: str) -> str:
    """The bid's class for the colour: the result's first words."""
    return next(k for k in ("won", "lost", "open refused", "refused", "no bid") if result.startswith(k))


def demo_figure(summary: dict, path: Path) -> Path:
    """One panel per auction: rates per provider (bars), the ceiling (a line), the winner's settlement (title)."""
    auctions, token = summary["auctions"], summary["config"]["token"]
    scale, unit = (1e12, "Twei/kWh") if token == "ETH" else (1e6, "coin/kWh")
    fig, axes = plt.subplots(1, len(auctions), figsize=(6.5 * len(auctions), 5.0), squeeze=False)
    for ax, a in zip(axes[0], auctions, strict=True):
        bids = a["bids"]
        names = [b["provider"] for b in bids]
        rates = [b["rate_wei_per_kwh"] / scale for b in bids]
        kinds = [outcome(b["result"]) for b in bids]
        ax.barh(range(len(bids)), rates, color=[COLOURS[k] for k in kinds])
        ax.set_yticks(range(len(bids)), names, fontsize=8)
        ax.invert_yaxis()
        ax.axvline(a["request"]["ceiling_wei_per_kwh"] / scale, color="black", linestyle="--", linewidth=0.8)
        ax.set_xlabel(f"rate [{unit}]; dashed: the consumer's ceiling")
        money = 1e18 if token == "ETH" else 1e6
        ax.set_title(
            f"auction {a['auction']} ({a['story']}): {a['winner']} won\n"
            f"paid {a['paid'] / money:.6f}, refunded {a['refunded'] / money:.6f} {token}",
            fontsize=9,
        )
        handles = [Patch(color=COLOURS[k], label=k) for k in COLOURS if k in kinds]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=len(handles), fontsize=8)
    c = summary["config"]
    ok = "conserved" if summary["conservation"]["ok"] else "NOT conserved"
    fig.suptitle(f"V2V auction through the trade escrow: seed {c['seed']}, {c['providers']} honest providers ({ok})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
