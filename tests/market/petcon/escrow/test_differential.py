"""The escrow contract against its twin on random results: synthetic entries and one from a real PETCON auction
(`result.result_of`), random meter readings (short, full and over delivery, disconnects), random escrows, the
entries settled in random batches among hostile calls (a tampered reading, a foreign pole's reading, a replayed
batch, an early withdrawal), then everyone withdrawing after the close: every step mirrored and checked."""

from __future__ import annotations

import boa
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.market.petcon import model as petcon
from gridchain.market.petcon import result
from gridchain.market.petcon.escrow.model import Reading
from tests.market.petcon.escrow.harness import DAY_S, LOT, SETTLE_S, Hotspot

ROUND = 3
POLES = 6


@pytest.fixture(scope="module")
def auction_record():
    m = petcon.paper_market(np.random.default_rng(5), buyers=3, sellers=3)
    run = petcon.run_auction(m, damping=petcon.DAMPING)
    assert run.outcome == "converged"
    return result.record_of(m, run)


def _entries(draw, hs: Hotspot, parties: list[str]) -> list[result.Entry]:
    n = len(parties)
    poles = draw(st.permutations(range(POLES)))[:n]
    return [
        hs.entry(
            p,
            poles[k],
            draw(st.sampled_from((result.BUYER, result.SELLER))),
            draw(st.integers(0, 6_000)),
            draw(st.integers(0, 3_000_000)),
        )
        for k, p in enumerate(parties)
    ]


def _deliver(draw, hs: Hotspot, r: result.Result) -> None:
    """Each entry's pole records a random profile over the window: all or part of its energy, more, or nothing
    after a disconnect."""
    offset = r.first_interval - hs.day * 96
    for k in range(POLES):
        e = next((e for e in r.entries if e.pole == hs.poles[k].address), None)
        per = (e.energy_wh if e else 0) // r.intervals
        kind = draw(st.sampled_from(("full", "short", "over", "disconnect", "random")))
        cut = draw(st.integers(0, r.intervals))
        energy = {}
        for t in range(r.intervals):
            wh = {"full": per, "short": per // 2, "over": per * 2 + 7, "disconnect": per if t < cut else 0}.get(
                kind, draw(st.integers(0, 1_500))
            )
            energy[offset + t] = wh
        hs.anchor_day(k, hs.day, energy, only=range(offset, offset + r.intervals))


def _hostile(draw, hs: Hotspot, r: result.Result) -> None:
    """One refused call: both sides must refuse it with the same reason and change nothing."""
    i = draw(st.integers(0, len(r.entries) - 1))
    good = hs.readings(r, [i])
    t = draw(st.integers(0, r.intervals - 1))
    kind = draw(st.sampled_from(("inflated", "foreign", "shifted", "early_withdraw")))
    if kind == "early_withdraw":
        p = r.entries[i].pseudonym
        if hs.model.escrow_of(ROUND, p) and (ROUND, p.lower()) not in hs.model.settled_party:
            hs.attempt(lambda: hs.withdraw(p, ROUND), "withdraw")
        return
    bad = list(good)
    if kind == "inflated":
        g = good[t]
        bad[t] = Reading(g.active_wh + 1, g.reactive_varh, g.r, g.vs, g.proof)
    elif kind == "foreign":
        other = next(
            e
            for e in r.entries + tuple(hs.entry("0x" + "11" * 20, k, 0, 0, 0) for k in range(POLES))
            if e.pole != r.entries[i].pole
        )
        bad[t] = hs.genuine.get((other.pole.lower(), r.first_interval + t), good[t])
    else:
        bad = good[1:] + good[:1]
    hs.attempt(lambda: hs.settle(r, [i], readings=bad), "settle")


def _play(draw, hs: Hotspot, r: result.Result) -> None:
    parties = {e.pseudonym for e in r.entries}
    for p in parties:
        hs.give(p)
    hs.give(hs.owner)
    if draw(st.booleans()):  # a party or a stranger before the house: refused
        early = draw(st.sampled_from([*sorted(parties), hs.owner]))
        hs.attempt(lambda: hs.escrow(early, ROUND, 1), "escrow before the round opens")
        hs.attempt(lambda: hs.open_round(ROUND, sender=early), "a stranger opens the round")
    hs.open_round(ROUND)
    for p in parties:
        amount = draw(st.integers(0, 3_000_000))
        if amount:
            hs.escrow(p, ROUND, amount)
    hs.escrow(hs.owner, ROUND, 1)  # a stranger's escrow, refunded at the close
    house = draw(st.integers(0, 5_000_000))
    if house:
        hs.fund(hs.owner, house)
    hs.travel_to((hs.day + 1) * DAY_S + 60)
    _deliver(draw, hs, r)
    hs.attest(r)
    order = draw(st.permutations(range(len(r.entries))))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(order) - 1)), max_size=3)))
    batches = [list(order[a:b]) for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True) if a < b]
    for batch in batches:
        if draw(st.booleans()):
            _hostile(draw, hs, r)
        hs.attempt(lambda batch=batch: hs.settle(r, batch), "settle")
    hs.attempt(lambda: hs.settle(r, [order[0]]), "settle again")
    hs.travel_to(hs.c.opened_at(ROUND) + SETTLE_S)
    for p in [*parties, hs.owner]:
        if hs.model.escrow_of(ROUND, p):
            hs.withdraw(p, ROUND)
    assert hs.coin.balanceOf(hs.c.address) == hs.c.house() == hs.model.house


@pytest.fixture(scope="module")
def base():
    return Hotspot(poles=POLES)


@settings(max_examples=12)
@given(data=st.data())
def test_synthetic_results(base, data):
    with boa.env.anchor():
        hs = base.fork()
        n = data.draw(st.integers(1, 5))
        parties = [hs.new_account().address for _ in range(n)]
        intervals = data.draw(st.integers(1, 16))
        first = hs.day * 96 + data.draw(st.integers(0, 96 - intervals))
        r = hs.result(ROUND, _entries(data.draw, hs, parties), first_interval=first, intervals=intervals)
        _play(data.draw, hs, r)


@settings(max_examples=5)
@given(data=st.data())
def test_results_of_an_auction(base, auction_record, data):
    with boa.env.anchor():
        hs = base.fork()
        parties = [(hs.new_account().address, hs.poles[k].address) for k in range(POLES)]
        r = result.result_of(auction_record, LOT, ROUND, hs.day * 96 + 40, 8, parties[:3], parties[3:])
        _play(data.draw, hs, r)
