"""`gridchain ocpp serve` (the host's OCPP 1.6-J central system, a daemon) and `gridchain ocpp charge-point` (a
charge point with an EV plugged in, driving one scripted roaming session, as its own process).

The daemon prints its banner (URL, PID) on stdout first, then one JSON line per action on stderr; SIGTERM or
SIGINT stop it cleanly (exit 0). The charge point prints one line per step on stdout (JSON with --json).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import typer

from gridchain.errors import InputError
from gridchain.metering.cli.chain import open_metering, read_config
from gridchain.metering.cli.config import HOST, device_key, meter_address, metering, ocpp
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

BRIDGES: list = []
"""Openers of bridges that run inside `ocpp serve` (the root CLI fills it from other features' PLUGS): each is
`open(config, charge_point_ids, push, log)` -> None (not configured) or (a `TransactionListener` with
`run(stop, interval_s)`, its interval [s]); `push(cp_id, limit_w)` sends a charge point a power limit and returns
its answer."""

RECONNECT_DEADLINE_S = 120.0  # [s] how long a charge point retries a central system that went away (default)

ocpp_app = typer.Typer(
    help="OCPP 1.6-J: the central system as a service, and a charge-point simulator.", no_args_is_help=True
)


def _log(action: str, fields: dict) -> None:
    sys.stderr.write(json.dumps({"t": round(time.time(), 3), "action": action, **fields}) + "\n")
    sys.stderr.flush()


def _start_central(settings, backend):
    from gridchain.ocpp.central import CentralSystem

    central = CentralSystem(
        backend,
        host=settings.host,
        port=settings.port,
        heartbeat_interval_s=settings.heartbeat_interval_s,
        response_timeout_s=30.0,
    )
    try:
        return central.start()
    except OSError as e:
        raise InputError(
            "ocpp.listen", f"cannot listen on {settings.host}:{settings.port}: {e.strerror or e}"
        ) from None


@ocpp_app.command("serve")
@bad_input_exits
def serve(
    config_file: Path = CONFIG,
    as_json: bool = typer.Option(False, "--json", help="Print the banner as one JSON line."),
) -> None:
    """Run the host's OCPP 1.6-J central system on ocpp.listen until SIGTERM or Ctrl-C.

    Charge points connect to ws://LISTEN/<id> (ocpp.charge_points maps each id to its meter). An EV's signed
    session start arrives as a DataTransfer (vendor org.gridchain.metering, message SessionStart); the host
    (accounts.host) reserves its maximum cost on chain and only then admits its id tag. Finished sessions and
    signed readings are written to ocpp.sessions for `metering anchor` and `metering settle`.

    Its state is in the deployment's store ([store] url, default sqlite:///state/gridchain.db beside the config):
    every transaction, meter sample and DataTransfer is written before it is answered, every admitted session
    before and after its reservation; a restart (even after SIGKILL) resumes from it, the charge points resend
    what was not answered, and nothing is stored twice.

    With bridge.enabled, each transaction at a charge point of bridge.wallets becomes a charging request from
    that charge point's ESU wallet (the SoC from its MeterValues, else bridge.soc_pm), and at each slot close
    the power the chain granted it (0 W without a grant) is sent to the charge point as SetChargingProfile.

    Example: gridchain ocpp serve --config pilot/gridchain.toml
    """
    from gridchain.config.store import config_store
    from gridchain.metering.parties_store import MeteringStore
    from gridchain.metering.service import RoamingBackend, RoamingCentral, RoamingStation
    from gridchain.ocpp.store import OcppStore

    config = read_config(config_file)
    settings, meters = ocpp(config), metering(config)
    stations = {cp_id: meter_address(config, name) for cp_id, name in settings.charge_points.items()}
    store = config_store(config)
    sessions_store = MeteringStore.open(store)
    backend = RoamingBackend(_log, OcppStore.open(store))
    d = open_metering(config, [HOST])
    host = d.address(HOST)
    resumed = {}
    for cp_id, meter in stations.items():
        station = RoamingStation(
            d.client, host, backend, meter, meters.min_reservation_wei, sessions_store, d.from_block
        )
        resumed[cp_id] = (station, station.restore())
    pushers: list[RoamingCentral] = []
    bridges = [b for b in (o(config, list(stations), _pusher(pushers), _log) for o in BRIDGES) if b is not None]
    central = _start_central(settings, backend)
    _log("restored", {"store": store.url, "transactions": len(backend.transactions())} | _counts(resumed))
    service = RoamingCentral(central, backend)
    pushers.append(service)
    for cp_id, (station, _) in resumed.items():
        service.add_station(cp_id, station)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    bridged = sorted({cp_id for bridge, _ in bridges for cp_id in bridge.chargers})
    banner = {
        "url": central.url,
        "pid": os.getpid(),
        "charge_points": stations,
        "sessions": str(settings.sessions_file),
        "bridged": bridged,
    }
    if as_json:
        print(json.dumps(banner), flush=True)
    else:
        print(f"ocpp central system at {central.url} (pid {os.getpid()}); SIGTERM or Ctrl-C stops it", flush=True)
        for cp_id, meter in stations.items():
            note = "  (bridged into coordination)" if cp_id in bridged else ""
            print(f"  charge point {central.url}/{cp_id}  meter {meter}{note}", flush=True)
    threads = []
    for bridge, interval_s in bridges:
        backend.listeners.append(bridge)
        threads.append(threading.Thread(target=bridge.run, args=(stop, interval_s), name="bridge", daemon=True))
        threads[-1].start()
    try:
        while not stop.wait(0.2):
            if service.save(settings.sessions_file):
                _log("sessions written", {"path": str(settings.sessions_file)})
    finally:
        for thread in threads:
            thread.join(timeout=30)
        central.stop()
        service.save(settings.sessions_file)
        store.close()
    _log("stopped", {"pid": os.getpid()})


def _counts(resumed: dict) -> dict:
    """The restored stations' sessions by state (pending, settled, released, abandoned)."""
    out: dict[str, int] = {}
    for _, counts in resumed.values():
        for state, n in counts.items():
            out[f"sessions_{state}"] = out.get(f"sessions_{state}", 0) + n
    return out


def _pusher(services: list):
    """`push(cp_id, limit_w)` for a bridge: the limit as a charging profile through the service (once started);
    the charge point's answer, or why it was not sent (never raises)."""

    def push(cp_id: str, limit_w: int) -> str:
        from ocpp.exceptions import OCPPError

        if not services:
            return "not sent: the central system is not started"
        try:
            return services[0].push_allocation(cp_id, limit_w)
        except (OCPPError, LookupError, ConnectionError, TimeoutError, RuntimeError) as e:
            return f"not sent: {e}"

    return push


def _stepper(as_json: bool):
    """Print one step: a JSON line, or `action: key value, ...` for people."""

    def step(action: str, **fields) -> None:
        if as_json:
            print(json.dumps({"action": action, **fields}), flush=True)
        else:
            print(f"{action}: " + ", ".join(f"{k} {v}" for k, v in fields.items()), flush=True)

    return step


def _default_start(config, community: int) -> int:
    """Now, or when the community's latest tariff takes effect if that is later."""
    from gridchain.metering.cli.chain import open_metering

    d = open_metering(config, [])
    latest = d.client.tariffs(community, d.from_block)[-1:]
    return max([int(time.time())] + [t.effective_from for t in latest])


@ocpp_app.command("charge-point")
@bad_input_exits
def charge_point(
    cp_id: str = typer.Option(..., "--id", help="The charge point's id (a key of ocpp.charge_points)."),
    ev: str = typer.Option(..., "--ev", help="The EV plugged in: its keystore's name in metering.evs."),
    max_cost_wei: int = typer.Option(..., "--max-cost-wei", help="The most the EV agrees to pay (wei)."),
    power_w: int = typer.Option(7400, "--power-w", help="The EV's charging power (W)."),
    start: int = typer.Option(
        None,
        "--start",
        help="Plug-in time (unix s) on the simulated clock. Default: now, or when the community's latest tariff "
        "takes effect if that is later (a session is priced by the tariff in force).",
    ),
    duration_s: int = typer.Option(3600, "--duration-s", help="How long it charges (s) (simulated, not waited)."),
    soc_pct: int = typer.Option(None, "--soc-pct", help="The EV's state of charge (%), sent at the start."),
    hold_s: float = typer.Option(
        0, "--hold-s", help="Seconds (real time) to stay plugged in after the start, taking charging profiles."
    ),
    profiles: int = typer.Option(0, "--profiles", help="Stop holding once this many profiles came (0: hold on)."),
    reconnect_s: float = typer.Option(
        RECONNECT_DEADLINE_S,
        "--reconnect-s",
        help="How long (real time, s) to keep retrying a central system that is not there or went away.",
    ),
    config_file: Path = CONFIG,
    as_json: bool = typer.Option(False, "--json", help="Print each step as one JSON line."),
) -> None:
    """Simulate one roaming session at a charge point, as its own process.

    BootNotification, the EV's signed start (DataTransfer), Authorize, StartTransaction, clock-aligned
    MeterValues every 15 minutes with the meter's signed readings, StopTransaction with its signed session
    reading, all on a simulated clock from --start (the session is not waited out). Prints one line per
    step (JSON with --json); the last one sums the session up.

    --soc-pct sends the EV's state of charge with the transaction's first MeterValues. --hold-s keeps the
    charge point connected that long in real time after StartTransaction (or until --profiles profiles came),
    printing each SetChargingProfile it accepts (a coordination bridge's allocation); the simulated session
    then charges under the last limit.

    If the central system is not there, or goes away mid-session (a restart), the charge point reconnects
    with backoff (0.2 s doubling to 5 s, for up to --reconnect-s): a request not answered (boot, the EV's
    start, Authorize, StartTransaction) is sent again, and transaction messages queued meanwhile are resent
    in order.

    Example: gridchain ocpp charge-point --id CP1 --ev ev1 --max-cost-wei 20000000000000000
             --config pilot/gridchain.toml
    """
    from gridchain.config.network import network_settings
    from gridchain.config.record import load_record
    from gridchain.metering import model as m
    from gridchain.metering.parties import (
        SESSION_START,
        VENDOR_ID,
        ChargePointMeter,
        SmartMeter,
        encode_session_start,
        session_id,
        sign_session_start,
    )
    from gridchain.ocpp.charge_point import ChargePointSim, OfflineError

    longest_s = (m.MAX_SESSION_INTERVALS - 1) * m.INTERVAL_S  # a session settles at most 96 intervals at once
    bounds = (("--max-cost-wei", max_cost_wei, 1, 2**128 - 1), ("--power-w", power_w, 1, 10**6))
    bounds += (
        ("--duration-s", duration_s, 1, longest_s),
        ("--hold-s", hold_s, 0, 86400),
        ("--profiles", profiles, 0, 1000),
        ("--reconnect-s", reconnect_s, 0, 3600),
    )
    if soc_pct is not None:
        bounds += (("--soc-pct", soc_pct, 0, 100),)
    for option, value, lo, hi in bounds:
        if not lo <= value <= hi:
            raise InputError(option, f"{value:g} is outside {lo}..{hi}")
    config = read_config(config_file)
    settings, rules = ocpp(config), metering(config)  # both sections checked before anything is done
    if cp_id not in settings.charge_points:
        raise InputError(
            "--id", f"{cp_id!r} is not in ocpp.charge_points ({', '.join(settings.charge_points) or 'none'})"
        )
    chain_id = network_settings(config).chain_id
    contract = load_record(config, chain_id).entry("metering")["address"]
    domain = m.domain(chain_id, contract)
    meter = SmartMeter(device_key(config, "meter", settings.charge_points[cp_id]), domain)
    ev_key = device_key(config, "ev", ev)
    t0 = _default_start(config, rules.community) if start is None else start
    _step = _stepper(as_json)
    signed_start, ev_sig = sign_session_start(ev_key, domain, meter.address, t0, max_cost_wei)
    signer = ChargePointMeter(meter)
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "") else settings.host
    with ChargePointSim(
        cp_id,
        f"ws://{host}:{settings.port}",
        t0,
        power_w,
        m.INTERVAL_S,
        signer,
        clock_aligned=True,
        timeout_s=30.0,
        soc_pct=soc_pct,
    ) as cp:
        try:
            _step("BootNotification", status=cp.call_with_backoff(cp.connect, reconnect_s))
        except OfflineError as e:
            raise InputError("ocpp.listen", f"no central system at {cp.url}: {e}") from None
        announce = encode_session_start(signed_start, ev_sig)
        status, tag = _online(cp, reconnect_s, lambda: cp.data_transfer(VENDOR_ID, SESSION_START, announce))
        _step("DataTransfer SessionStart", status=status, data=tag)
        if status != "Accepted":
            raise InputError("--ev", f"the central system refused the session start: {tag}")
        signer.expect(session_id(domain, signed_start), t0)
        _step("Authorize", accepted=_online(cp, reconnect_s, lambda: cp.authorize(tag)))
        # a StartTransaction answered but followed by a lost link is not sent again: its id is the meter's
        transaction_id = _online(cp, reconnect_s, lambda: cp.transaction_id or cp.start_transaction(tag))
        _step("StartTransaction", transaction_id=transaction_id, id_tag=tag, timestamp=t0, soc_pct=soc_pct)
        _hold(cp, hold_s, profiles, _step)
        cp.advance(duration_s)
        meter_stop = cp.stop_transaction()
        if cp.queued or not cp.online:  # the central system went away: reconnect, with backoff, and resend
            reconnects = cp.deliver_with_backoff(reconnect_s)
            _step("Reconnected", attempts=reconnects, delivered=len(cp.delivered))
        _step("StopTransaction", transaction_id=transaction_id, meter_stop_wh=meter_stop, timestamp=cp.now)
        reading, _ = signer.signed_sessions[-1]
    _step(
        "session",
        transaction_id=transaction_id,
        session="0x" + reading.session.hex(),
        ev=signed_start.ev,
        meter=meter.address,
        first_interval=reading.first_interval,
        energy_wh=list(reading.energy_wh),
        total_wh=reading.total_wh,
        signed_readings=len(signer.signed_readings),
        profiles_w=[limit for _, _, limit in cp.profiles],
        retries=cp.retries,
    )


def _online(cp, deadline_s: float, call):
    """`call()` retried across reconnects while the central system is away (see `ChargePointSim.call_with_backoff`);
    a central system away for longer than `deadline_s` [s] is an error naming ocpp.listen."""
    from gridchain.ocpp.charge_point import OfflineError

    try:
        return cp.call_with_backoff(call, deadline_s)
    except OfflineError as e:
        raise InputError("ocpp.listen", str(e)) from None


def _hold(cp, hold_s: float, profiles: int, step) -> None:
    """Stay connected `hold_s` [s] of real time (or until `profiles` profiles were accepted), printing each
    SetChargingProfile as it is accepted or rejected."""
    deadline, seen, refused = time.monotonic() + hold_s, 0, 0
    while True:
        for connector_id, purpose, limit_w in cp.profiles[seen:]:
            step("SetChargingProfile", connector_id=connector_id, purpose=purpose, limit_w=limit_w, status="Accepted")
        for reason in cp.rejected_profiles[refused:]:
            step("SetChargingProfile", status="Rejected", reason=reason)
        seen, refused = len(cp.profiles), len(cp.rejected_profiles)
        if (profiles and seen >= profiles) or time.monotonic() >= deadline:
            return
        time.sleep(0.1)
