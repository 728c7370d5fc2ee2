"""Metering's figure: a household's metered day with its anchored readings and sessions."""

from __future__ import annotations

from pathlib import Path

from gridchain.experiments.plotting import plt


def metering_day(result: dict, path: Path) -> Path:
    """The host's day: its household meter's 1-minute power, the signed roaming session, the unannounced EV
    charging, what NILM flagged, and the time-of-use price."""
    series = result["series"]
    hours = [i / 60 for i in range(len(series["host_p_w"]))]
    fig, (top, price) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, height_ratios=(3, 1))
    top.plot(
        hours, [p / 1000 for p in series["host_p_w"]], color="0.35", linewidth=0.8, label="host meter, active power"
    )
    top.fill_between(
        hours,
        [p / 1000 for p in series["charge_point_w"]],
        step="post",
        alpha=0.45,
        color="tab:blue",
        label="roaming session (OCPP, signed, billed to the EV owner)",
    )
    top.fill_between(
        hours,
        [p / 1000 for p in series["unannounced_w"]],
        step="post",
        alpha=0.35,
        color="tab:red",
        label="EV charging without a signed session",
    )
    for i, s in enumerate(result["nilm"]["host_flagged"]):
        top.axvspan(
            s["start_min"] / 60,
            s["end_min"] / 60,
            fill=False,
            edgecolor="tab:red",
            linewidth=1.5,
            linestyle="--",
            label="flagged by NILM" if i == 0 else None,
        )
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
