"""One day of smart metering for e-mobility, end to end (Olivares-Rojas et al.'s "relative's house" case).

Two households of one community: the host (a relative, with a charge point behind its household meter) and
the EV owner. The EV owner's EV charges at the host's charge point over OCPP 1.6 (loopback websockets): the
EV signs the session start with the most it may cost, which the host's station reserves of the owner's escrow
on chain before the EV may charge; the charge point's meter signs clock-aligned interval readings and the
session's per-interval energy; the coordinator's allocation for the charge point's ESU arrives as SetChargingProfile;
the charge point drops its connection for a while and reconnects (nothing lost or counted twice). Later an
EV charges at the host without a signed session (an unannounced session). After the day the meters'
readings (96 a meter, signed) are anchored as one Merkle root each by the gateway assigned to the meters, the
roaming session is settled on chain (its reservation pays the host at the time-of-use tariff, the rest returns
to the escrow), NILM on the host's 1-minute meter data
flags the EV charging that no signed session explains, one reading is proven against its root, and each
party gets a bill.

Household load: `sim.nilm_data` (richardsonpy occupancy and appliances, oven, water heater, heat pump,
kettle; no EV of their own that day). Units: power [W], energy [Wh], money [wei], times [s] (unix).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from eth_account import Account
from eth_utils import keccak

from gridchain.chain.gateway import Gateway
from gridchain.coordination import ChargingRequest, Slot, get_policy
from gridchain.metering import model as m
from gridchain.metering.client import MeteringClient, SignedReading
from gridchain.metering.nilm.data import HouseholdConfig, generate_household
from gridchain.metering.nilm.model.classification import detect_ev_sessions, unexplained_ev_sessions
from gridchain.metering.parties import (
    ChargePointMeter,
    MeterGateway,
    SmartMeter,
    session_id,
    sign_session_start,
)
from gridchain.metering.service import RoamingStation
from gridchain.ocpp.backend import RecordingBackend
from gridchain.ocpp.central import CentralSystem
from gridchain.ocpp.charge_point import ChargePointSim

COMMUNITY = 1
NOTICE_S = 2 * 86400
MILLI_ETH = 10**15
# [wei/kWh] a time-of-use tariff: night 0-6 UTC, day, evening peak 17-21
PRICES = tuple(50 * 10**12 if h < 6 else 300 * 10**12 if 17 <= h < 21 else 100 * 10**12 for h in range(24))
EV_PF = 0.99
MINUTE = 60


@dataclass(frozen=True)
class DemoConfig:
    seed: int = 0
    ev_max_power_w: int = 7_400  # the visiting EV's on-board charger
    arrival_min: int = 17 * 60 + 10  # [minute of the day] the EV plugs in at the host's
    departure_min: int = 20 * 60 + 10
    allocation_min: int = 18 * 60  # the coordinator's slot starts: its allocation is pushed
    offline_min: tuple[int, int] = (18 * 60 + 40, 19 * 60)  # the charge point's link is down
    unannounced_min: tuple[int, int] = (22 * 60, 23 * 60 + 30)  # an EV charges without a signed session
    unannounced_w: int = 11_000
    escrow_wei: int = 50 * MILLI_ETH
    max_cost_wei: int = 20 * MILLI_ETH  # what the EV signs the session may cost at most (reserved at admission)


def coordinator_allocation(ev_max_power_w: int) -> tuple[int, dict]:
    """The community's slot at the allocation time: capacity C - P_R and three ESUs; the paper's greedy policy
    decides; returns the charge point ESU's grant [W] and the schedule."""
    requests = (
        ChargingRequest("neighbour-1", 5_000, 100, 1, 0),
        ChargingRequest("neighbour-2", 3_300, 200, 2, 1),
        ChargingRequest("host-cp", ev_max_power_w, 500, 4, 2),
    )
    schedule = get_policy("greedy").schedule(Slot(12_000, requests))
    grant = next(a.granted_w for a in schedule.allocations if a.id == "host-cp")
    return grant, schedule.to_dict()


def _interval_wh(p_w: np.ndarray) -> list[int]:
    """1-minute power [W] to 15-minute energies [Wh] (rounded down)."""
    per = m.INTERVAL_S // MINUTE
    return [int(x) for x in np.floor(p_w.reshape(-1, per).sum(axis=1) * MINUTE / 3600)]


def run(gateway: Gateway, config: DemoConfig = DemoConfig(), progress: Callable[[str], None] | None = None) -> dict:
    """The whole day on `gateway` (embedded or JSON-RPC; its first four accounts are used)."""
    step = progress or (lambda _label: None)
    utility, ami, host, ev_owner = gateway.accounts[:4]
    # the meters' and the EV's keys, derived from the seed (a demo; real devices make their own)
    keys = [keccak(text=f"gridchain metering demo seed {config.seed} key {i}") for i in range(4)]
    client, _ = MeteringClient.deploy(gateway, utility, NOTICE_S)
    domain = client.domain()
    host_meter, owner_meter, cp_meter = (SmartMeter(k, domain) for k in keys[:3])
    ev_key = keys[3]
    ev = Account.from_key(ev_key).address
    client.register_meter(utility, host_meter.address, host, COMMUNITY, 1)
    client.register_meter(utility, owner_meter.address, ev_owner, COMMUNITY, 2)
    client.register_meter(utility, cp_meter.address, host, COMMUNITY, 1)  # the charge point, behind meter 1
    client.register_ev(utility, ev, ev_owner)
    client.set_gateway(utility, ami)
    for meter in (host_meter, owner_meter, cp_meter):
        client.assign_gateway(utility, meter.address, ami)
    day0 = (gateway.now() // 86400 + 1) * 86400
    client.set_tariff(utility, COMMUNITY, day0, PRICES)
    client.deposit(ev_owner, config.escrow_wei)
    balances_before = {"host": gateway.balance(host), "ev_owner": gateway.balance(ev_owner)}
    step("contracts and registry")

    # -- the roaming session over OCPP -------------------------------------------------------------------
    minutes = 24 * 60
    cp_w = np.zeros(minutes)
    grant_w, schedule = coordinator_allocation(config.ev_max_power_w)
    backend = RecordingBackend()
    station = RoamingStation(client, host, backend, cp_meter.address, min_escrow_wei=5 * MILLI_ETH)
    signer = ChargePointMeter(cp_meter)
    arrival = day0 + config.arrival_min * MINUTE
    start, ev_sig = sign_session_start(ev_key, domain, cp_meter.address, arrival, config.max_cost_wei)
    ocpp_log = []
    with (
        CentralSystem(backend) as central,
        ChargePointSim("host-cp", central.url, arrival, config.ev_max_power_w, signer=signer, clock_aligned=True) as cp,
    ):
        cp.connect()
        gateway.advance_time(arrival - gateway.now())  # the chain's clock at the plug: the reservation's start
        tag = station.announce(start, ev_sig)  # the EV presents its signed start; its max cost is reserved
        sid = session_id(domain, start)
        reserved_wei = client.reserved(sid)
        ocpp_log.append(
            (
                "reserve",
                config.arrival_min,
                f"{reserved_wei / 10**18:.6f} ETH of the EV owner's escrow reserved on chain",
            )
        )
        signer.expect(sid, start.start)
        assert cp.authorize(tag)
        tx = cp.start_transaction(tag)
        ocpp_log.append(("start", config.arrival_min, f"transaction {tx}, id tag {tag}"))
        for minute in range(config.arrival_min, config.departure_min):
            if minute == config.allocation_min:
                status = central.set_charging_profile("host-cp", 1, grant_w, transaction_id=tx)
                ocpp_log.append(("SetChargingProfile", minute, f"{grant_w} W (greedy allocation): {status}"))
            if minute == config.offline_min[0]:
                cp.disconnect()
                ocpp_log.append(("disconnect", minute, f"register {cp.register_wh} Wh"))
            if minute == config.offline_min[1]:
                resent = cp.reconnect()
                ocpp_log.append(("reconnect", minute, f"{resent} queued messages delivered"))
            cp_w[minute] = cp.power_w
            cp.advance(MINUTE)
        meter_stop = cp.stop_transaction()
        ocpp_log.append(("stop", config.departure_min, f"meter stop {meter_stop} Wh"))
        record = backend.transaction(tx)
    step("OCPP session")
    assert record.energy_wh == meter_stop, "the central system lost or double-counted energy"

    # -- the households' day -------------------------------------------------------------------------------
    no_ev = HouseholdConfig(days=1, ev_days_range=(0.0, 0.0))
    homes = {name: generate_household((config.seed, 2, i), no_ev) for i, name in enumerate(("host", "ev_owner"))}
    tan_ev = math.tan(math.acos(EV_PF))
    unannounced_w = np.zeros(minutes)
    a, b = config.unannounced_min
    unannounced_w[a:b] = config.unannounced_w
    unannounced_w[b - 10 : b] = np.linspace(config.unannounced_w, 1_500, 10)  # the battery's taper
    host_p = homes["host"].p_w + cp_w + unannounced_w
    host_q = homes["host"].q_var + (cp_w + unannounced_w) * tan_ev
    # the household meter sees the charge point's energy exactly as the charge point's meter counted it
    session_reading = station.signed_session(tx).reading
    cp_interval = {i * m.INTERVAL_S: e for i, e in enumerate(session_reading.energy_wh, session_reading.first_interval)}
    host_rest = _interval_wh(homes["host"].p_w + unannounced_w)
    readings = {"host": [], "ev_owner": []}
    for i in range(96):
        t = day0 + i * m.INTERVAL_S
        q_host = max(0, int(np.abs(host_q[i * 15 : (i + 1) * 15]).sum() * MINUTE / 3600))
        readings["host"].append(host_meter.sign_reading(t, host_rest[i] + cp_interval.get(t, 0), q_host))
    owner_p = _interval_wh(homes["ev_owner"].p_w)
    for i in range(96):
        q = max(0, int(np.abs(homes["ev_owner"].q_var[i * 15 : (i + 1) * 15]).sum() * MINUTE / 3600))
        readings["ev_owner"].append(owner_meter.sign_reading(day0 + i * m.INTERVAL_S, owner_p[i], q))
    step("household meters")

    # -- after the day: anchor, settle, detect, prove ---------------------------------------------------------
    gateway.advance_time(day0 + 86400 + 60 - gateway.now())
    ami_gateway = MeterGateway(client, ami)
    kept = ami_gateway.collect([*readings["host"], *readings["ev_owner"], *station.interval_readings()])
    anchors = {}
    for name, meter in (("host", host_meter), ("ev_owner", owner_meter), ("charge_point", cp_meter)):
        receipt = ami_gateway.anchor(meter.address, day0 // 86400)
        anchors[name] = {
            "meter": meter.address,
            "readings": len(ami_gateway.readings[(meter.address.lower(), day0 // 86400)]),
            "root": "0x" + ami_gateway.anchored[(meter.address.lower(), day0 // 86400)][0].hex(),
            "gas": receipt.gas_used,
        }
    settled = station.settle(tx)
    step("anchored and settled")

    detected = detect_ev_sessions(host_p, host_q, MINUTE)
    signed_spans = [
        (settled.first_interval * m.INTERVAL_S, (settled.first_interval + settled.intervals) * m.INTERVAL_S)
    ]  # noqa: E501
    flagged = unexplained_ev_sessions(detected, signed_spans, MINUTE, start_time=day0)
    owner_detected = detect_ev_sessions(homes["ev_owner"].p_w, homes["ev_owner"].q_var, MINUTE)
    step("NILM")

    probe_t = day0 + config.allocation_min * MINUTE
    proof = ami_gateway.proof(host_meter.address, probe_t)
    proven = client.verify_reading(proof.signed, proof.proof)
    r = proof.signed.reading
    forged = m.Reading(r.meter, r.interval_start, r.active_wh - 1000, r.reactive_varh)
    tampered = client.verify_reading(SignedReading(forged, proof.signed.signature), proof.proof)

    # -- bills -------------------------------------------------------------------------------------------
    tariffs = [m.Tariff(day0, PRICES)]
    host_gross = m.host_bill(tariffs, [s.reading for s in readings["host"]], [])
    host_net = m.host_bill(tariffs, [s.reading for s in readings["host"]], [session_reading])
    owner_home = m.host_bill(tariffs, [s.reading for s in readings["ev_owner"]], [])
    flagged_wh = sum(s.energy_wh for s in flagged)
    bills = {
        "host": {
            "household_wh": host_gross.energy_wh,
            "household_cost_wei": host_gross.cost_wei,
            "roaming_wh_billed_to_ev_owner": settled.energy_wh,
            "net_wh": host_net.energy_wh,
            "net_cost_wei": host_net.cost_wei,
            "roaming_credit_wei": client.credit(host),
            "flagged_unexplained_ev_wh": round(flagged_wh),
        },
        "ev_owner": {
            "household_wh": owner_home.energy_wh,
            "household_cost_wei": owner_home.cost_wei,
            "roaming_wh": settled.energy_wh,
            "roaming_cost_wei": settled.paid_wei,
            "escrow_before_wei": config.escrow_wei,
            "escrow_after_wei": client.escrow(ev_owner),
        },
    }
    host_credit = client.credit(host)
    client.withdraw_credit(host)
    return {
        "config": {
            "seed": config.seed,
            "chain": gateway.kind,
            "day_start": day0,
            "community": COMMUNITY,
            "tariff_wei_per_kwh": list(PRICES),
        },
        "contract": client.address,
        "parties": {
            "utility": utility,
            "gateway": ami,
            "host": host,
            "ev_owner": ev_owner,
            "ev": ev,
            "host_meter": host_meter.address,
            "ev_owner_meter": owner_meter.address,
            "charge_point_meter": cp_meter.address,
        },
        "ocpp": {
            "log": [{"event": e, "minute": mi, "detail": d} for e, mi, d in ocpp_log],
            "transaction": tx,
            "energy_wh": record.energy_wh,
            "duplicates_ignored": backend.duplicates,
            "allocation_w": grant_w,
            "schedule": schedule,
        },
        "session": {
            "id": "0x" + settled.session.hex(),
            "first_interval": settled.first_interval,
            "intervals": settled.intervals,
            "energy_wh": settled.energy_wh,
            "cost_wei": settled.cost_wei,
            "paid_wei": settled.paid_wei,
            "reserved_wei": reserved_wei,
            "reservation_left_wei": client.reserved(settled.session),
            "payer": settled.payer,
            "host": settled.host,
            "energy_per_interval_wh": list(session_reading.energy_wh),
        },
        "anchors": anchors,
        "readings_kept": kept,
        "proof": {
            "meter": r.meter,
            "interval_start": r.interval_start,
            "active_wh": r.active_wh,
            "depth": len(proof.proof),
            "verified_on_chain": proven,
            "tampered_verified": tampered,
        },
        "nilm": {
            "host_detected": [_session_json(s, day0) for s in detected],
            "host_flagged": [_session_json(s, day0) for s in flagged],
            "ev_owner_detected": [_session_json(s, day0) for s in owner_detected],
        },
        "bills": bills,
        "host_credit_withdrawn_wei": host_credit,
        "balances_before": balances_before,
        "series": {
            "host_p_w": host_p.round(1).tolist(),
            "charge_point_w": cp_w.tolist(),
            "unannounced_w": unannounced_w.tolist(),
        },
        "archive": ami_gateway.archive(),
    }


def _session_json(s, day0: int) -> dict:
    return {
        "start": day0 + s.start * MINUTE,
        "end": day0 + s.end * MINUTE,
        "start_min": s.start,
        "end_min": s.end,
        "power_w": round(s.power_w),
        "energy_wh": round(s.energy_wh),
    }
