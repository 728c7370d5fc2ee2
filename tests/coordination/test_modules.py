"""Each module of contracts/modules/ on its own, through its mock in contracts/mocks/ (snekmate's pattern), against
the Python twin: a positive and a negative case per function, each revert reason of the module."""

from pathlib import Path

import boa
import pytest
from eth_account import Account
from eth_utils import keccak
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from gridchain.coordination.anonymous.client import sign_request, words
from gridchain.coordination.model.coordinator import (
    CARRY_IV,
    RING,
    UNSET,
    CoordinatorError,
    chain,
    check_fields,
    close,
    pack,
    paged_calldata,
    rule_order,
    submit_chain,
    walk_key,
    walk_order_ok,
)
from gridchain.crypto import blind
from tests.support.deployers import load
from tests.support.events import logs

MOCKS = Path(__file__).resolve().parents[2] / "contracts" / "mocks"
SLOT_S = 3600
BETA1_PM = 500


def mock(name: str, *args):
    return load(MOCKS / f"{name}_mock.vy").deploy(*args)


def requests(n: int, slot: int = 0) -> list[int]:
    """n packed requests of `slot` in arrival order, with ties of U / demand and of U among them."""
    return [pack(30 + 7 * (i % 5), (137 * i) % 1000, 1 + i % 4, (slot << 32) | (i + 1)) for i in range(n)]


# -- request_chain: packing, field checks, the submit chain ------------------------------------------------
@pytest.mark.parametrize(
    "fields, reason",
    [
        ((1, 0, 1), None),
        ((2**64 - 1, 999, 2**32 - 1), None),
        ((0, 0, 1), "coordinator: demand is 0"),
        ((2**64, 0, 1), "coordinator: demand out of range"),
        ((1, 1000, 1), "coordinator: soc_pm above 999"),
        ((1, 0, 0), "coordinator: tcc is 0"),
        ((1, 0, 2**32), "coordinator: tcc out of range"),
    ],
)
def test_request_chain_checks_fields(fields, reason):
    m = mock("request_chain")
    if reason is None:
        m.check_fields(*fields)
        check_fields(*fields)
        assert m.pack(*fields, 2**64 - 1) == pack(*fields, 2**64 - 1) < 2**176
        return
    with boa.reverts(reason):
        m.check_fields(*fields)
    with pytest.raises(CoordinatorError, match=reason):
        check_fields(*fields)


def test_request_chain_links_and_counts_like_the_twin():
    m = mock("request_chain")
    words_ = requests(20, slot=7)
    assert m.submit_chain(words_) == submit_chain(words_)
    assert int.from_bytes(submit_chain(words_), "big") & (2**32 - 1) == 20  # the low 32 bits count them
    assert int.from_bytes(submit_chain(words_), "big") & (2**64 - 1) == (7 << 32) | 20  # the last arrival
    assert m.next_arrival(7, submit_chain(words_)) == (7 << 32) | 21
    assert m.next_arrival(2**32 - 1, b"\x00" * 32) == ((2**32 - 1) << 32) | 1
    with boa.reverts("coordinator: slot out of range"):
        m.next_arrival(2**32, b"\x00" * 32)


# -- greedy_walk: the rule's walk --------------------------------------------------------------------------
@pytest.mark.parametrize("n, capacity", [(0, 100), (1, 10), (12, 250), (40, 1_000)])
def test_greedy_walk_equals_the_twin(n, capacity):
    m = mock("greedy_walk")
    pending = requests(n)
    ordered = [pending[i] for i in rule_order(pending, BETA1_PM)]
    w, partial_w, partial_arrival = m.close(0, ordered, capacity, BETA1_PM)
    result = close(0, pending, capacity, BETA1_PM)
    assert (w.granted, w.scheduled, w.expired, w.carried) == (
        result.schedule.granted_w,
        result.scheduled,
        len(result.expired),
        len(result.carried),
    )
    assert w.granted + w.remaining == capacity and w.walked == n
    assert (partial_w, partial_arrival) == (result.partial_w, result.partial_arrival)
    assert w.carry == chain(result.carried, CARRY_IV)
    assert [(e["arrival"], e["remaining_w"]) for e in logs(m, "RequestExpired")] == [
        (x.arrival, x.remaining_w) for x in result.expired
    ]


def test_greedy_walk_in_parts_equals_one_walk():
    m = mock("greedy_walk")
    pending = requests(12)
    ordered = [pending[i] for i in rule_order(pending, BETA1_PM)]
    w = m.walk(0, ordered[:5], m.start(250), BETA1_PM)
    assert m.walk(0, ordered[5:], w, BETA1_PM) == m.walk(0, ordered, m.start(250), BETA1_PM)
    assert m.start(250).held == UNSET


def test_greedy_walk_refuses_an_unsorted_list():
    m = mock("greedy_walk")
    pending = requests(5)
    ordered = [pending[i] for i in rule_order(pending, BETA1_PM)]
    with boa.reverts("coordinator: order not sorted"):
        m.close(0, ordered[1:2] + ordered[:1] + ordered[2:], 100, BETA1_PM)
    with boa.reverts("coordinator: order not sorted"):
        m.close(0, ordered[:2] + ordered[1:], 100, BETA1_PM)  # a request twice


def hostile_word():
    """Values below 2**176 whose fields a pending request never has as well as those it has: a paged close's
    sorted page walks them (the multiset check refuses them later)."""
    field = lambda bits, edges: st.one_of(st.sampled_from(edges), st.integers(0, 2**bits - 1))  # noqa: E731
    return st.builds(
        lambda d, s, t, a: d | (s << 64) | (t << 80) | (a << 112),
        field(64, [0, 1, 2, 2**64 - 1]),
        field(16, [0, 999, 1000, 2**16 - 1]),
        field(32, [0, 1, 2, 3, 2**32 - 1]),
        field(64, [0, 1, 2**64 - 1]),
    )


# a wrapped U: only its low 80 bits survive in the walk's `prev` word, and two equal ones then compare unequal
@example(words=[pack(5, 2000, 5, 1), pack(5, 2000, 5, 2)], beta1=500, by=False)
@example(words=[pack(7, 2**16 - 1, 1, 9), pack(7, 2**16 - 1, 1, 8)], beta1=1, by=False)
@settings(max_examples=150, deadline=None)
@given(
    words=st.lists(hostile_word(), min_size=1, max_size=6), beta1=st.sampled_from([0, 1, 500, 1000]), by=st.booleans()
)
def test_the_walk_refuses_an_order_exactly_when_the_twin_does(walk_mock, words, beta1, by):
    """The twin's port of the walk's order check (`walk_order_ok`, unsafe arithmetic modulo 2**256) against the
    contract's walk on any values below 2**176; half the lists are put in the order the port's U suggests, so
    both outcomes occur."""
    if by:
        words = sorted(words, key=lambda w: (-walk_key(w, beta1)[0] / max(w & (2**64 - 1), 1), w >> 112))
    prev, accepted = 0, True
    for w in words:
        accepted = accepted and walk_order_ok(prev, w, beta1)
        prev = walk_key(w, beta1)[1]
    event(f"accepted: {accepted}")
    if accepted:
        walk_mock.walk(0, words, walk_mock.start(10**6), beta1)
    else:
        with boa.reverts("coordinator: order not sorted"):
            walk_mock.walk(0, words, walk_mock.start(10**6), beta1)


@pytest.fixture(scope="module")
def walk_mock():
    return mock("greedy_walk")


# -- slots: the clock, the capacity rule, the end of a close -----------------------------------------------
@pytest.mark.parametrize(
    "args, reason",
    [
        ((0, 0, 500, 1), "coordinator: slot length is 0"),
        ((0, 1, 1001, 1), "coordinator: beta1_pm above 1000"),
        ((0, 1, 500, 2**64), "coordinator: capacity out of range"),
    ],
)
def test_slots_refuse_bad_parameters(args, reason):
    with boa.reverts(reason):
        mock("slots", *args)


def test_slots_open_close_and_finish():
    start = boa.env.evm.patch.timestamp
    m = mock("slots", start, SLOT_S, BETA1_PM, 70)
    assert m.current_slot() == 0 and m.slot_end(0) == start + SLOT_S
    with boa.reverts("coordinator: slot not ended"):
        m.open_close(0)
    boa.env.time_travel(seconds=2 * SLOT_S)
    assert m.open_close(0) == (70, 0)  # the constructor's capacity
    with boa.reverts("coordinator: earlier slot not closed"):
        m.open_close(1)
    pending = requests(6)
    ordered = [pending[i] for i in rule_order(pending, BETA1_PM)]
    with boa.reverts("coordinator: invariant broken"):  # a walk that granted more than the capacity
        m.finish(0, ordered, 150, 70)
    m.finish(0, ordered, 70, 70)
    result = close(0, pending, 70, BETA1_PM)
    assert [{k: v for k, v in e.items() if k != "address"} for e in logs(m, "SlotClosed")] == [result.event()]
    assert (m.next_slot_to_close(), m.carry_count(), m.carry_hash()) == (1, len(result.carried), result.carry_hash)
    with boa.reverts("coordinator: slot already closed"):
        m.open_close(0)
    assert m.open_close(1) == (70, len(result.carried))  # unposted: the last close's capacity
    m.post_capacity(1, 5)
    assert m.open_close(1) == (5, len(result.carried))


# -- paged_close: commit, pages, verification --------------------------------------------------------------
CARRIED = [pack(40 + i, 100 * i, 2, (0 << 32) | (100 + i)) for i in range(3)]  # carried from an earlier slot
SUBMITTED = requests(9)  # submitted into slot 0: its chain is tagged with slot 0


def paged_mock(carried=CARRIED, submitted=SUBMITTED):
    """The next slot to close (slot 0, ended) with `carried` then `submitted` pending, capacity 200 W."""
    start = boa.env.evm.patch.timestamp - 2 * SLOT_S
    m = mock("paged_close", start, SLOT_S, BETA1_PM, 200)
    m.set_pending(len(carried), chain(carried, CARRY_IV), submit_chain(submitted))
    return m, paged_calldata(carried + submitted, BETA1_PM, 4)


def run(m, paged, sorted_pages=None, pending_pages=None):
    m.begin_close(0, paged.n, paged.sorted_hash)
    for page in paged.sorted_pages if sorted_pages is None else sorted_pages:
        m.close_sorted_page(page)
    for page in paged.pending_pages if pending_pages is None else pending_pages:
        m.close_pending_page(page)
    m.finish_close()


def test_paged_close_equals_the_twin():
    m, paged = paged_mock()
    assert m.submit_hash(0) == submit_chain(SUBMITTED)
    run(m, paged)
    result = close(0, CARRIED + SUBMITTED, 200, BETA1_PM)
    assert [{k: v for k, v in e.items() if k != "address"} for e in logs(m, "SlotClosed")] == [result.event()]
    assert m.submit_hash(0) == b"\x00" * 32  # the close freed the slot's ring word
    assert m.carry_hash() == result.carry_hash and m.next_slot_to_close() == 1
    with boa.reverts("coordinator: no paged close in progress"):  # the closed slot's paged close is void
        m.finish_close()


def test_paged_close_checks_the_commitment():
    m, paged = paged_mock()
    with boa.reverts("coordinator: no paged close in progress"):
        m.close_sorted_page([])
    with boa.reverts("coordinator: fewer requests than carried"):
        m.begin_close(0, len(CARRIED) - 1, paged.sorted_hash)
    m0, _ = paged_mock(carried=[], submitted=[])
    with boa.reverts("coordinator: no requests to page"):
        m0.begin_close(0, 0, paged.sorted_hash)
    m.begin_close(0, paged.n, paged.sorted_hash)
    everything = [x for page in paged.sorted_pages for x in page]
    with boa.reverts("coordinator: more requests than committed"):
        m.close_sorted_page(everything + everything[-1:])
    with boa.reverts("coordinator: listed request out of range"):
        m.close_pending_page([1 << 176])


def test_paged_close_reasons_per_check():
    """Each check of the verification has its own reason; every other part of the close is right."""
    pending = CARRIED + SUBMITTED
    m, paged = paged_mock()
    with boa.reverts("coordinator: carried chain mismatch"):  # the page that reaches the carried part's end
        run(m, paged, pending_pages=[[CARRIED[1], CARRIED[0]] + pending[2:]])
    with boa.reverts("coordinator: submitted chain mismatch"):
        run(m, paged, pending_pages=[pending[:-1] + [pending[-1] + 1]])
    with boa.reverts("coordinator: sorted pages missing"):
        run(m, paged, sorted_pages=paged.sorted_pages[:-1])
    with boa.reverts("coordinator: pending pages missing"):
        run(m, paged, pending_pages=paged.pending_pages[:-1])
    ordered = [x for page in paged.sorted_pages for x in page]
    with boa.reverts("coordinator: pages differ from the committed order"):
        run(m, paged, sorted_pages=[ordered[:-1], [ordered[-1] + (1 << 150)]])  # still sorted, not committed
    forged = ordered[:-1] + [ordered[-1] + (1 << 150)]  # committed and sorted, not the pending set
    with boa.reverts("coordinator: not a permutation of the pending set"):
        run(m, type(paged)(paged.n, chain(forged), [forged], paged.pending_pages))
    m.begin_close(0, paged.n, paged.sorted_hash)  # with 200 W
    m.post_capacity(0, 300)
    for page in paged.sorted_pages:
        m.close_sorted_page(page)
    for page in paged.pending_pages:
        m.close_pending_page(page)
    with boa.reverts("coordinator: capacity changed since begin_close"):
        m.finish_close()
    run(m, paged)  # begun again, with 300 W
    assert m.next_slot_to_close() == 1 and m.last_capacity_w() == 300


def test_paged_close_reads_only_its_own_slots_chain():
    """Slot 0's ring word holds a chain tagged with slot RING (the same word): for slot 0 it is empty, so
    listing that chain's requests is refused and slot 0 closes with its carried requests alone."""
    later = requests(9, slot=RING)
    m, _ = paged_mock(submitted=later)
    assert m.submit_hash(0) == b"\x00" * 32 and m.submit_hash(RING) == submit_chain(later)
    with boa.reverts("coordinator: submitted chain mismatch"):
        run(m, paged_calldata(CARRIED + later, BETA1_PM, 4))
    run(m, paged_calldata(CARRIED, BETA1_PM, 4))
    assert m.submit_hash(RING) == submit_chain(later)  # not slot 0's to free


def test_paged_close_checks_the_carried_chain_at_the_finish():
    """Only carried requests: no page reaches the end of the carried part, so finish_close checks it."""
    m, paged = paged_mock(submitted=[])
    with boa.reverts("coordinator: carried chain mismatch"):
        run(m, paged, pending_pages=[CARRIED[::-1]])
    run(m, paged)


# -- anonymous_requests: epoch keys, tokens, pseudonyms ----------------------------------------------------
KEY = blind.PrivateKey.generate()


def token(m, epoch: int, pseudonym: str) -> int:
    """The utility's token on `pseudonym`, minted as the ESU and the utility do (blind, sign, unblind)."""
    seed = blind.token_seed(m.eip712Domain()[3], str(m.address), epoch, pseudonym)
    state = blind.blind(KEY.public, blind.fdh(seed))
    return blind.finalize(KEY.public, state, blind.blind_sign(KEY, state.blinded))


def anonymous_request(m, epoch: int, slot: int = 3, token_of: str | None = None):
    """A request signed by a fresh pseudonym for `slot`, with a token on it (or on `token_of`)."""
    account = Account.create()
    t = token(m, epoch, token_of or account.address)
    return sign_request(account.key, m.eip712Domain()[3], str(m.address), epoch, slot, 5_000, 300, 3, t)


def test_anonymous_requests_register_and_spend():
    m = mock("anonymous_requests")
    epoch = blind.epoch_of(boa.env.evm.patch.timestamp)
    modulus = words(KEY.public.modulus_bytes)
    with boa.reverts("coordinator: no key registered for the epoch"):
        m.spend(anonymous_request(m, epoch).as_abi(), 3, epoch, epoch)
    with boa.reverts("coordinator: epoch is over"):
        m.register(epoch - 1, modulus)
    with boa.reverts("coordinator: modulus is not 2048 bits"):
        m.register(epoch, [modulus[0] >> 1] + modulus[1:])
    with boa.reverts("coordinator: modulus is even"):
        m.register(epoch, modulus[:-1] + [modulus[-1] - 1])
    m.register(epoch, modulus)
    assert m.epoch_key(epoch) == keccak(KEY.public.modulus_bytes) and m.epoch_key(epoch + 1) == b"\x00" * 32
    with boa.reverts("coordinator: epoch key already registered"):
        m.register(epoch, modulus)
    request = anonymous_request(m, epoch)
    with boa.reverts("coordinator: token epoch is over"):
        m.spend(request.as_abi(), 3, epoch, epoch + 1)
    with boa.reverts("coordinator: token epoch not begun"):
        m.spend(request.as_abi(), 3, epoch, epoch - 1)
    with boa.reverts("coordinator: signature is not the pseudonym's"):
        m.spend(request.as_abi(), 4, epoch, epoch)  # signed for slot 3
    forged = anonymous_request(m, epoch, token_of=Account.create().address)  # a token on another pseudonym
    with boa.reverts("coordinator: token does not verify"):
        m.spend(forged.as_abi(), 3, epoch, epoch)
    m.spend(request.as_abi(), 3, epoch, epoch)
    assert m.spent(request.pseudonym)
    with boa.reverts("coordinator: pseudonym already used"):
        m.spend(request.as_abi(), 3, epoch, epoch)
