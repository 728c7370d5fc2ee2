"""Gas of smart metering (contracts/metering.vy): anchoring a day of a meter's readings, a roaming session's
reservation and settlement, and the remedies (a meter-signed root, a timed-out reservation released).

A fresh contract; the utility registers a household meter, a charge point's meter, an EV and a gateway, assigns
the meters to the gateway, and sets a time-of-use tariff. `anchor_root`: one day of 96 signed 15-minute
readings of one meter anchored as one Merkle root (the per-reading figure divides by 96); `anchor_signed_root`:
the meter's own signed root replacing it. `reserve`: the host reserves the EV's signed maximum cost at
admission. `settle_session`: a 4-hour session of 16 intervals at 7.4 kW across the evening peak, the EV's and
the meter's signatures checked, paid from its reservation (the rest returned); `settle_session_unreserved`:
the same session at another meter paid from free escrow (each is its meter's first settlement, as before the
reservations). `release`: a reservation returned after its time-out.
`verify_reading` is a view: its gas is what an `eth_call` would use (estimate), reported for completeness.
Every other figure is a receipt's gasUsed.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_account import Account
from rich.console import Console
from rich.table import Table

from gridchain.chain.gateway import Gateway
from gridchain.experiments.gas_report import GasReportConfig
from gridchain.metering import model as m
from gridchain.metering.client import MeteringClient, SignedSession
from gridchain.metering.parties import MeterGateway, SmartMeter, session_id, sign_session_start

COMMUNITY = 1
NOTICE_S = 2 * 86400
PRICES = tuple(3 * 10**14 if 17 <= h < 21 else 10**14 for h in range(24))  # [wei/kWh] evening peak 17-21 UTC
SESSION_INTERVALS = 16  # 4 h
SESSION_WH = 1850  # per interval: 7.4 kW for 15 minutes
MAX_COST_WEI = 10**16  # what the EV signs a session may cost at most
SETUP = {"readings_per_root": 96, "session_intervals": SESSION_INTERVALS, "session_wh": SESSION_WH * SESSION_INTERVALS}


def measure_functions(gateway: Gateway) -> dict[str, int]:
    utility, gw_account, host, ev_owner = gateway.accounts[:4]
    household_key, cp_key, ev_key = (Account.create().key for _ in range(3))
    client, deploy = MeteringClient.deploy(gateway, utility, NOTICE_S)
    gas = {"deploy": deploy.gas_used}
    domain = client.domain()
    household, cp = SmartMeter(household_key, domain), SmartMeter(cp_key, domain)
    gas["register_meter"] = client.register_meter(utility, household.address, host, COMMUNITY, 1).gas_used
    client.register_meter(utility, cp.address, host, COMMUNITY, 1)
    ev = Account.from_key(ev_key).address
    gas["register_ev"] = client.register_ev(utility, ev, ev_owner).gas_used
    client.set_gateway(utility, gw_account)
    gas["assign_gateway"] = client.assign_gateway(utility, household.address, gw_account).gas_used
    client.assign_gateway(utility, cp.address, gw_account)
    day0 = (gateway.now() // 86400 + 1) * 86400
    gas["set_tariff"] = client.set_tariff(utility, COMMUNITY, day0, PRICES).gas_used
    gas["deposit"] = client.deposit(ev_owner, 10**17).gas_used

    gateway.advance_time(day0 + 86400 - gateway.now())  # the whole first day is over
    meter_gateway = MeterGateway(client, gw_account)
    readings = [household.sign_reading(day0 + i * m.INTERVAL_S, 300 + i, 40) for i in range(96)]
    meter_gateway.collect(readings)
    gas["anchor_root"] = meter_gateway.anchor(household.address, day0 // 86400).gas_used
    gas["anchor_root_per_reading"] = round(gas["anchor_root"] / 96)
    day_root, signature = household.sign_day_root(readings, 1)
    gas["anchor_signed_root"] = meter_gateway.correct(
        household.address, day0 // 86400, readings, day_root, signature
    ).gas_used
    proof = meter_gateway.proof(household.address, day0 + 47 * m.INTERVAL_S)
    assert client.verify_reading(proof.signed, proof.proof)

    def session(start: int, meter: SmartMeter = cp) -> SignedSession:
        s, ev_sig = sign_session_start(ev_key, domain, meter.address, start, MAX_COST_WEI)
        reading = m.SessionReading(session_id(domain, s), start // m.INTERVAL_S, (SESSION_WH,) * SESSION_INTERVALS)
        return SignedSession(s, ev_sig, reading, meter.sign_session(reading))

    peak = session(day0 + 16 * 3600)  # 16:00 - 20:00: one hour off-peak, three at peak
    sid, receipt = client.reserve(host, peak.start, peak.ev_signature)
    gas["reserve"] = receipt.gas_used
    settled, receipt = client.settle_session(host, peak)
    gas["settle_session"] = receipt.gas_used
    assert settled.energy_wh == SESSION_WH * SESSION_INTERVALS and client.credit(host) == settled.paid_wei
    assert client.reserved(sid) == 0 and settled.paid_wei == settled.cost_wei
    gas["withdraw_credit"] = client.withdraw_credit(host).gas_used
    unreserved = session(day0 + 16 * 3600, household)  # the same at another meter (its first), unreserved
    gas["settle_session_unreserved"] = client.settle_session(host, unreserved)[1].gas_used

    late = session(gateway.now())  # reserved, never settled: anyone returns it after the time-out
    client.reserve(host, late.start, late.ev_signature)
    gateway.advance_time(m.RESERVATION_S)
    gas["release"] = client.release(gw_account, late.start)[1].gas_used
    gas["request_withdrawal"] = client.request_withdrawal(ev_owner, 10**16).gas_used
    gateway.advance_time(NOTICE_S)
    gas["withdraw_escrow"] = client.withdraw_escrow(ev_owner).gas_used
    return gas


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def steps(config: GasReportConfig) -> int:
    return 1


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    gas = measure_functions(gateway())
    progress("metering")
    return {"metering": gas, "metering_setup": SETUP}


def targets(report: dict) -> dict[str, dict]:
    return {}


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    setup = report["metering_setup"]
    metering = Table(
        title=f"Smart metering ({where}): a root over "
        f"{setup['readings_per_root']} readings, a session of "
        f"{setup['session_intervals']} intervals"
    )
    for col in ("function", "gas"):
        metering.add_column(col, justify="right")
    for name, gas in report["metering"].items():
        metering.add_row(name, f"{gas:,}")
    console.print(metering)
