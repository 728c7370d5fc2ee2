"""The market's targets of the fault-injection suite (issue 17's acceptance), on a pilot of their own
(tests/faults/market_pilot.py: its clock is warped, the coordinator pilot's is not): the OCPP central system
SIGKILLed at moments drawn from the seed while charge-point processes run roaming sessions, and the V2V provider
SIGKILLed while consumer processes trade with it; each restarted at once with the same command. Then every
accepted roaming session must settle exactly once, and every receipt the provider held must be settled, nothing
paid twice (tests/faults/market_invariants.py); the kills and losses go to results/faults.json.

`make faults` (marker `faults`), with the same FAULTS_SEED and FAULTS_KILLS (kills per target, default 2) as
tests/faults/test_faults.py."""

from __future__ import annotations

import os
import time

import pytest

from tests.faults import market_invariants as check
from tests.faults.harness import Injector, chaos, record, target
from tests.faults.market_pilot import SPACING_S, MarketPilot, start_market_pilot
from tests.faults.market_workload import AMOUNT_WH, charge_until, trade_until

pytestmark = pytest.mark.faults

SEED = int(os.environ.get("FAULTS_SEED", "17"))
KILLS = int(os.environ.get("FAULTS_KILLS", "2"))  # per target
GAP_S = 20  # between two kills of a run: a restart (up to 10 s on busy cores) and time up to serve
WINDOW_S = max(60, KILLS * GAP_S + 24)  # a run's kills fall in this much time while the load goes on
JOIN_S = 150  # after the load: the last restart (the charge points wait for it)

# target -> (daemon killed, durable on this branch); flip a False when the target's durable version merges
DURABLE = {
    "central": ("central", True),  # transactions, samples and sessions in the store (issue 17)
    "provider": ("provider", True),  # sessions, receipts and settlements in the store (issue 17)
}


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    p = start_market_pilot(tmp_path_factory.mktemp("market-faults"))
    try:
        yield p
    finally:
        p.stop()


@pytest.mark.parametrize("name", [target(n, DURABLE) for n in DURABLE])
def test_market_kills_lose_nothing(market: MarketPilot, name: str):
    {"central": run_central, "provider": run_provider}[name](market)


def _window() -> tuple[float, float]:
    start = time.time() + 3
    return start, start + WINDOW_S


def run_central(pilot: MarketPilot) -> None:
    """Charge points run sessions while the central system is killed; then each accepted one is settled."""
    daemon, durable = DURABLE["central"]
    window = _window()
    first = pilot.tariff_from + pilot.next_session * SPACING_S
    injector = Injector(pilot.daemons, chaos(SEED, daemon, KILLS, window, GAP_S)).start()
    charges = charge_until(pilot, window[1])
    injector.join(JOIN_S)
    starts = range(first, pilot.tariff_from + pilot.next_session * SPACING_S)
    losses, checked = check.central(pilot, charges, starts)
    checked["down_s"] = [k["down_s"] for k in injector.done]
    record("central", SEED, len(injector.done), losses, durable, checked)
    assert checked["accepted"], ("a run that charged nothing checks nothing", [c.error for c in charges])
    assert not losses, losses


def run_provider(pilot: MarketPilot) -> None:
    """Consumers trade with the provider while it is killed; then every receipt it held must be settled."""
    daemon, durable = DURABLE["provider"]
    client = check.v2v_client(pilot)
    window = _window()
    injector = Injector(pilot.daemons, chaos(SEED, daemon, KILLS, window, GAP_S)).start()
    trades = trade_until(pilot, client, window[1])
    injector.join(JOIN_S)
    waited = check.settle_wait(pilot, client, 40)
    losses, checked = check.provider(pilot, client)
    checked |= waited | {
        "trades": len(trades),
        "full": sum(t.receipted_wh == AMOUNT_WH for t in trades),
        "session_retries": sum(len(t.sessions) - 1 for t in trades if t.sessions),
        "down_s": [k["down_s"] for k in injector.done],
    }
    record("provider", SEED, len(injector.done), losses, durable, checked)
    assert checked["receipts_held"], ("a run that traded nothing checks nothing", trades)
    assert not losses, losses
