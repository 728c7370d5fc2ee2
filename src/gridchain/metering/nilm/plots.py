"""NILM's figure: one held-out household-day with the detected sessions."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gridchain.experiments.plotting import plt

if TYPE_CHECKING:
    from gridchain.metering.nilm.scenarios import NilmRun


def nilm_day(result: NilmRun, path: Path) -> Path:
    """One held-out household-day: aggregate P, true EV power, and the sessions detected at each resolution."""
    import numpy as np

    h, day = result.example, result.example_day
    a, b = day * 1440, (day + 1) * 1440
    hours = np.arange(1440) / 60.0
    fig, ax = plt.subplots(figsize=(12, 4.5))
    ax.plot(hours, h.p_w[a:b] / 1000, lw=0.7, color="0.35", label="aggregate P (1 min)")
    p15 = h.p_w[a:b].reshape(96, 15).mean(axis=1)
    ax.step(
        np.arange(96) / 4.0, p15 / 1000, where="post", lw=1.0, color="tab:blue", alpha=0.7, label="aggregate P (15 min)"
    )
    ax.fill_between(hours, h.ev_p_w[a:b] / 1000, color="tab:green", alpha=0.35, lw=0, label="true EV power")
    colors = {60: "tab:red", 900: "tab:orange"}
    for k, (step_s, sessions) in enumerate(sorted(result.example_detected.items())):
        f = step_s // 60
        label = f"detected EV ({f} min)"
        for s in sessions:
            t0, t1 = s.start * f / 60.0 - day * 24, s.end * f / 60.0 - day * 24
            if t1 <= 0 or t0 >= 24:
                continue
            ax.axvspan(
                max(t0, 0),
                min(t1, 24),
                ymin=0.92 - 0.06 * k,
                ymax=0.97 - 0.06 * k,
                color=colors.get(step_s, "tab:purple"),
                label=label,
            )
            label = None
    ax.set_xlim(0, 24)
    ax.set_xlabel("hour of day")
    ax.set_ylabel("kW")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title(
        f"NILM: held-out household {tuple(h.key)}, day {day}, charger {h.charger_w / 1000:g} kW "
        "(synthetic ground truth)"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
