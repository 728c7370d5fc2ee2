"""The harness itself: `Mirrored.mirror` fails a test whenever the twin and the contract part ways (a reason that
differs, a call only one side refuses, a refusal that changes either side), and books what a call sent."""

import boa
import pytest

from gridchain.coordination.model.coordinator import CoordinatorError
from tests.support.community import Community, refused


@pytest.fixture
def c():
    with boa.env.anchor():
        yield Community()


def test_an_agreed_refusal_is_raised_with_the_twins_reason(c):
    with refused("coordinator: caller is not the owner or poster"):
        c.post(0, 5, sender=c.members[0])
    with pytest.raises(AssertionError):  # not exactly that reason
        with refused("coordinator: caller is not"):
            c.post(0, 5, sender=c.members[0])


def test_a_different_revert_reason_fails(c):
    def model_call():
        raise CoordinatorError("coordinator: another reason")

    with pytest.raises(ValueError, match="does not match"):
        c.mirror(c.members[0], model_call, lambda: c.c.post_capacity(0, 5))


def test_a_refusal_the_contract_does_not_share_fails(c):
    def model_call():
        raise CoordinatorError("coordinator: caller is not the owner")

    with pytest.raises(ValueError, match="Did not revert"):
        c.mirror(c.owner, model_call, lambda: c.c.post_capacity(0, 5))
    assert c.c.posted_capacity(0) == 6  # it went through: capacity + 1


def test_a_contract_revert_the_twin_does_not_share_fails(c):
    with pytest.raises(boa.BoaError):
        c.mirror(c.members[0], lambda: None, lambda: c.c.post_capacity(0, 5))


def test_a_twin_that_changes_before_refusing_fails(c):
    def model_call():
        c.model.posted[0] = 5
        raise CoordinatorError("coordinator: caller is not the owner")

    with pytest.raises(AssertionError, match="the model changed state on a refused call"):
        c.mirror(c.members[0], model_call, lambda: c.c.post_capacity(0, 5))


def test_a_refused_step_that_changed_the_contract_fails(c):
    """A step of two transactions whose second reverts: the first one's write is caught by the storage snapshot."""

    def chain_call():
        c.c.post_capacity(7, 5)  # goes through
        c.c.post_capacity(0, 2**64)  # reverts

    def model_call():
        raise CoordinatorError("coordinator: capacity out of range")

    with pytest.raises(AssertionError, match="the contract changed state on a revert"):
        c.mirror(c.owner, model_call, chain_call)


def test_a_refused_step_that_moved_ether_fails(c):
    stranger = c.track(boa.env.generate_address(), 10**18)

    def chain_call():
        boa.env.set_balance(stranger, 0)  # as if it had paid
        c.c.post_capacity(0, 2**64)

    def model_call():
        raise CoordinatorError("coordinator: capacity out of range")

    with pytest.raises(AssertionError, match="the contract changed state on a revert"):
        c.mirror(c.owner, model_call, chain_call)


def test_a_success_decodes_the_events_and_books_the_value(c):
    result, out = c.mirror(
        c.owner, lambda: c.model.post_capacity(str(c.owner), 3, 42), lambda: c.c.post_capacity(3, 42), value=0
    )
    assert (result, out) == (None, None)
    assert c.events["CapacityPosted"] == [{"slot": 3, "capacity_w": 42}]
    assert c.events["SlotClosed"] == []
    member = c.members[0]
    arrival, out = c.mirror(
        member,
        lambda: c.model.submit_request(str(member), c.now, 10, 0, 1),
        lambda: c.c.submit_request(10, 0, 1),
        value=0,
    )
    assert arrival == out == 1 and c.sent[c.track(member)] == 0
