"""Closing a slot in pages: same result as one call, and every way to cheat or misuse it is refused.

A paged close is its caller's own (`paging[caller]`): several keepers may page the same slot at once, the first
to finish closes it, and nobody can hold or reset anybody else's. (The attacks on it are in
test_attacks_coordinator.py.)"""

import pytest

from gridchain.coordination.model.coordinator import (
    chain,
    pack,
    paged_calldata,
    walk_key,
    walk_order_ok,
)
from tests.support.community import refused


def ten_requests(community):
    """Slot 0 with ten requests and a capacity that serves about half; the slot has ended."""
    community.limit_requests(3)  # ten requests from four members
    community.post(0, 250)
    for i in range(10):
        community.submit(i % 4, 30 + 7 * i, (137 * i) % 1000, 1 + i % 4)
    community.to_end_of(0)
    return community.model.pending(0)


@pytest.mark.parametrize("page", [1, 3, 10])
def test_paged_close_equals_one_call(community, page):
    ten_requests(community)
    result = community.close(0, page)  # compares with the model, which equals the one-call close
    assert result.schedule.granted_w == 250 and community.c.next_slot_to_close() == 1
    assert community.c.paging(community.owner)[0] == 0  # the closed slot's paged close is void
    with refused("coordinator: no paged close in progress"):
        community.finish_close()


def test_carry_over_then_paged_close(community):
    ten_requests(community)
    community.close(0)
    assert community.c.carry_count() > 0
    community.submit(0, 40, 100, 2)
    community.to_end_of(1)
    community.close(1, 2)  # the pending pages cross the carried/submitted boundary


def begun(community, page=4):
    pending = ten_requests(community)
    paged = paged_calldata(pending, 500, page)
    community.begin_close(0, paged.n, paged.sorted_hash)
    return pending, paged


def test_pages_need_a_begun_close(community):
    ten_requests(community)
    with refused("coordinator: no paged close in progress"):
        community.close_sorted_page([1])
    with refused("coordinator: no paged close in progress"):
        community.finish_close()


def test_pages_go_to_the_callers_own_paged_close(community):
    _, paged = begun(community)
    other = community.members[0]
    with refused("coordinator: no paged close in progress"):
        community.close_sorted_page(paged.sorted_pages[0], other)  # it has begun none: the owner's is not its
    community.begin_close(0, paged.n, paged.sorted_hash, other)  # its own, at once: nothing is in its way
    community.close_sorted_page(paged.sorted_pages[0], other)
    assert community.c.paging(other)[1] == paged.n and community.c.paging(other)[10][7] == len(paged.sorted_pages[0])
    assert community.c.paging(community.owner)[10][7] == 0  # the owner's walk is untouched


def test_capacity_posted_during_a_paged_close(community):
    _, paged = begun(community)  # began with the posted 250 W
    community.post(0, 300)  # the owner may still post: the paged close cannot finish with the old capacity
    for chunk in paged.sorted_pages:
        community.close_sorted_page(chunk)
    for chunk in paged.pending_pages:
        community.close_pending_page(chunk)
    with refused("coordinator: capacity changed since begin_close"):
        community.finish_close()
    result = community.close(0, 4)  # begun again, with the capacity now posted
    assert result.schedule.capacity_w == 300


def test_another_keeper_closes_while_one_pages(community):
    _, paged = begun(community)
    community.close_sorted_page(paged.sorted_pages[0])
    community.close(0, 4, keeper=community.members[0])  # at once, in pages; the result is the model's
    assert community.c.next_slot_to_close() == 1
    with refused("coordinator: no paged close in progress"):  # the first keeper's close is void
        community.close_sorted_page(paged.sorted_pages[1])


def test_a_close_in_one_call_voids_every_paged_close(community):
    begun(community)
    community.close(0, keeper=community.members[1])  # in one call, by any account
    with refused("coordinator: no paged close in progress"):
        community.finish_close()


def test_a_keeper_may_begin_its_own_again(community):
    pending, paged = begun(community)
    community.close_sorted_page(paged.sorted_pages[0])
    community.close(0, 3)  # begin_close again (pages of 3): it starts over from nothing
    assert community.c.next_slot_to_close() == 1


def test_finish_needs_every_page(community):
    _, paged = begun(community)
    for missing in ("sorted", "pending"):
        with refused(f"coordinator: {missing} pages missing"):
            community.finish_close()
        if missing == "sorted":  # then only the pending pages are missing
            for chunk in paged.sorted_pages:
                community.close_sorted_page(chunk)


def test_no_more_than_committed(community):
    _, paged = begun(community)
    everything = [x for chunk in paged.sorted_pages for x in chunk]
    with refused("coordinator: more requests than committed"):
        community.close_sorted_page(everything + [everything[-1]])
    with refused("coordinator: more requests than committed"):
        community.close_pending_page([x for chunk in paged.pending_pages for x in chunk] + [1])


def test_pages_must_be_the_committed_list(community):
    pending, paged = begun(community)
    ordered = [x for chunk in paged.sorted_pages for x in chunk]
    with refused("coordinator: order not sorted"):
        community.close_sorted_page(ordered[::-1])
    community.close_sorted_page(ordered[:-1])  # sorted, but one short of the committed list
    community.close_sorted_page([ordered[-1] + (1 << 150)])  # another last request (a later arrival), still sorted
    for chunk in paged.pending_pages:
        community.close_pending_page(chunk)
    with refused("coordinator: pages differ from the committed order"):
        community.finish_close()


def test_a_committed_list_that_is_not_the_pending_set(community):
    """A keeper commits to a sorted list in which one request is replaced: the chains of the pending pages
    still match, but the products at the random point r differ."""
    pending = ten_requests(community)
    paged = paged_calldata(pending, 500, 4)
    ordered = [x for chunk in paged.sorted_pages for x in chunk]
    forged = ordered[:-1] + [ordered[-1] - 1]  # the last request, one watt less: still the last in order
    community.begin_close(0, len(forged), chain(forged))
    community.close_sorted_page(forged)
    for chunk in paged.pending_pages:
        community.close_pending_page(chunk)
    with refused("coordinator: not a permutation of the pending set"):
        community.finish_close()


def test_pending_pages_must_be_the_pending_chains(community):
    pending, paged = begun(community)
    for chunk in paged.sorted_pages:
        community.close_sorted_page(chunk)
    community.close_pending_page(pending[:-1] + [pending[-1] + 1])
    with refused("coordinator: submitted chain mismatch"):
        community.finish_close()


def only_carried(community):
    """Slot 1 with the requests carried from ten_requests' slot 0 and none submitted; the slot has ended."""
    ten_requests(community)
    community.close(0)
    community.to_end_of(1)
    pending = community.model.pending(1)
    assert len(pending) == community.c.carry_count() > 1
    return pending


def test_finish_checks_the_carried_chain_when_no_page_reached_its_end(community):
    """With nothing submitted into the slot, no pending page reaches the end of the carried part: finish_close
    checks the carried chain itself."""
    pending = only_carried(community)
    paged = paged_calldata(pending, 500, 100)
    community.begin_close(1, paged.n, paged.sorted_hash)
    for chunk in paged.sorted_pages:
        community.close_sorted_page(chunk)
    swapped = [pending[1], pending[0]] + pending[2:]  # the same requests, not in the carry chain's order
    community.close_pending_page(swapped)
    with refused("coordinator: carried chain mismatch"):
        community.finish_close()
    community.close(1, 100)  # the right pages still close


def test_begin_checks(community):
    with refused("coordinator: slot not ended"):
        community.begin_close(0, 1, b"\x00" * 32)
    community.to_end_of(0)
    with refused("coordinator: no requests to page"):
        community.begin_close(0, 0, b"\x00" * 32)  # an empty slot closes in one call


def test_begin_needs_at_least_the_carried_requests(community):
    pending = only_carried(community)
    for n in (len(pending) - 1, 0):  # n = 0 is refused as fewer than carried first
        with refused("coordinator: fewer requests than carried"):
            community.begin_close(1, n, b"\x00" * 32)
    community.close(1, len(pending) - 1)  # n = the carried count, in two sorted pages


def well_formed(demand_w=10, soc_pm=0, tcc=1, arrival=1):
    return pack(demand_w, soc_pm, tcc, arrival)


@pytest.mark.parametrize(
    "word, reason",
    [
        (well_formed(arrival=2**64 - 1), None),  # the largest arrival: below 2**176
        (well_formed(arrival=2**64 - 1) + (1 << 176), "coordinator: listed request out of range"),
        (2**256 - 1, "coordinator: listed request out of range"),
        (
            well_formed() + 21888242871839275222246405745257275088548364400416034343698204186575808495617,
            "coordinator: listed request out of range",
        ),  # x + FIELD: the alias that passed the product check
        (well_formed(demand_w=1), None),
        (well_formed(demand_w=2**64 - 1, soc_pm=999), None),
        (well_formed(tcc=1), None),
        (well_formed(tcc=2**32 - 1), None),
        # not requests, but below 2**176: walked in the walk's unchecked arithmetic, refused by finish_close
        (well_formed(demand_w=0), None),
        (well_formed(soc_pm=1000), None),
        (well_formed(soc_pm=2**16 - 1), None),
        (well_formed(tcc=0), None),
        (0, None),
    ],
)
def test_a_sorted_page_takes_only_values_below_2_176(community, word, reason):
    """Boundary table: every value a sorted page lists must lie below 2**176 (below FIELD) before it touches the
    walk or the product (the contract and the twin alike); its fields are the multiset check's to judge."""
    begun(community)
    if reason is None:
        community.close_sorted_page([word])
        return
    with refused(reason):
        community.close_sorted_page([word])


@pytest.mark.parametrize(
    "fields",
    [{"demand_w": 0}, {"soc_pm": 1000}, {"soc_pm": 2**16 - 1}, {"tcc": 0}],
    ids=["demand-0", "soc-1000", "soc-max", "tcc-0"],
)
@pytest.mark.parametrize("paired", [False, True], ids=["one-list-a-call", "paired"])
def test_a_listed_value_that_is_no_request_is_refused_by_finish(community, fields, paired):
    """A keeper that lists, sorted and committed, a value that is not a request (one pending request's fields
    changed out of range) walks it without a revert, and finish_close refuses the close: the sorted list is not
    a permutation of the pending set. Nothing is closed; the honest close then goes through."""
    pending = ten_requests(community)
    victim = pending[3]
    demand_w, soc_pm, tcc = victim & (2**64 - 1), (victim >> 64) & (2**16 - 1), (victim >> 80) & (2**32 - 1)
    changed = {"demand_w": demand_w, "soc_pm": soc_pm, "tcc": tcc} | fields
    forged_word = pack(changed["demand_w"], changed["soc_pm"], changed["tcc"], victim >> 112)
    forged = [forged_word if w == victim else w for w in pending]
    order = [forged[i] for i in walk_sorted(forged)]
    community.begin_close(0, len(order), chain(order))
    if paired:
        community.close_pages(order, pending)
    else:
        community.close_sorted_page(order)
        community.close_pending_page(pending)
    with refused("coordinator: not a permutation of the pending set"):
        community.finish_close()
    assert community.c.next_slot_to_close() == 0
    community.close(0, 4, paired=True)


def walk_sorted(words):
    """Indices of `words` in an order the walk accepts, by its own arithmetic (`walk_order_ok`): insertion by
    the walk's comparison (a hostile value's U wraps; the order found may not be the rule's)."""
    order: list[int] = []
    for i in range(len(words)):
        for at in range(len(order) + 1):
            candidate = order[:at] + [i] + order[at:]
            if walk_accepts([words[k] for k in candidate]):
                order = candidate
                break
        else:
            raise AssertionError("no order the walk accepts")
    return order


def walk_accepts(words) -> bool:
    prev = 0
    for w in words:
        if not walk_order_ok(prev, w, 500):
            return False
        prev = walk_key(w, 500)[1]
    return True


def test_a_pending_page_takes_only_values_below_2_176(community):
    pending, _ = begun(community)
    with refused("coordinator: listed request out of range"):
        community.close_pending_page(pending[:3] + [pending[3] + (1 << 176)])
    with refused("coordinator: listed request out of range"):
        community.close_pending_page([2**256 - 1])  # would underflow r + FIELD - value: refused first


def test_close_pages_is_all_or_nothing(community):
    """An honest half beside a hostile one: `close_pages` refuses the whole call, the honest half's walk (or
    chain) undone in the contract (its storage as before: the harness checks it) and in its twin, which must
    then agree on the honest pages that follow and on the close."""
    pending, paged = begun(community)
    (sorted0, pending0), *rest = paged.paired()
    with refused("coordinator: listed request out of range"):
        community.close_pages(sorted0, pending0[:-1] + [pending0[-1] + (1 << 176)])
    with refused("coordinator: order not sorted"):
        community.close_pages(list(reversed(sorted0)), pending0)
    for sorted_page, pending_page in [(sorted0, pending0), *rest]:
        community.close_pages(sorted_page, pending_page)
    community.finish_close()
    assert community.c.next_slot_to_close() == 1


def test_pending_page_checks_the_carried_boundary(community):
    ten_requests(community)
    community.close(0)
    carried = community.model.pending(1)
    assert carried
    community.submit(1, 40, 100, 2)
    community.to_end_of(1)
    pending = community.model.pending(1)
    paged = paged_calldata(pending, 500, 100)
    community.begin_close(1, paged.n, paged.sorted_hash)
    with refused("coordinator: carried chain mismatch"):
        community.close_pending_page([pending[-1]] + pending[:-1])  # the submitted one first
