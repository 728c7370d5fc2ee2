"""The charge-point bridge (coordination's `ChargerBridge`) inside the host's central system: a transaction at a
bridged charge point becomes an anonymous request through the ESU path (the SoC from its MeterValues, or the
stated need), the slot's grant reaches the charge point as SetChargingProfile (asserted on the simulator's side),
and a stopped transaction is no longer followed. The embedded chain, the issuance and relayer services over
loopback HTTP, real OCPP 1.6 on 127.0.0.1; the bridge's steps are run by the test, one at a time."""

from __future__ import annotations

import time

import pytest

from gridchain.coordination.anonymous.parties.issuer import TokenWallet
from gridchain.coordination.parties.chargers import BridgedCharger, ChargerBridge, StatedNeed
from gridchain.coordination.parties.closes import SlotCloses
from gridchain.coordination.parties.keeper import Keeper
from gridchain.coordination.parties.wallet import EsuWallet
from gridchain.coordination.parties.wallet_state import WalletState
from gridchain.metering.service import RoamingBackend, RoamingCentral
from gridchain.ocpp.central import CentralSystem
from gridchain.ocpp.charge_point import ChargePointSim
from tests.coordination.test_wallet import Pilot, pilot  # noqa: F401 (the fixture)

TAG = "ev-at-cp1"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def site(pilot):  # noqa: F811
    log: list[tuple[str, dict]] = []
    backend = RoamingBackend(lambda action, fields: log.append((action, fields)))
    backend.add_id_tag(TAG)
    wallet = EsuWallet(WalletState.open(pilot.folder), pilot.client, pilot.http)
    tokens = TokenWallet(bytes(pilot.member.key), pilot.issuer.address, pilot.issuance)
    refill = lambda: wallet.obtain_tokens(tokens, pilot.issuance.modulus, [pilot.epoch], 3)  # noqa: E731
    pilot.next_slot()  # slot 1: the bridge starts reading closes here
    closes = SlotCloses(pilot.client, pilot.client.next_slot_to_close)
    clock = Clock()
    with CentralSystem(backend) as central:
        service = RoamingCentral(central, backend)
        bridge = ChargerBridge(
            {"CP1": BridgedCharger(wallet, refill)},
            closes,
            service.push_allocation,
            StatedNeed(demand_w=7_400, soc_pm=500, tcc=2),
            lambda action, fields: log.append((action, fields)),
            soc_wait_s=5,
            clock=clock,
        )
        backend.listeners.append(bridge)
        yield {"pilot": pilot, "bridge": bridge, "central": central, "log": log, "clock": clock, "wallet": wallet}


def charge_point(site, soc_pct: int | None) -> ChargePointSim:
    cp = ChargePointSim("CP1", site["central"].url, int(time.time()), 11_000, soc_pct=soc_pct)
    assert cp.connect() == "Accepted"
    return cp


def wait_for(condition, deadline_s: float = 10) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def logged(site, action: str) -> list[dict]:
    return [fields for a, fields in site["log"] if a == action]


def close_slot(site) -> None:
    p = site["pilot"]
    p.next_slot()
    assert Keeper(p.client, p.owner).close_due()


def test_a_transaction_with_its_soc_becomes_a_request_and_its_grant_a_charging_profile(site):
    bridge, p = site["bridge"], site["pilot"]
    with charge_point(site, soc_pct=35) as cp:
        tx = cp.start_transaction(TAG)
        wait_for(lambda: bridge.transactions[("CP1", tx)].soc_pm == 350)  # from the Transaction.Begin MeterValues
        bridge.step()  # the SoC came: no need to wait soc_wait_s
        [sent] = logged(site, "request sent")
        assert sent["soc_pm"] == 350 and sent["soc_from"] == "meter values" and sent["status"] == "queued"
        assert (sent["demand_w"], sent["tcc"], sent["slot"]) == (7_400, 2, 1)
        p.http.flush()  # the relayer submits it in slot 1
        bridge.step()
        assert site["wallet"].state.requests[0].status == "confirmed"
        assert cp.profiles == []  # nothing closed yet
        close_slot(site)  # slot 1 closes: 7.4 kW of 20 kW granted for slot 2
        bridge.step()
        assert cp.profiles == [(1, "TxProfile", 7_400)] and cp.limit_w == 7_400
        [pushed] = logged(site, "profile sent")
        assert pushed == {
            "cp_id": "CP1",
            "transaction_id": tx,
            "slot": 2,
            "closed_slot": 1,
            "request": 1,
            "granted_w": 7_400,
            "limit_w": 7_400,
            "answer": "Accepted",
        }
        close_slot(site)  # slot 2: the request was served in full, nothing pending for it: 0 W
        bridge.step()
        assert cp.profiles[-1] == (1, "TxProfile", 0) and cp.power_w == 0
        assert logged(site, "profile sent")[-1]["granted_w"] is None
        close_slot(site)  # slot 3: still 0 W, not sent again
        bridge.step()
        assert len(cp.profiles) == 2
        cp.stop_transaction()
        wait_for(lambda: bridge.transactions[("CP1", tx)].stopped)
        bridge.step()
        assert bridge.transactions == {} and logged(site, "transaction unbridged") == [
            {"cp_id": "CP1", "transaction_id": tx}
        ]


def test_without_a_soc_the_stated_need_is_asked_after_the_wait_and_tokens_are_obtained_on_demand(site):
    bridge, clock = site["bridge"], site["clock"]
    assert site["wallet"].state.tokens == []  # no tokens yet: the first request obtains them
    with charge_point(site, soc_pct=None) as cp:
        tx = cp.start_transaction(TAG)
        wait_for(lambda: ("CP1", tx) in bridge.transactions)
        bridge.step()
        assert logged(site, "request sent") == []  # waiting for a SoC
        clock.now += 5
        bridge.step()
        [sent] = logged(site, "request sent")
        assert (sent["soc_pm"], sent["soc_from"], sent["status"]) == (500, "stated need", "queued")
        assert logged(site, "tokens")[0]["epochs"][0]["obtained"] == 3


def test_a_grant_below_the_demand_is_pushed_as_it_is(site):
    bridge, p = site["bridge"], site["pilot"]
    p.client.post_capacity(p.owner, 1, 5_000)  # slot 1 has 5 kW: a partial grant
    with charge_point(site, soc_pct=80) as cp:
        tx = cp.start_transaction(TAG)
        wait_for(lambda: bridge.transactions[("CP1", tx)].soc_pm == 800)
        bridge.step()
        p.http.flush()
        bridge.step()
        close_slot(site)
        bridge.step()
        assert cp.profiles == [(1, "TxProfile", 5_000)]
        close_slot(site)  # slot 2 (capacity carried: 5 kW) grants the 2.4 kW left, its last slot
        bridge.step()
        assert cp.profiles[-1] == (1, "TxProfile", 2_400)
