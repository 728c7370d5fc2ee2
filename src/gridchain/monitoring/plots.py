"""The month's figure: accesses per day by grantee, and the breaches on the days they happened, each marked with
where it was alerted (on chain or to the household)."""

from __future__ import annotations

from pathlib import Path


def month_figure(summary: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = summary["config"]["days"]
    per_day = [0] * (days + 1)
    for day in summary["access_days"]:
        per_day[day] += 1
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ax.bar(range(days + 1), per_day, color="#8fb3d9", label="accesses served and recorded")
    top = max(per_day) if any(per_day) else 1
    for b in summary["breaches"]:
        color = "#c0392b" if b["alerted"] else "#7f8c8d"
        ax.axvline(b["day"], color=color, lw=1, ls="--")
        ax.text(b["day"], top * 1.02, b["kind"], rotation=60, fontsize=7, color=color, ha="left", va="bottom")
    ax.set_xlabel("day of the month")
    ax.set_ylabel("accesses")
    ax.set_title(
        f"GridMonitoring month: {len(summary['breaches'])} breaches, false positives {summary['false_positives']}, "
        f"false negatives {summary['false_negatives']}",
        fontsize=9,
    )
    ax.set_ylim(0, top * 1.6)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
