"""`gridchain monitoring demo`: a month of consumer-controlled, audited access to households' meter data."""

from __future__ import annotations

from pathlib import Path

import typer

from gridchain.errors import InputError
from gridchain.ui.chain_options import RPC_URL, confirm_clock_moves, rpc_gateway
from gridchain.ui.console import emit
from gridchain.ui.errors import bad_input_exits, make_out_dir
from gridchain.ui.results import write_results

ACCOUNTS = 3  # the deployer, the relayer (grants, batches), the monitor (reports)


@bad_input_exits
def demo(
    seed: int = typer.Option(0, "--seed", help="Seed of the readings and every key."),
    households: int = typer.Option(4, "--households", help="Households, 4 .. 12 (the breaches hit the first four)."),
    honest: bool = typer.Option(False, "--honest", help="No breaches: the month's honest traffic only."),
    rpc_url: str = RPC_URL,
    yes: bool = typer.Option(False, "--yes", help="Move a node's clock (a month on) even if it has blocks."),
    out: Path = typer.Option(Path("results/monitoring"), "--out", help="Folder for monitoring_<config>.json, .png."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as one JSON object on stdout."),
) -> None:
    """A month of GridMonitoring (the survey's section II-A) on gridchain's metering.

    Each household's meter-days are sealed to it (XChaCha20-Poly1305, the day key in a NaCl sealed box); it grants
    a utility (billing), a researcher (research, two weeks of data, revoked by one household on day 10, expiring
    on day 20) and an aggregator (flexibility) access on chain by EIP-712 signatures, and hands each grantee the
    day keys of its grant. A processing node serves sealed days only under a grant the chain holds and records
    every access in the household's hash-chained thread; 2 of 3 consensus nodes attest each day's batch of
    records on chain; a monitor judges every attested record against the consents (reporting on chain what the
    contract can judge) and every thread against the log (notifying the household of the rest). Unless --honest,
    a rogue processing node breaks the consents in eight ways on known days; the summary counts the monitor's
    false positives and false negatives. Embedded chain unless --rpc-url names a node.

    Example: gridchain monitoring demo --seed 1 --json
    """
    from gridchain.chain.boa_gateway import BoaGateway
    from gridchain.monitoring import plots, scenarios

    if not 4 <= households <= 12:
        raise InputError("--households", f"{households} is not within 4 .. 12")
    if rpc_url and not rpc_url.startswith(("http://", "https://")):
        raise InputError("--rpc-url", f"{rpc_url!r} is not an http:// or https:// URL")
    config = scenarios.MonthConfig(households=households, seed=seed, breaches=not honest)
    make_out_dir(out)
    gateway = rpc_gateway(rpc_url, None, ACCOUNTS) if rpc_url else BoaGateway(accounts=ACCOUNTS)
    if rpc_url:
        confirm_clock_moves(gateway, yes, "to 2030-01-01 and a month on")
    result = scenarios.run_month(gateway, config, lambda step: typer.echo(step, err=True))
    summary = result.as_json() | {"chain": gateway.kind}
    name = f"monitoring_seed{seed}_{households}h" + ("_honest" if honest else "")
    written = write_results(out, name, summary, lambda path: plots.month_figure(summary, path))
    files = [str(p) for p in written]
    emit(as_json, summary | {"files": files}, demo_lines(summary) + [f"wrote {f}" for f in files])


def _span(values: list[int]) -> str:
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    return f"{lo:,}" if lo == hi else f"{lo:,} .. {hi:,}"


def demo_lines(summary: dict) -> list[str]:
    """The demo's answer in lines of at most 80 columns."""
    c, gas = summary["config"], summary["gas"]
    lines = [
        f"GridMonitoring month: {c['households']} households, {c['days']} days, seed {c['seed']} "
        f"({summary['chain']} chain)",
        f"accesses served {summary['accesses']:,} (and {len(summary['breaches'])} breaches), refused "
        f"{len(summary['refused'])}",
        f"records: {summary['records_attested']:,} attested in {summary['batches']} batches by {c['m']} of "
        f"{c['nodes']} nodes; {summary['records_held']} held back (after a hole)",
        f"gas: grant {_span(gas['grant'])}, attested batch {_span(gas['attest'])}, "
        f"revoke {_span(gas['revoke_signed'])}",
    ]
    if summary["breaches"]:
        lines += ["", f"{'day':>3}  {'breach':<46} {'alerted as':<18} where"]
        alerts = {(a["household"], a["seq"], a["kind"]): a for a in summary["alerts"]}
        for b in summary["breaches"]:
            a = alerts.get((b["household"], b["seq"], b["kind"]))
            where = "-" if a is None else ("chain" if a["on_chain"] else "notice")
            alerted = b["kind"] if b["alerted"] else "MISSED"
            lines.append(f"{b['day']:>3}  {b['name'][:46]:<46} {alerted[:18]:<18} {where}")
        lines.append(f"gas of a breach report on chain: {_span(gas['report'])}")
    lines += [
        "",
        f"alerts {len(summary['alerts'])}: false positives {summary['false_positives']}, "
        f"false negatives {summary['false_negatives']}",
    ]
    return lines
