"""`gridchain metering demo` and `gridchain meter prove`: smart metering for e-mobility (Olivares-Rojas et al.)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from gridchain.ui.chain_options import KEYS_HELP, RPC_URL, rpc_gateway
from gridchain.ui.errors import bad_input_exits, make_out_dir

metering_app = typer.Typer(
    help="Smart metering for e-mobility: signed readings, roaming charging, NILM, OCPP.", no_args_is_help=True
)
meter_app = typer.Typer(
    help="A meter's anchored readings: prove one against its on-chain Merkle root.", no_args_is_help=True
)

ETH = 10**18


def _eth(wei: int) -> str:
    return f"{wei / ETH:.6f} ETH"


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@metering_app.command("demo")
@bad_input_exits
def demo(
    seed: int = typer.Option(0, "--seed", help="Seed of the households' load and the parties' keys."),
    rpc_url: str | None = RPC_URL,
    keys: str | None = typer.Option(None, "--keys", help=KEYS_HELP),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write metering_demo_seed<S>.json, the readings archive "
        "(for `gridchain meter prove`) and a plot of the host's day here.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the whole day as one JSON object."),
) -> None:
    """A day of two households: roaming charging at a relative's, billed to the EV's owner.

    The EV owner's EV charges at the host's charge point over OCPP 1.6 (websockets on 127.0.0.1): the EV
    signs the session start with its maximum cost, which the host reserves of the owner's escrow on chain
    before the EV may charge; the charge point's meter signs 15-minute readings and the session's energy, the
    coordinator's greedy allocation is pushed as SetChargingProfile, and the charge point drops its link
    for 20 minutes and reconnects. Later an EV charges at the host without a signed session. After the day
    each meter's 96 signed readings are anchored as one Merkle root, the session is settled on chain from its
    reservation at the time-of-use tariff (the rest returns to the EV owner's escrow), NILM flags the
    unexplained EV charging in the host's 1-minute meter data, one reading is proven on chain, and each party
    gets a bill.

    Runs on the embedded chain, or on a node with --rpc-url (e.g. anvil).

    Example: gridchain metering demo --seed 1 --out results/metering
    """
    from gridchain.chain.boa_gateway import BoaGateway
    from gridchain.metering import plots
    from gridchain.metering.scenarios import demo as metering_demo

    out_dir = make_out_dir(out)
    gateway = rpc_gateway(rpc_url, keys, 4) if rpc_url else BoaGateway(accounts=4)
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("metering day", total=6)
        result = metering_demo.run(
            gateway, metering_demo.DemoConfig(seed=seed), lambda label: bar.update(task, advance=1, description=label)
        )
    written = []
    if out_dir is not None:
        name = f"metering_demo_seed{seed}"
        (out_dir / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        (out_dir / f"{name}_readings.json").write_text(json.dumps(result["archive"], indent=1) + "\n", encoding="utf-8")
        plots.metering_day(result, out_dir / f"{name}.png")
        written = [out_dir / f"{name}{suffix}" for suffix in (".json", "_readings.json", ".png")]
    if as_json:
        sys.stdout.write(json.dumps({k: v for k, v in result.items() if k != "series"}) + "\n")
        return
    _print_day(Console(), result)
    for path in written:
        Console().print(f"wrote {path}")


def _print_day(console: Console, r: dict) -> None:
    p = r["parties"]
    console.print(
        f"metering contract {r['contract']} on the {r['config']['chain']} chain; day starts "
        f"{r['config']['day_start']} (UTC); tariff night/day/peak "
        f"{min(r['config']['tariff_wei_per_kwh']) / 1e12:.0f}/100/"
        f"{max(r['config']['tariff_wei_per_kwh']) / 1e12:.0f} Twei/kWh"
    )
    ocpp = Table(title="OCPP 1.6 at the host's charge point (the EV owner's EV)")
    for col in ("time", "event", "detail"):
        ocpp.add_column(col)
    for e in r["ocpp"]["log"]:
        ocpp.add_row(_hhmm(e["minute"]), e["event"], e["detail"])
    console.print(ocpp)
    s = r["session"]
    console.print(
        f"central system: {r['ocpp']['energy_wh']:,} Wh for transaction {r['ocpp']['transaction']} "
        f"(= the charge point's register; {r['ocpp']['duplicates_ignored']} resent samples ignored)"
    )
    console.print(
        f"session {s['id'][:18]}…: {s['intervals']} intervals, {s['energy_wh']:,} Wh, "
        f"{_eth(s['paid_wei'])} of {_eth(s['reserved_wei'])} reserved, paid by the EV owner "
        f"{p['ev_owner'][:10]}… to the host {p['host'][:10]}…"
    )
    anchors = Table(title="Readings anchored (one Merkle root per meter per day)")
    for col in ("meter", "readings", "root", "gas"):
        anchors.add_column(col, justify="right")
    for name, a in r["anchors"].items():
        anchors.add_row(name, str(a["readings"]), a["root"][:18] + "…", f"{a['gas']:,}")
    console.print(anchors)
    pr = r["proof"]
    console.print(
        f"proof of the host meter's reading at {pr['interval_start']} ({pr['active_wh']} Wh, depth "
        f"{pr['depth']}): on chain {'[green]valid[/green]' if pr['verified_on_chain'] else '[red]INVALID'}; "
        f"the same reading with 1 kWh less: "
        f"{'[red]valid?![/red]' if pr['tampered_verified'] else '[green]refused[/green]'}"
    )
    n = r["nilm"]
    for f in n["host_flagged"]:
        console.print(
            f"[yellow]NILM flag[/yellow] at the host's premises: EV charging {_hhmm(f['start_min'])}-"
            f"{_hhmm(f['end_min'])}, ~{f['power_w'] / 1000:.1f} kW, ~{f['energy_wh']:,} Wh, "
            "no signed session"
        )
    console.print(
        f"NILM at the host's: {len(n['host_detected'])} EV session(s) detected, {len(n['host_flagged'])} "
        f"unexplained; at the EV owner's (no EV charged there): {len(n['ev_owner_detected'])} detected"
    )
    b = r["bills"]
    bills = Table(title="Bills for the day (time-of-use tariff)")
    for col in ("party", "item", "energy [Wh]", "amount"):
        bills.add_column(col, justify="right")
    h, o = b["host"], b["ev_owner"]
    bills.add_row("host", "household meter", f"{h['household_wh']:,}", _eth(h["household_cost_wei"]))
    bills.add_row("", "less roaming energy billed to the EV owner", f"-{h['roaming_wh_billed_to_ev_owner']:,}", "")
    bills.add_row("", "[bold]net bill[/bold]", f"{h['net_wh']:,}", _eth(h["net_cost_wei"]))
    bills.add_row("", "credit from the roaming session (withdrawn)", "", _eth(h["roaming_credit_wei"]))
    bills.add_row("", "flagged: EV charging without a session (NILM)", f"~{h['flagged_unexplained_ev_wh']:,}", "review")
    bills.add_row("EV owner", "household meter", f"{o['household_wh']:,}", _eth(o["household_cost_wei"]))
    bills.add_row(
        "", "roaming session at the host's (from escrow)", f"{o['roaming_wh']:,}", _eth(o["roaming_cost_wei"])
    )
    bills.add_row("", "escrow before / after", "", f"{_eth(o['escrow_before_wei'])} / {_eth(o['escrow_after_wei'])}")
    console.print(bills)


@meter_app.command("prove")
@bad_input_exits
def prove(
    archive: Path = typer.Option(..., "--archive", help="Readings archive (`gridchain metering demo --out`)."),
    meter: str = typer.Option(..., "--meter", help="The meter's address."),
    interval_start: int = typer.Option(..., "--interval-start", help="The reading's interval start [unix s]."),
    rpc_url: str | None = RPC_URL,
    as_json: bool = typer.Option(False, "--json", help="Print the proof and the verdicts as JSON."),
) -> None:
    """Prove one signed reading against its day's Merkle root.

    Builds the Merkle proof from the archive, checks the meter's signature and the proof off chain, and with
    --rpc-url (the node the archive's contract lives on) also asks the contract (`verify_reading`). Exits 1
    if any check fails.

    Example: gridchain meter prove --archive results/metering/metering_demo_seed0_readings.json
             --meter 0x... --interval-start 1795370400 --rpc-url http://127.0.0.1:8545
    """
    from gridchain.metering.scenarios.meter_proof import load_archive, prove_reading

    data = load_archive(archive)
    result = prove_reading(data, meter, interval_start)
    if rpc_url:
        from gridchain.metering.client import MeteringClient

        gateway = rpc_gateway(rpc_url, None, 1)
        client = MeteringClient(gateway, data["contract"])
        result["on_chain_root"] = (client.root(meter, result["day"]) or b"").hex()
        result["verified_on_chain"] = client.verify_reading(result.pop("_signed"), result.pop("_proof"))
    else:
        result.pop("_signed"), result.pop("_proof")
    ok = result["verified_off_chain"] and result.get("verified_on_chain", True)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
    else:
        console = Console()
        console.print(
            f"reading of {meter} at {interval_start}: {result['active_wh']} Wh, {result['reactive_varh']} "
            f"varh; proof of {len(result['proof'])} hashes to root {result['root'][:18]}… "
            f"(day {result['day']})"
        )
        mark = {True: "[green]valid[/green]", False: "[red]invalid[/red]"}
        console.print(f"off chain (signature and proof): {mark[bool(result['verified_off_chain'])]}")
        if "verified_on_chain" in result:
            console.print(f"on chain (verify_reading): {mark[bool(result['verified_on_chain'])]}")
        else:
            console.print("on chain: not asked (give --rpc-url of the node the contract lives on)")
    if not ok:
        raise typer.Exit(1)
