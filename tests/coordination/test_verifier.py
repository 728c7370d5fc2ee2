import copy

import pytest

from gridchain.coordination.model.coordinator import chain, pack, unpack
from gridchain.coordination.model.verify import follow, verify_slot, verify_slots
from gridchain.coordination.parties.keeper import Keeper
from gridchain.coordination.parties.verifier import fetch_records, verify


def swap_first_two(order_words: list[int]) -> list[int]:
    """The packed order with its first two indices exchanged."""
    w = order_words[0]
    first, second = w & 0xFFFF, (w >> 16) & 0xFFFF
    return [(w & ~0xFFFFFFFF) | (first << 16) | second, *order_words[1:]]


@pytest.fixture
def history(town):
    """Five slots closed by the keeper, with postings, carry-over, partial grants and expiries."""
    keeper = Keeper(town.client, town.keeper_account)
    for slot, capacity in enumerate([None, 80_000, None, 150_000, 30_000]):
        if capacity is not None:
            town.client.post_capacity(town.owner, slot, capacity)
        town.fill(7)
        town.next_slot()
        keeper.close_due()
    return town


def test_every_slot_verifies(history):
    for slot in range(5):
        verdict = verify(history.client, slot)
        assert verdict.ok, verdict.mismatches
    records = fetch_records(history.client)
    assert sum(e["expired"] for e in records.closed.values()) > 0
    assert sum(e["carried"] for e in records.closed.values()) > 0
    assert any(e["partial_w"] > 0 for e in records.closed.values())


def test_not_closed_yet(history):
    verdict = verify(history.client, 5)
    assert not verdict.ok and verdict.mismatches == ("slot 5 is not closed yet",)


TAMPERS = [
    (lambda r: r.closed[3].update(granted_w=r.closed[3]["granted_w"] + 1), "slot 3: granted_w on chain"),
    (lambda r: r.closed[3].update(scheduled=r.closed[3]["scheduled"] - 1), "slot 3: scheduled on chain"),
    (lambda r: r.closed[3].update(capacity_w=1), "slot 3: capacity_w on chain 1, but the capacity posted"),
    (
        lambda r: r.closed[2].update(capacity_w=1),
        "slot 2: capacity_w on chain 1, but the capacity of the slot before",
    ),
    (lambda r: r.expired.__setitem__(3, r.expired.get(3, []) + [(999, 1)]), "slot 3: expiries on chain"),
    (lambda r: r.submitted[3].pop(), "slot 3: the close was given"),
    (lambda r: r.submitted[1].pop(0), "slot 3:"),  # an earlier slot's request vanished: carry-over differs
    (
        lambda r: r.close_inputs.__setitem__(3, (r.close_inputs[3][0], swap_first_two(r.close_inputs[3][1]))),
        "slot 3: the close's order is not the rule's order",
    ),
]


@pytest.mark.parametrize("tamper, expected", TAMPERS)
def test_a_tampered_record_is_reported(history, tamper, expected):
    records = fetch_records(history.client)
    assert verify_slot(records, 3).ok
    bad = copy.deepcopy(records)
    tamper(bad)
    verdict = verify_slot(bad, 3)
    assert not verdict.ok
    assert any(m.startswith(expected) for m in verdict.mismatches), verdict.mismatches


def test_follow_a_request_across_slots(history):
    records = fetch_records(history.client)
    arrivals = [unpack(w).arrival for words in records.submitted.values() for w in words]
    assert len(arrivals) == 35
    stories = [follow(records, arrival, 4) for arrival in arrivals]
    assert all(story for story in stories)  # every request was pending somewhere
    moved = [s for s in stories if len(s) > 1]
    assert moved and all(s[i][0] + 1 == s[i + 1][0] for s in moved for i in range(len(s) - 1))


def test_hole1_an_unfinished_paged_close_cannot_fake_expiries(town):
    """A stranger begins a paged close and sends one sorted page of two made-up requests, the second with the
    arrival number of a real request and tcc 1 (it settles as an expiry), then leaves. The keeper closes the
    slot in one call. The verifier must count only what that close did."""
    arrivals = town.fill(4)
    town.next_slot()
    stranger = town.members[0]
    held = pack(200_000, 0, 1, arrivals[-1] + 100)  # neither fits 100 kW: the first is held back ...
    fake = pack(300_000, 0, 1, arrivals[0])  # ... the second settles at once: an "expiry" of a real request
    town.client._tx("begin_close", [0, 4, chain([held, fake, 1, 2])], stranger)
    town.client._tx("close_sorted_page", [[held, fake]], stranger)
    Keeper(town.client, town.keeper_account).close_due()
    verdict = verify(town.client, 0)
    assert verdict.ok, verdict.mismatches


def test_paged_closes_verify(town):
    """Slots closed in pages log no expiry events: the verifier recomputes their expiries, and every slot
    verifies; a request can be followed through them."""
    keeper = Keeper(town.client, town.keeper_account, page=3)
    for _ in range(4):
        town.fill(5)
        town.next_slot()
        keeper.close_due()
    records = fetch_records(town.client)
    assert records.close_inputs == {} and records.expired == {}
    assert sum(e["expired"] for e in records.closed.values()) > 0  # expiries happened, and are recomputed
    for slot in range(4):
        assert verify(town.client, slot).ok, verify(town.client, slot).mismatches


@pytest.mark.parametrize("tamper", [None] + [t for t, _ in TAMPERS])
def test_verifying_on_from_a_verified_prefix_equals_verifying_from_slot_0(history, tamper):
    """A reader following the chain (the dashboard) keeps the verdicts it has and recomputes only the new slots:
    from every prefix, tampered records included, the verdicts are those of a recomputation from slot 0."""
    records = copy.deepcopy(fetch_records(history.client))
    if tamper is not None:
        tamper(records)
    whole = verify_slots(records, 4)
    for k in range(6):
        prior = verify_slots(records, k - 1) if k > 0 else []
        assert verify_slots(records, 4, prior) == whole, k
    assert verify_slots(records, 5, whole)[:5] == whole and verify_slots(records, 5, whole)[5].result is None
    assert verify_slots(records, 4, [whole[0], whole[2]]) == whole  # not a prefix past slot 0: slot 0 kept only
