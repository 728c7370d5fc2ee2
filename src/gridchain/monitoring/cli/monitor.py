"""`gridchain monitor`: the breach monitor of a deployment (gridchain.monitoring.service) as a daemon, or one round."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import typer

from gridchain.errors import InputError
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

MAX_BACKOFF_S = 60.0
POLL_RANGE = (0.05, 3600.0)  # [s], as [monitoring] poll_s


@dataclass
class MonitorLoop:
    """Rounds of `service` until `stop` is set: one JSON-able line per round to `log`, errors backed off."""

    service: object  # a MonitorService (anything with `round() -> dict`)
    log: Callable[[dict], None]
    poll_s: float = 5.0
    stop: threading.Event = field(default_factory=threading.Event)
    failures: int = 0  # consecutive failed rounds (the wait doubles with each)

    def run(self) -> None:
        while not self.stop.is_set():
            self.stop.wait(self.round())

    def round(self) -> float:
        """One round and its line; the seconds to wait before the next."""
        try:
            summary = self.service.round()
        except Exception as e:  # noqa: BLE001 - a daemon outlives a node's or a database's hiccups: log, back off
            self.failures += 1
            wait = min(MAX_BACKOFF_S, self.poll_s * 2 ** (self.failures - 1))
            self.log({"event": "error", "error": _reason(e), "retry_in_s": wait})
            return wait
        self.failures = 0
        self.log(summary)
        return self.poll_s


def _reason(error: Exception) -> str:
    from gridchain.chain.rpc_gateway import unreachable_reason

    return f"{type(error).__name__}: {unreachable_reason(error)}"[:300]


def _line(line: dict) -> None:
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()


def round_lines(summary: dict) -> list[str]:
    """A round's summary for people (lines of at most 80 columns)."""
    if summary.get("event") == "error":
        return [f"error (next round in {summary['retry_in_s']:g} s): {summary['error']}"[:80]]
    by_state = ", ".join(f"{n} {s}" for s, n in sorted(summary["alerts"].items())) or "none"
    lines = [
        f"round at {summary['at']}: head {summary['head']}, lag {summary['lag']}, roots {summary['roots']} "
        f"(+{summary['new_roots']}); new alerts: {by_state}"
    ]
    for s, n in sorted(summary["settled"].items()):
        lines.append(f"  settled after a restart: {n} {s}")
    for a in summary["new_alerts"]:
        lines.append(f"  #{a['id']:<5} {a['kind'][:18]:<18} {a['household'][:42]} #{a['seq']} {a['state']}"[:80])
    return lines


def check_poll(poll_s: float | None) -> None:
    if poll_s is not None and not POLL_RANGE[0] <= poll_s <= POLL_RANGE[1]:
        raise InputError("--poll-s", f"{poll_s} is not within {POLL_RANGE[0]} .. {POLL_RANGE[1]} s")


def run(
    service, once: bool, as_json: bool, poll_s: float, stop: threading.Event | None = None, lines=None
) -> MonitorLoop:
    """The command's core over a built service: one round (`once`: a failed one is its error line, exit 1) or
    rounds until `stop`. `lines`: a summary for people (default: the monitor's `round_lines`)."""
    lines = lines or round_lines
    emit = _line if as_json else (lambda summary: [typer.echo(x) for x in lines(summary)])
    loop = MonitorLoop(service, emit, poll_s)
    if once:
        try:
            emit(service.round())
        except Exception as e:  # noqa: BLE001 - one line, not a traceback: the node or the store failed
            emit({"event": "error", "error": _reason(e), "retry_in_s": 0})
            raise typer.Exit(1) from None
        return loop
    if stop is not None:
        loop.stop = stop
    loop.run()
    return loop


def serve(service, banner: dict, once: bool, as_json: bool, poll_s: float, lines=None) -> None:
    """The command's daemon (or `once`: one round): stop on SIGINT/SIGTERM, the banner (`banner["service"]`
    names it), the rounds, and the `stopped` line. The caller holds the store's lease."""
    from gridchain.ui.banner import STOPS, print_banner

    stop = threading.Event()
    if not once:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        banner = {"service": banner["service"], "pid": os.getpid(), **banner}
        print_banner(f"{banner['service']} (pid {banner['pid']}); {STOPS}", banner, as_json, hide=("service", "pid"))
    run(service, once, as_json, poll_s, stop, lines)
    if not once:
        (_line if as_json else lambda x: typer.echo("stopped"))({"event": "stopped"})


@bad_input_exits
def monitor(
    config_file: Path = CONFIG,
    once: bool = typer.Option(False, "--once", help="One round, its summary printed, then exit 0."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per round (and the banner as JSON)."),
    poll_s: float = typer.Option(None, "--poll-s", help="Seconds between rounds (default [monitoring] poll_s)."),
) -> None:
    """Watch every access to households' meter data and alert the breaches, as a daemon; restarts resume.

    Reads: the access log's Attested roots on chain (up to the head less [monitoring] confirmations), the
    consents on chain (grants, revocations, expiries), and from the store ([store] url) the batches the
    attestor published and each household's thread as the processing nodes show it. Each round judges every
    attested record against its grant and every thread against the log (records younger than [monitoring]
    grace_s are not alerted yet).

    Writes: each alert once, in the store. A breach the consent contract can judge (never granted, another
    party, outside the range, another purpose, after expiry or revocation) is reported on chain from the
    [monitoring] monitor account (a Breach event; it pays the gas); the rest (a record missing from a thread,
    a record no attested batch holds, a batch that does not make its root) is a notice to the household.
    Each on-chain report is stored before it is sent: after a crash it is found on chain or sent again, never
    twice. One monitor per store (a second is refused).

    A household sees its alerts with `gridchain data alerts`. Prints a banner, then one line per round (new
    roots, new alerts by state, head, lag; errors are retried with backoff); SIGTERM or Ctrl-C stops it
    between rounds (exit 0).

    Example: gridchain monitor --config pilot/gridchain.toml --once --json
    """
    check_poll(poll_s)
    from gridchain.monitoring.cli.chain import open_monitoring, read_config
    from gridchain.monitoring.cli.config import monitoring
    from gridchain.monitoring.service import MonitorService
    from gridchain.store.lease import hold

    config = read_config(config_file)
    settings = monitoring(config)
    d = open_monitoring(config, [settings.monitor])
    try:
        with hold(d.store.store, "monitor", "store.url"):  # two monitors on one store would report twice
            account = d.address(settings.monitor)
            service = MonitorService(
                d.consent, d.log, d.store, account, d.network.gateway.now, d.from_block, settings.grace_s,
                settings.confirmations,
            )  # fmt: skip
            banner = {
                "service": "monitor",
                "monitor": account,
                "access_log": d.log.address,
                "data_access": d.consent.address,
                "store": d.store.store.url,
                "confirmations": settings.confirmations,
                "grace_s": settings.grace_s,
            }
            serve(service, banner, once, as_json, settings.poll_s if poll_s is None else poll_s)
    finally:
        d.store.store.close()
