"""A chain observer that sees every Deposited and Redeemed event of the notes pools (who deposited when, which fresh
address was paid when, by which relayer, for which fee) links fresh addresses to their depositors no better than
chance within an epoch's anonymity set; when the depositors leak (redeeming in their deposits' order at their
deposits' time of day, or using a denomination nobody else uses: the positive controls) the same attacks link them.

A trial is one epoch of a pool on the embedded chain, run by the parties (gridchain.escrow.notes.parties): MEMBERS
long-term accounts each deposit NOTES_EACH notes, in a random order at random times of the day; the issuer blind-
signs each; the next day one relayer redeems every note, for the same fee, in a random order at random times.
Every member made the same number of the epoch's deposits, so a guess that knows nothing of the linking (any
deposit of the epoch) names the right member with probability 1/MEMBERS: chance.

The attacks pair each redemption with one deposit of the note's epoch, and name that deposit's depositor: "order"
pairs the i-th redemption with the i-th deposit; "time of day" pairs them greedily by the nearest time of day
(circular), the closest pairs first. Measured (the seeds below): order 19/128 = 0.148 and time of day 16/128 =
0.125, chance 0.125, 3-sigma bound 0.213; the leaky depositors are linked 64/64 by both; the member with a
denomination of its own 8/8, while the others stay at chance (8/56 = 0.143, chance 1/7).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from gridchain.chain.anvil import dev_keys
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.escrow.notes.client import NotesClient
from gridchain.escrow.notes.model import EPOCH_SECONDS, ETH
from gridchain.escrow.notes.parties import Depositor, Issuer, Relayer
from tests.escrow.notes.keys import rsa
from tests.support.linking import assert_chance, p_value

MEMBERS = 8
NOTES_EACH = 2
SEEDS = range(900, 908)  # 8 trials x 16 notes = 128 guesses per attack
DENOM = 10**16
FEE = 10**13
ACCOUNTS = 3 + MEMBERS  # deployer, issuer, relayer, members


@dataclass(frozen=True)
class Seen:
    """What the observer reads from one pool's events, and the truth (the test's, for scoring)."""

    deposits: list[tuple[str, int]]  # (depositor, time [s]) in chain order
    redemptions: list[tuple[str, int]]  # (fresh address, time [s]) in chain order
    owner: dict[str, str]  # fresh address -> depositor (truth)


def trial(seed: int, leaky: bool = False, unique: bool = False) -> list[Seen]:
    """One epoch of deposits and the next day's redemptions; with `unique`, member 0 uses a pool of its own
    denomination (nobody else deposits there). The observer's view of each pool."""
    rng = random.Random(seed)
    gateway = BoaGateway(accounts=ACCOUNTS)
    deployer, issuer_account, relayer_account, *members = gateway.accounts
    keys = dev_keys(ACCOUNTS)[3:]
    pools = [NotesClient.deploy(gateway, deployer, ETH, d, issuer_account)[0] for d in (DENOM, DENOM // 10)]
    gateway.advance_time(EPOCH_SECONDS - gateway.now() % EPOCH_SECONDS + 60)  # a day's start
    day = gateway.now() // EPOCH_SECONDS
    issuers = [Issuer(p, issuer_account) for p in pools]
    for issuer in issuers:
        issuer.register(day, rsa(0))
    who = [m for m in range(MEMBERS) for _ in range(NOTES_EACH)]
    rng.shuffle(who)
    times = sorted(rng.sample(range(120, EPOCH_SECONDS - 600, 120), len(who)))  # 2 minutes apart at least
    notes, owner, deposited_at = [], {}, {}
    for m, t in zip(who, times, strict=True):
        gateway.advance_time(day * EPOCH_SECONDS + t - gateway.now())
        k = 1 if unique and m == 0 else 0
        depositor = Depositor(pools[k], members[m], keys[m])
        pending = depositor.deposit()
        note = depositor.finish(pending, issuers[k].sign(depositor.request(pending)))
        notes.append((k, note))
        owner[note.fresh.lower()] = members[m].lower()
        deposited_at[note.fresh] = t
    if leaky:  # each note redeemed in its deposit's place, at its deposit's time of day (+ up to a minute)
        order = list(range(len(notes)))
        later = [EPOCH_SECONDS + times[i] + rng.randint(0, 60) for i in order]
    else:
        order = rng.sample(range(len(notes)), len(notes))
        later = [EPOCH_SECONDS + t for t in sorted(rng.sample(range(60, EPOCH_SECONDS - 600), len(notes)))]
    for i, t in zip(order, later, strict=True):
        gateway.advance_time(day * EPOCH_SECONDS + t - gateway.now())
        k, note = notes[i]
        Relayer(pools[k], relayer_account).submit(Depositor.order(pools[k], note, FEE))
    return [observe(gateway, p, owner) for p in pools]


def observe(gateway: BoaGateway, pool: NotesClient, owner: dict[str, str]) -> Seen:
    at = lambda e: gateway.header(e.block).timestamp  # noqa: E731
    deposits = [(str(e.args["depositor"]).lower(), at(e)) for e in pool.deposited_events()]
    redeemed = gateway.events(pool.artifact, pool.address, "Redeemed")
    assert {(str(e.args["relayer"]).lower(), e.args["fee"]) for e in redeemed} <= {(gateway.accounts[2].lower(), FEE)}
    redemptions = [(str(e.args["fresh"]).lower(), at(e)) for e in redeemed]
    return Seen(deposits, redemptions, {f: o for f, o in owner.items() if f in dict(redemptions)})


# ---- the attacks ---------------------------------------------------------------------------------------------------


def by_order(seen: Seen) -> dict[str, str]:
    return {f: d for (f, _), (d, _) in zip(seen.redemptions, seen.deposits, strict=True)}


def by_time_of_day(seen: Seen) -> dict[str, str]:
    def gap(a: int, b: int) -> int:
        d = abs(a % EPOCH_SECONDS - b % EPOCH_SECONDS)
        return min(d, EPOCH_SECONDS - d)

    pairs = sorted(
        (gap(tr, td), i, j) for i, (_, tr) in enumerate(seen.redemptions) for j, (_, td) in enumerate(seen.deposits)
    )
    guess, used_r, used_d = {}, set(), set()
    for _, i, j in pairs:
        if i not in used_r and j not in used_d:
            used_r.add(i)
            used_d.add(j)
            guess[seen.redemptions[i][0]] = seen.deposits[j][0]
    return guess


ATTACKS = {"order": by_order, "time of day": by_time_of_day}


def score(views: list[Seen], attack, only: set[str] | None = None) -> tuple[int, int]:
    right = n = 0
    for seen in views:
        guess = attack(seen)
        for fresh, depositor in seen.owner.items():
            if only is None or depositor in only:
                right += guess[fresh] == depositor
                n += 1
    return right, n


# ---- statistics (as tests/escrow/negotiation/test_privacy.py) --------------------------------------------------


# ---- the tests -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def honest() -> list[Seen]:
    return [trial(seed)[0] for seed in SEEDS]


def test_the_observer_links_no_better_than_chance(honest):
    for seen in honest:
        assert len(seen.deposits) == len(seen.redemptions) == MEMBERS * NOTES_EACH
        counts = {d: sum(1 for x, _ in seen.deposits if x == d) for d, _ in seen.deposits}
        assert set(counts.values()) == {NOTES_EACH}  # every member equally often: chance is 1/MEMBERS
    for name, attack in ATTACKS.items():
        right, n = score(honest, attack)
        assert n == len(SEEDS) * MEMBERS * NOTES_EACH
        assert_chance(right, n, MEMBERS, name)


def test_positive_control_redeeming_in_deposit_order_at_deposit_time_links_almost_all():
    leaky = [trial(seed, leaky=True)[0] for seed in (950, 951, 952, 953)]
    for name, attack in ATTACKS.items():
        right, n = score(leaky, attack)
        assert right / n >= 0.9 and p_value(right, n, MEMBERS) < 1e-30, (name, right, n)


def test_positive_control_a_denomination_of_ones_own_names_its_depositor():
    """Member 0 alone uses the second pool: its notes are its own anonymity set of one. The others, in the first
    pool, stay at chance among the remaining members."""
    views = [trial(seed, unique=True) for seed in (960, 961, 962, 963)]
    alone = [v[1] for v in views]
    right, n = score(alone, by_time_of_day)
    assert (right, n) == (4 * NOTES_EACH, 4 * NOTES_EACH)
    right, n = score([v[0] for v in views], by_time_of_day)
    assert n == 4 * (MEMBERS - 1) * NOTES_EACH
    assert_chance(right, n, MEMBERS - 1, "the members sharing the first pool")
