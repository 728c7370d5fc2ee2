"""The utility's duty on the embedded chain with a fake clock (the chain's own, moved by the test): epoch keys
registered once and ahead, capacities posted ahead and only on change, from a constant or a CSV schedule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from eth_account import Account
from eth_utils import keccak

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.coordination.anonymous.parties.issuer import Issuer
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.parties.capacity import ConstantCapacity, NoCapacity, ScheduleCapacity, read_schedule
from gridchain.coordination.parties.utility import KeyMismatch, Utility, UtilityDuty
from gridchain.crypto.blind import EPOCH_SECONDS, epoch_of
from gridchain.errors import InputError

SLOT = 600
INITIAL_W = 50_000


class Pilot:
    """A coordinator whose slot 0 starts at the chain's next slot boundary, an issuer on the chain's clock, and
    a duty over both; `log` collects what the duty logs. The chain's clock is first moved to the next UTC noon,
    so that a test's few slots never cross midnight into another epoch, whatever the time the suite runs at."""

    def __init__(self, capacity=ConstantCapacity(INITIAL_W), post_ahead_slots: int = 2, lookahead: int = 1):
        self.gateway = BoaGateway(accounts=2)
        now = self.gateway.now()
        self.gateway.advance_time((now // EPOCH_SECONDS + 1) * EPOCH_SECONDS + EPOCH_SECONDS // 2 - now)
        self.owner = self.gateway.accounts[0]
        self.start = (self.gateway.now() // SLOT + 1) * SLOT
        self.client, _ = CoordinatorClient.deploy(self.gateway, self.owner, self.start, SLOT, 500, INITIAL_W)
        self.issuer = self.new_issuer(lookahead)
        self.log: list[dict] = []
        self.duty = self.new_duty(capacity, post_ahead_slots, lookahead)

    def new_issuer(self, lookahead: int = 1) -> Issuer:
        issuer = Issuer(bytes(Account.create().key), clock=self.gateway.now, lookahead_epochs=lookahead)
        issuer.add_community(self.client.address)
        return issuer

    def new_duty(self, capacity, post_ahead_slots: int = 2, lookahead: int = 1, issuer=None) -> UtilityDuty:
        issuer = issuer or self.issuer
        return UtilityDuty(
            Utility(self.client, self.owner),
            lambda e: issuer.epoch_key(self.client.address, e).public.modulus_bytes,
            capacity,
            lookahead_epochs=lookahead,
            post_ahead_slots=post_ahead_slots,
            log=self.log.append,
        )

    def step(self, duty=None) -> list[dict]:
        return (duty or self.duty).step(self.gateway.now())

    def to(self, unix_time: int) -> None:
        self.gateway.advance_time(unix_time - self.gateway.now())

    def slot_start(self, slot: int) -> int:
        return self.start + slot * SLOT

    def actions(self, done: list[dict], action: str) -> list[dict]:
        return [d for d in done if d["action"] == action]


def test_keys_of_today_and_the_lookahead_are_registered_once():
    pilot = Pilot()
    today = epoch_of(pilot.gateway.now())
    done = pilot.step()
    assert [d["epoch"] for d in pilot.actions(done, "register_epoch_key")] == [today, today + 1]
    for epoch in (today, today + 1):  # the issuer's key, as the ESU's wallet checks it
        modulus = pilot.issuer.epoch_key(pilot.client.address, epoch).public.modulus_bytes
        assert pilot.client.epoch_key(epoch) == keccak(modulus)
    assert pilot.step() == []  # never twice
    pilot.to((today + 1) * EPOCH_SECONDS + 5)  # the next day: only the new last epoch, a day ahead
    assert [d["epoch"] for d in pilot.actions(pilot.step(), "register_epoch_key")] == [today + 2]
    assert all(d["tx"].startswith("0x") and d["gas"] > 0 for d in pilot.log)


def test_a_restarted_duty_registers_nothing_and_spots_a_lost_issuer():
    pilot = Pilot()
    pilot.step()
    again = pilot.new_duty(ConstantCapacity(INITIAL_W))  # a restart that kept the issuer's keys
    assert pilot.step(again) == []
    lost = pilot.new_duty(ConstantCapacity(INITIAL_W), issuer=pilot.new_issuer())  # one that lost them
    today = epoch_of(pilot.gateway.now())
    with pytest.raises(KeyMismatch, match=f"epoch\\(s\\) {today}, {today + 1} is not this issuer's"):
        pilot.step(lost)
    assert pilot.client.epoch_key(today) == keccak(
        pilot.issuer.epoch_key(pilot.client.address, today).public.modulus_bytes
    )


def test_capacity_is_posted_ahead_and_only_on_change():
    pilot = Pilot(ConstantCapacity(INITIAL_W))
    pilot.to(pilot.slot_start(0) + 1)
    assert pilot.actions(pilot.step(), "post_capacity") == []  # the constant is the capacity in force
    pilot.duty.capacity = ConstantCapacity(40_000)
    posted = pilot.actions(pilot.step(), "post_capacity")
    assert [(d["slot"], d["capacity_w"], d["was_w"]) for d in posted] == [(0, 40_000, INITIAL_W)]
    assert [pilot.client.capacity_in_force(s) for s in range(4)] == [40_000] * 4  # carried forward
    assert pilot.actions(pilot.step(), "post_capacity") == []


def test_a_schedule_change_is_posted_post_ahead_slots_before_its_slot():
    pilot = Pilot(post_ahead_slots=2)
    change = pilot.slot_start(5)
    pilot.duty.capacity = ScheduleCapacity((0, change), (INITIAL_W, 30_000))
    pilot.to(pilot.slot_start(2) + 30)  # slots 2..4 are due: no change among them
    assert pilot.actions(pilot.step(), "post_capacity") == []
    pilot.to(pilot.slot_start(3) + 30)  # slot 5 is now two slots ahead
    posted = pilot.actions(pilot.step(), "post_capacity")
    assert [(d["slot"], d["capacity_w"]) for d in posted] == [(5, 30_000)]
    assert pilot.client.posted_capacity(5) == 30_000 and pilot.client.capacity_in_force(4) == INITIAL_W
    assert pilot.actions(pilot.step(), "post_capacity") == []


def test_a_capacity_posted_by_hand_is_read_back_and_corrected():
    pilot = Pilot(ConstantCapacity(INITIAL_W))
    pilot.to(pilot.slot_start(0) + 1)
    pilot.duty.utility.post_capacity(2, 30_000)  # the operator, by hand, for slot 2 (and on, by inheritance)
    posted = pilot.actions(pilot.step(), "post_capacity")
    assert [(d["slot"], d["capacity_w"], d["was_w"]) for d in posted] == [(2, INITIAL_W, 30_000)]
    pilot.to(pilot.slot_start(1) + 1)  # slot 3 inherits slot 2's corrected value: nothing to do
    assert pilot.actions(pilot.step(), "post_capacity") == []


def test_capacity_in_force_after_a_close_is_the_last_close_s():
    pilot = Pilot(ConstantCapacity(40_000))
    pilot.to(pilot.slot_start(0) + 1)
    pilot.step()
    pilot.to(pilot.slot_start(1) + 1)
    pilot.client.close_slot(pilot.owner, 0, [], [])  # an empty slot closes with slot 0's capacity
    assert pilot.client.next_slot_to_close == 1 and pilot.client.last_capacity_w == 40_000
    assert pilot.client.capacity_in_force(1) == 40_000
    assert pilot.actions(pilot.step(), "post_capacity") == []


def test_slots_closed_ahead_of_the_duty_s_clock_are_left_alone():
    """The chain's clock ahead of the utility's (a node warped forward): the keeper closed the slots the duty
    would post for; posting there would revert ("slot already closed") at every step."""
    pilot = Pilot(ConstantCapacity(40_000))
    pilot.to(pilot.slot_start(3) + 1)
    for slot in range(3):
        pilot.client.close_slot(pilot.owner, slot, [], [])
    done = pilot.duty.step(pilot.slot_start(0) + 1)
    assert pilot.actions(done, "post_capacity") == [] and pilot.client.posted_capacity(3) is None
    posted = pilot.actions(pilot.step(), "post_capacity")  # on the chain's clock: slot 3 is due
    assert [(d["slot"], d["capacity_w"]) for d in posted] == [(3, 40_000)]


def test_slots_the_source_has_no_value_for_are_left_and_reported_once():
    pilot = Pilot()
    pilot.duty.capacity = ScheduleCapacity((pilot.slot_start(1),), (20_000,))
    pilot.to(pilot.slot_start(0) + 1)
    posted = pilot.actions(pilot.step(), "post_capacity")
    assert [(d["slot"], d["capacity_w"]) for d in posted] == [(1, 20_000)]
    reported = [d for d in pilot.log if d["action"] == "no_capacity"]
    assert [d["slot"] for d in reported] == [0] and "the schedule starts after slot 0" in reported[0]["reason"]
    assert pilot.client.posted_capacity(0) is None
    pilot.step()
    assert [d["slot"] for d in pilot.log if d["action"] == "no_capacity"] == [0]


def test_a_failing_step_is_logged_retried_with_backoff_and_not_fatal():
    pilot = Pilot()
    real = pilot.duty.capacity

    class Broken:
        def capacity_w(self, slot, slot_start_utc):
            raise RuntimeError("the feeder model is away")

    pilot.duty.capacity = Broken()
    loop = pilot.duty.loop(interval_s=1.0, clock=pilot.gateway.now)
    waits = []

    def wait(seconds):  # instead of sleeping: the fourth wait mends the source, the fifth ends the loop
        waits.append(seconds)
        if len(waits) == 4:
            pilot.duty.capacity = real
        return len(waits) == 5

    loop.wait = wait
    loop.run()
    assert waits == [1.0, 2.0, 4.0, 8.0, 1.0] and not loop.alive
    assert loop.errors == 4 and loop.last_error == "RuntimeError: the feeder model is away" and loop.steps == 1
    errors = [d for d in pilot.log if d["action"] == "error"]
    assert [d["attempt"] for d in errors] == [1, 2, 3, 4] and errors[0]["loop"] == "utility-duty"
    assert errors[0]["retry_in_s"] == 1.0 and pilot.log[-1] == {
        "action": "recovered",
        "loop": "utility-duty",
        "after_errors": 4,
    }
    assert pilot.duty.transactions == 2  # the keys went out in the first (failing) step, nothing twice


# ---- the CSV schedule ------------------------------------------------------------------------------------


def utc(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp())


def test_csv_schedule_is_a_step_function_of_utc_time(tmp_path):
    path = tmp_path / "capacity.csv"
    path.write_text(
        "utc_time,capacity_w\n# the evening peak\n2026-12-01T00:00:00Z,50000\n\n"
        "2026-12-01T18:00:00+01:00,20000  # 17:00 UTC\n2026-12-01T21:00:00Z,45000\n"
    )
    schedule = read_schedule("community.capacity.file", path)
    assert schedule.capacity_w(0, utc("2026-12-01T00:00:00Z")) == 50_000
    assert schedule.capacity_w(0, utc("2026-12-01T16:59:59Z")) == 50_000
    assert schedule.capacity_w(0, utc("2026-12-01T17:00:00Z")) == 20_000
    assert schedule.capacity_w(0, utc("2026-12-02T03:00:00Z")) == 45_000
    with pytest.raises(NoCapacity):
        schedule.capacity_w(7, utc("2026-11-30T23:59:59Z"))


@pytest.mark.parametrize(
    "row, reason",
    [
        ("2026-12-01T01:00:00Z", "'2026-12-01T01:00:00Z' is not utc_time,capacity_w"),
        ("2026-12-01T01:00:00Z,1,2", "'2026-12-01T01:00:00Z,1,2' is not utc_time,capacity_w"),
        ("tomorrow,1000", "'tomorrow' is not an ISO 8601 time (e.g. 2026-12-01T17:00:00Z)"),
        ("2026-12-01T01:00:00,1000", "'2026-12-01T01:00:00' has no time zone (end it with Z for UTC)"),
        ("2026-12-01T01:00:00Z,-5", "'-5' is not a capacity in 0..2**64-1 W"),
        ("2026-12-01T01:00:00Z,12.5", "'12.5' is not a capacity in 0..2**64-1 W"),
        ("2026-12-01T01:00:00Z,18446744073709551616", "'18446744073709551616' is not a capacity in 0..2**64-1 W"),
        ("2026-12-01T00:00:00Z,1000", "2026-12-01T00:00:00Z is not after the row before"),
    ],
)
def test_csv_bad_rows_are_named_by_file_and_line(tmp_path, row, reason):
    path = tmp_path / "cap.csv"
    path.write_text(f"utc_time,capacity_w\n2026-12-01T00:00:00Z,5000\n{row}\n")
    with pytest.raises(InputError) as e:
        read_schedule("community.capacity.file", path)
    assert str(e.value) == f"community.capacity.file (cap.csv:3): {reason}"


def test_csv_unreadable_or_empty(tmp_path):
    with pytest.raises(InputError, match=r"^community.capacity.file: cannot read .*missing.csv"):
        read_schedule("community.capacity.file", tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("utc_time,capacity_w\n# nothing yet\n")
    with pytest.raises(InputError, match=r"empty.csv' has no rows"):
        read_schedule("community.capacity.file", tmp_path / "empty.csv")
