"""The capacity poster (the utility's hot key): bounded, revocable, nothing but `post_capacity`. Unit tests,
attacks, and random histories through the contract and its twin (`Mirrored.mirror`: same outcome, same reason)."""

import boa
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.coordination.model.coordinator import CoordinatorError
from tests.support.community import ZERO, Community, refused

MASK64 = 2**64 - 1


def test_owner_sets_and_replaces_the_poster(community):
    poster, other = community.members[0], community.members[1]
    assert community.c.capacity_poster() == (ZERO, 0)
    community.set_capacity_poster(poster, 50_000)  # the harness checks the event and the view
    community.post(2, 50_000, sender=poster)  # the bound passes
    with refused("coordinator: capacity above the poster's bound"):
        community.post(2, 50_001, sender=poster)  # one above reverts
    community.set_capacity_poster(other, 10)  # rotation: the old poster is out at once
    with refused("coordinator: caller is not the owner or poster"):
        community.post(3, 1, sender=poster)
    community.post(3, 10, sender=other)
    assert community.c.posted_capacity(3) == 11


def test_owner_stays_unbounded(community):
    community.set_capacity_poster(community.members[0], 5)
    community.post(1, MASK64)
    with refused("coordinator: capacity out of range"):
        community.post(1, MASK64 + 1)


def test_set_capacity_poster_bounds_and_owner_only(community):
    poster = community.members[0]
    with refused("coordinator: caller is not the owner"):
        community.set_capacity_poster(poster, 1, sender=poster)
    with refused("coordinator: poster bound out of range"):
        community.set_capacity_poster(poster, MASK64 + 1)
    with refused("coordinator: poster bound out of range"):
        community.set_capacity_poster(poster, 2**256 - 1)
    with refused("coordinator: bound without a poster"):
        community.set_capacity_poster(ZERO, 1)
    community.set_capacity_poster(poster, MASK64)  # the largest bound passes
    community.post(0, MASK64, sender=poster)
    community.set_capacity_poster(poster, 0)  # a zero bound: only zero capacities
    community.post(0, 0, sender=poster)
    with refused("coordinator: capacity above the poster's bound"):
        community.post(0, 1, sender=poster)


def test_revoked_poster_is_refused(community):
    poster = community.members[0]
    community.set_capacity_poster(poster, 1_000)
    community.post(1, 1_000, sender=poster)
    community.set_capacity_poster(ZERO, 0)
    with refused("coordinator: caller is not the owner or poster"):
        community.post(1, 1, sender=poster)
    assert community.c.posted_capacity(1) == 1_001


def test_poster_cannot_post_a_closed_slot(community):
    poster = community.members[0]
    community.set_capacity_poster(poster, 1_000)
    community.to_end_of(0)
    community.close(0)
    with refused("coordinator: slot already closed"):
        community.post(0, 10, sender=poster)


def test_poster_can_do_nothing_else(community, attacker):
    """The hot key stolen: the attacker holds the poster's key and tries every owner duty."""
    poster = attacker.address
    community.set_capacity_poster(poster, 1_000)
    with refused("coordinator: caller is not the owner"):
        community.set_member(poster, True, sender=poster)
    with refused("coordinator: caller is not the owner"):
        community.set_request_limit(community.members[0], 5, sender=poster)
    with refused("coordinator: caller is not the owner"):
        community.set_capacity_poster(poster, MASK64, sender=poster)  # it cannot raise its own bound
    with boa.env.prank(poster), boa.reverts("coordinator: caller is not the owner"):
        community.c.register_epoch_key(community.model.start_time // 86_400, [1] * 8)
    with boa.env.prank(poster), boa.reverts("ownable: caller is not the owner"):
        community.c.transfer_ownership(poster)
    assert community.c.owner() == community.owner
    with refused("coordinator: capacity above the poster's bound"):
        community.post(0, 1_001, sender=poster)  # the worst it can do: a capacity within the bound


def test_a_new_owner_keeps_the_poster_and_may_rotate_it(community):
    poster, new_owner = community.members[0], community.members[1]
    community.set_capacity_poster(poster, 700)
    community.c.transfer_ownership(new_owner)
    community.model.owner = str(new_owner)
    community.post(1, 700, sender=poster)  # a Safe taking over does not void the hot key...
    community.set_capacity_poster(ZERO, 0, sender=new_owner)  # ...and revokes it
    with refused("coordinator: caller is not the owner or poster"):
        community.post(1, 1, sender=poster)
    with refused("coordinator: caller is not the owner or poster"):
        community.post(1, 1)  # the old owner is neither


actor = st.sampled_from(["owner", "poster", "old_poster", "stranger"])
step = st.one_of(
    st.tuples(st.just("set"), actor, st.sampled_from(["poster", "old_poster", "zero"]), st.integers(0, 2**65)),
    st.tuples(
        st.just("post"),
        actor,
        st.integers(0, 3),
        st.one_of(st.integers(0, 2_000), st.integers(0, 2**65), st.sampled_from([MASK64, MASK64 + 1])),
    ),
    st.tuples(st.just("close"), actor, st.just(0), st.just(0)),
)


@settings(max_examples=25, deadline=None)
@given(st.lists(step, max_size=12))
def test_random_histories_match_the_twin(steps):
    """Hostile senders and values: every call's outcome and reason are the twin's, and the posted capacities too."""
    with boa.env.anchor():
        community = Community(members=3)
        who = {
            "owner": community.owner,
            "poster": community.members[0],
            "old_poster": community.members[1],
            "stranger": community.members[2],
            "zero": ZERO,
        }
        for kind, sender, a, b in steps:
            try:
                if kind == "set":
                    community.set_capacity_poster(who[a], b, sender=who[sender])
                elif kind == "post":
                    community.post(max(0, community.model.next_slot_to_close + a - 1), b, sender=who[sender])
                else:
                    community.to_end_of(community.model.next_slot_to_close)
                    community.close(community.model.next_slot_to_close)
            except CoordinatorError:
                pass
        assert community.c.capacity_poster() == (community.model.poster or ZERO, community.model.poster_max_w)
        for slot in range(community.model.next_slot_to_close, community.model.next_slot_to_close + 4):
            posted = community.c.posted_capacity(slot)
            assert posted == (community.model.posted[slot] + 1 if slot in community.model.posted else 0)
