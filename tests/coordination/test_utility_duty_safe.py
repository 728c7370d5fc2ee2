"""The utility's duty when a Safe owns the coordinator (embedded chain, fake clock): it posts capacity with the
capacity poster's key, registers no epoch key, and checks those the owner registered ahead: this issuer's, none
missing where tokens are given (else it fails its step naming the epoch, after posting), a warning (logged once
per change, shown in `keys`) below `warn_days` days of them."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridchain.chain.gateway import ChainRevert
from gridchain.coordination.parties.capacity import ConstantCapacity
from gridchain.coordination.parties.utility import KeyMismatch, MissingEpochKey, Utility, UtilityDuty
from gridchain.crypto.blind import EPOCH_SECONDS, epoch_of
from tests.coordination.test_utility_duty import Pilot

BOUND_W = 100_000


def modulus(epoch: int, other: bool = False) -> bytes:
    """A stand-in for the issuer's key of `epoch` (2048 bits, odd: all the contract checks)."""
    return (2**2047 + 2 * (epoch + (10**6 if other else 0)) + 1).to_bytes(256, "big")


class SafePilot(Pilot):
    """The coordinator's owner (standing in for its Safe) has named accounts[1] its capacity poster; the duty
    posts as the poster and registers no key."""

    def __init__(self, capacity_w: int = 40_000, lookahead: int = 1, warn_days: int = 7):
        super().__init__(ConstantCapacity(capacity_w), lookahead=lookahead)
        self.poster = self.gateway.accounts[1]
        self.client.set_capacity_poster(self.owner, self.poster, BOUND_W)
        self.duty = UtilityDuty(
            Utility(self.client, self.poster),
            modulus,
            ConstantCapacity(capacity_w),
            lookahead_epochs=lookahead,
            log=self.log.append,
            registers_keys=False,
            warn_days=warn_days,
        )
        self.today = epoch_of(self.gateway.now())

    def register(self, *offsets: int, other: bool = False) -> None:
        """The owner (the Safe) registers the keys of today + each offset."""
        for k in offsets:
            self.client.register_epoch_key(self.owner, self.today + k, modulus(self.today + k, other))

    def lows(self) -> list[int]:
        return [d["days_ahead"] for d in self.log if d["action"] == "epoch_keys_low"]


def test_the_poster_posts_no_key_is_registered_and_a_missing_one_fails_the_step_naming_it():
    pilot = SafePilot()
    pilot.to(pilot.slot_start(0) + 1)
    with pytest.raises(MissingEpochKey, match=f"no key registered for epoch {pilot.today} "):
        pilot.step()
    assert pilot.client.capacity_in_force(0) == 40_000  # posted before the check failed, by the poster
    assert [d["action"] for d in pilot.log] == ["post_capacity", "epoch_keys_low"] and pilot.duty.transactions == 1
    assert not any(pilot.client.epoch_key(pilot.today)) and pilot.lows() == [0]
    pilot.register(0)  # today's, not tomorrow's (lookahead 1): tomorrow is named now
    with pytest.raises(MissingEpochKey, match=f"epoch {pilot.today + 1} \\(today is epoch {pilot.today}"):
        pilot.step()
    pilot.register(1)
    assert pilot.step() == [] and pilot.lows() == [0, 1, 2]


def test_days_of_keys_ahead_are_counted_and_warned_below_warn_days():
    pilot = SafePilot(warn_days=7)
    pilot.register(0, 1, 2)
    pilot.step()
    pilot.step()
    assert pilot.lows() == [3]  # once per change
    assert pilot.duty.keys["days_ahead"] == 3 and pilot.duty.keys["through_epoch"] == pilot.today + 2
    assert "keys registered for 3 day(s)" in pilot.duty.keys["warning"]
    pilot.register(3, 4, 5, 6, 8)  # a gap at 7: seven days from today, the eighth key does not count
    pilot.step()
    assert pilot.duty.keys == {
        "registered_by": "owner (Safe)",
        "days_ahead": 7,
        "through_epoch": pilot.today + 6,
        "warning": None,
    }
    assert pilot.lows() == [3]
    pilot.to((pilot.today + 1) * EPOCH_SECONDS + 5)  # a day later: six days left
    pilot.step()
    assert pilot.lows() == [3, 6] and pilot.duty.keys["days_ahead"] == 6


def test_a_foreign_key_and_a_post_above_the_poster_s_bound_fail_the_step():
    pilot = SafePilot()
    pilot.register(0, 1, other=True)
    with pytest.raises(KeyMismatch, match=f"epoch\\(s\\) {pilot.today} is not this issuer's"):
        pilot.step()
    over = SafePilot(capacity_w=BOUND_W + 1)
    over.register(0, 1)
    over.to(over.slot_start(0) + 1)
    with pytest.raises(ChainRevert, match="coordinator: capacity above the poster's bound"):
        over.step()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    registered=st.sets(st.integers(0, 9), max_size=10),
    lookahead=st.integers(0, 3),
    warn_days=st.integers(1, 9),
)
def test_the_check_matches_the_registered_epochs(registered, lookahead, warn_days):
    pilot = SafePilot(lookahead=lookahead, warn_days=warn_days)
    pilot.register(*sorted(registered))
    days = 0
    while days in registered and days < max(warn_days, lookahead + 1):
        days += 1
    if days < lookahead + 1:
        with pytest.raises(MissingEpochKey, match=f"no key registered for epoch {pilot.today + days} "):
            pilot.step()
    else:
        pilot.step()
    assert pilot.duty.keys["days_ahead"] == days
    assert (pilot.duty.keys["warning"] is not None) == (days < warn_days) == (pilot.lows() == [days])
    assert not any(any(pilot.client.epoch_key(pilot.today + k)) for k in range(10) if k not in registered)
