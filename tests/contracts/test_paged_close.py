"""Closing a slot in pages: same result as one call, and every way to cheat or misuse it is refused."""

import boa
import pytest

from gridchain.core.coordinator import chain, paged_calldata

from .conftest import SLOT_LENGTH


def ten_requests(community):
    """Slot 0 with ten requests and a capacity that serves about half; the slot has ended."""
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
    assert community.c.paging()[0] is False  # active flag cleared


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
    community.c.begin_close(0, paged.n, paged.sorted_hash)
    return pending, paged


def test_pages_need_a_begun_close(community):
    ten_requests(community)
    with boa.reverts("coordinator: no paged close in progress"):
        community.c.close_sorted_page([1])
    with boa.reverts("coordinator: no paged close in progress"):
        community.c.finish_close()


def test_only_the_keeper_adds_pages(community):
    _, paged = begun(community)
    with boa.env.prank(community.members[0]), boa.reverts("coordinator: not the keeper of this paged close"):
        community.c.close_sorted_page(paged.sorted_pages[0])
    with boa.env.prank(community.members[0]), boa.reverts("coordinator: a paged close is in progress"):
        community.c.begin_close(0, paged.n, paged.sorted_hash)


def test_capacity_cannot_change_under_a_paged_close(community):
    _, paged = begun(community)  # began with the posted 250 W
    with boa.reverts("coordinator: slot is being closed in pages"):
        community.c.post_capacity(0, 0)
    community.c.post_capacity(1, 70)  # the next slot is free
    community.model.post_capacity(str(community.owner), 1, 70)
    result = community.close(0, 4)
    assert result.schedule.capacity_w == 250


def test_an_abandoned_paged_close_can_be_taken_over(community):
    _, paged = begun(community)
    boa.env.time_travel(seconds=SLOT_LENGTH)
    with boa.env.prank(community.members[0]):
        community.close(0, 4)  # another account closes it in pages; the result is the model's
    assert community.c.next_slot_to_close() == 1


def test_one_call_supersedes_a_paged_close(community):
    begun(community)
    community.close(0)  # in one call, by the usual keeper account
    assert community.c.paging()[0] is False
    with boa.reverts("coordinator: no paged close in progress"):
        community.c.finish_close()


def test_finish_needs_every_page(community):
    _, paged = begun(community)
    for chunk in paged.sorted_pages:
        community.c.close_sorted_page(chunk)
    with boa.reverts("coordinator: pages missing"):
        community.c.finish_close()


def test_no_more_than_committed(community):
    _, paged = begun(community)
    everything = [x for chunk in paged.sorted_pages for x in chunk]
    with boa.reverts("coordinator: more requests than committed"):
        community.c.close_sorted_page(everything + [everything[-1]])
    with boa.reverts("coordinator: more requests than committed"):
        community.c.close_pending_page([x for chunk in paged.pending_pages for x in chunk] + [1])


def test_pages_must_be_the_committed_list(community):
    pending, paged = begun(community)
    ordered = [x for chunk in paged.sorted_pages for x in chunk]
    with boa.reverts("coordinator: order not sorted"):
        community.c.close_sorted_page(ordered[::-1])
    community.c.close_sorted_page(ordered[:-1])  # sorted, but one short of the committed list
    community.c.close_sorted_page([ordered[-1] + (1 << 200)])  # a different last request, still sorted
    for chunk in paged.pending_pages:
        community.c.close_pending_page(chunk)
    with boa.reverts("coordinator: pages differ from the committed order"):
        community.c.finish_close()


def test_a_committed_list_that_is_not_the_pending_set(community):
    """A keeper commits to a sorted list in which one request is replaced: the chains of the pending pages
    still match, but the products at the random point r differ."""
    pending = ten_requests(community)
    paged = paged_calldata(pending, 500, 4)
    ordered = [x for chunk in paged.sorted_pages for x in chunk]
    forged = ordered[:-1] + [ordered[-1] - 1]  # the last request, one watt less: still the last in order
    community.c.begin_close(0, len(forged), chain(forged))
    community.c.close_sorted_page(forged)
    for chunk in paged.pending_pages:
        community.c.close_pending_page(chunk)
    with boa.reverts("coordinator: requests do not match the pending set"):
        community.c.finish_close()


def test_pending_pages_must_be_the_pending_chains(community):
    pending, paged = begun(community)
    for chunk in paged.sorted_pages:
        community.c.close_sorted_page(chunk)
    community.c.close_pending_page(pending[:-1] + [pending[-1] + 1])
    with boa.reverts("coordinator: requests do not match the pending set"):
        community.c.finish_close()


def test_begin_checks(community):
    with boa.reverts("coordinator: slot not ended"):
        community.c.begin_close(0, 1, b"\x00" * 32)
    community.to_end_of(0)
    with boa.reverts("coordinator: requests do not match the pending set"):
        community.c.begin_close(0, 0, b"\x00" * 32)  # an empty slot closes in one call


def test_pending_page_checks_the_carried_boundary(community):
    ten_requests(community)
    community.close(0)
    carried = community.model.pending(1)
    assert carried
    community.submit(1, 40, 100, 2)
    community.to_end_of(1)
    pending = community.model.pending(1)
    paged = paged_calldata(pending, 500, 100)
    community.c.begin_close(1, paged.n, paged.sorted_hash)
    with boa.reverts("coordinator: requests do not match the pending set"):
        community.c.close_pending_page([pending[-1]] + pending[:-1])  # the submitted one first
