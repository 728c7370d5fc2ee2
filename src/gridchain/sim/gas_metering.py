"""Gas of smart metering (contracts/metering.vy): anchoring a day of a meter's readings and a roaming settlement.

A fresh contract; the utility registers a household meter, a charge point's meter, an EV and a gateway, and
sets a time-of-use tariff. `anchor_root`: one day of 96 signed 15-minute readings of one meter anchored as one
Merkle root (the per-reading figure divides by 96). `settle_session`: a 4-hour session of 16 intervals at
7.4 kW across the evening peak, the EV's and the meter's signatures checked, billed to the EV owner's escrow.
`verify_reading` is a view: its gas is what an `eth_call` would use (estimate), reported for completeness.
Every other figure is a receipt's gasUsed.
"""

from __future__ import annotations

from eth_account import Account

from gridchain.actors.meter import MeterGateway, SmartMeter, sign_session_start
from gridchain.chain.gateway import Gateway
from gridchain.chain.metering import MeteringClient, SignedSession
from gridchain.core import metering as m

COMMUNITY = 1
NOTICE_S = 2 * 86400
PRICES = tuple(3 * 10**14 if 17 <= h < 21 else 10**14 for h in range(24))  # [wei/kWh] evening peak 17-21 UTC
SESSION_INTERVALS = 16  # 4 h
SESSION_WH = 1850  # per interval: 7.4 kW for 15 minutes
SETUP = {"readings_per_root": 96, "session_intervals": SESSION_INTERVALS, "session_wh": SESSION_WH * SESSION_INTERVALS}


def measure(gateway: Gateway) -> dict[str, int]:
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
    day0 = (gateway.now() // 86400 + 1) * 86400
    gas["set_tariff"] = client.set_tariff(utility, COMMUNITY, day0, PRICES).gas_used
    gas["deposit"] = client.deposit(ev_owner, 10**17).gas_used

    gateway.advance_time(day0 + 86400 - gateway.now())  # the whole first day is over
    meter_gateway = MeterGateway(client, gw_account)
    meter_gateway.collect(household.sign_reading(day0 + i * m.INTERVAL_S, 300 + i, 40) for i in range(96))
    gas["anchor_root"] = meter_gateway.anchor(household.address, day0 // 86400).gas_used
    gas["anchor_root_per_reading"] = round(gas["anchor_root"] / 96)
    proof = meter_gateway.proof(household.address, day0 + 47 * m.INTERVAL_S)
    assert client.verify_reading(proof.signed, proof.proof)

    start = day0 + 16 * 3600  # 16:00 - 20:00: one hour off-peak, three at peak
    s, ev_sig = sign_session_start(ev_key, domain, cp.address, start)
    reading = m.SessionReading(m.typed_digest(domain, s.struct_hash()), start // m.INTERVAL_S,
                               (SESSION_WH,) * SESSION_INTERVALS)  # fmt: skip
    session = SignedSession(s, ev_sig, reading, cp.sign_session(reading))
    settled, receipt = client.settle_session(host, session)
    gas["settle_session"] = receipt.gas_used
    assert settled.energy_wh == SESSION_WH * SESSION_INTERVALS and client.credit(host) == settled.cost_wei
    gas["withdraw_credit"] = client.withdraw_credit(host).gas_used
    return gas

