"""`gridchain demo`: a day of one community through the charging-coordination model."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from gridchain.cli.errors import bad_input_exits
from gridchain.cli.schedule import PolicyName
from gridchain.core.multislot import SimulationResult
from gridchain.core.policies import POLICIES
from gridchain.core.request import check_int
from gridchain.core.schedule import Status
from gridchain.sim import community_day


def slot_rows(result: SimulationResult, day: community_day.CommunityDay) -> list[dict[str, int]]:
    rows = []
    for slot, schedule in enumerate(result.schedules):
        statuses = [a.status for a in schedule.allocations]
        rows.append(
            {
                "slot": slot,
                "hour": slot % 24,
                "day": slot // 24 + 1,
                "arrivals": len(day.arrivals[slot]) if slot < len(day.arrivals) else 0,
                "requests": len(statuses),
                "scheduled": statuses.count(Status.SCHEDULED),
                "partial": statuses.count(Status.PARTIAL),
                "deferred": statuses.count(Status.DEFERRED),
                "capacity_w": schedule.capacity_w,
                "granted_w": schedule.granted_w,
            }
        )
    return rows


def outcome_summary(result: SimulationResult) -> dict[str, float]:
    return {
        "charging_index": round(result.charging_index, 4),
        "energy_delivered": round(result.energy_delivered, 4),
        "fully_served": round(result.fully_served, 4),
        "delivered_wh": sum(o.received_wh for o in result.outcomes),
        "required_wh": sum(o.required_wh for o in result.outcomes),
    }


@bad_input_exits
def demo(
    seed: int = typer.Option(0, "--seed", help="Seed of the community's day."),
    evs: int = typer.Option(50, "--evs", help="EVs coming home during the day."),
    home_batteries: int = typer.Option(15, "--home-batteries", help="Home batteries charging overnight."),
    policy: PolicyName = typer.Option("greedy", "--policy", "-p", help="Policy whose slots are shown."),
    as_json: bool = typer.Option(False, "--json", help="Print slots and summaries as one JSON object."),
) -> None:
    """A day of one community under each policy: EVs come home in the evening peak, batteries charge overnight.

    The utility's capacity C - P_R is shared slot by slot. Shows each slot under one policy and compares all.

    Runs on the core model (the on-chain coordinator comes with the issue "On-chain charging coordination").

    Example: gridchain demo --evs 50 --policy greedy
    """
    check_int("--evs", evs, 0, 10_000)
    check_int("--home-batteries", home_batteries, 0, 10_000)
    day = community_day.build(seed, evs, home_batteries)
    results = {name: community_day.run(day, name) for name in POLICIES}
    shown = results[str(policy)]
    rows = slot_rows(shown, day)
    summaries = {name: outcome_summary(r) for name, r in results.items()}
    if as_json:
        payload = {
            "seed": seed,
            "esus": day.esus,
            "transformer_w": community_day.TRANSFORMER_W,
            "policy": str(policy),
            "slots": rows,
            "policies": summaries,
        }
        sys.stdout.write(json.dumps(payload) + "\n")
        return
    console = Console()
    console.print(
        f"[bold]A day of one community[/bold] (seed {seed}): {day.esus} ESUs "
        f"({evs} EVs, {home_batteries} home batteries), transformer C = {community_day.TRANSFORMER_W / 1000:g} kW, "
        f"1-hour slots; C - P_R is what the households leave."
    )
    table = Table(title=f"Slots under the {policy} policy (slots with requests)")
    for col in ("day", "hour", "new", "req", "sched", "part", "defer", "C-P_R kW", "grant kW", "use"):
        table.add_column(col, justify="right")
    for row in rows:
        if row["requests"] == 0:
            continue
        use = row["granted_w"] / row["capacity_w"] if row["capacity_w"] else 0.0
        table.add_row(
            str(row["day"]), f"{row['hour']:02d}:00", str(row["arrivals"]), str(row["requests"]),
            str(row["scheduled"]), str(row["partial"]), str(row["deferred"]),
            f"{row['capacity_w'] / 1000:.0f}", f"{row['granted_w'] / 1000:.1f}", f"{use:.0%}",
        )  # fmt: skip
    console.print(table)
    compare = Table(title="Outcome per policy (each ESU's final result)")
    for col in ("policy", "charging index", "energy delivered", "ESUs fully served", "delivered / required kWh"):
        compare.add_column(col, justify="right")
    for name, s in summaries.items():
        compare.add_row(
            name, f"{s['charging_index']:.3f}", f"{s['energy_delivered']:.1%}", f"{s['fully_served']:.1%}",
            f"{s['delivered_wh'] / 1000:.0f} / {s['required_wh'] / 1000:.0f}",
        )  # fmt: skip
    console.print(compare)
    console.print(
        "The charging index is energy received / energy required, averaged over ESUs (the paper's metric)."
    )
