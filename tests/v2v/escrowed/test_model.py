"""The auction through the escrow, pure (gridchain.v2v.escrowed.model): the lowest valid rate wins (ties to the
earliest bid), and every hostile bid is refused with its reason whatever its rate: a forged or malformed offer
signature, terms other than the request's and invite's, a rate above the ceiling, an amount that is not rate x
energy, a late bid, a second bid from one key or one meter, an unregistered meter, a body that is not a bid;
arbitrary JSON never raises. The envelopes open only with the mailbox's key."""

from __future__ import annotations

import dataclasses

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.crypto import eip712
from gridchain.crypto.keys import address_of, sign_digest
from gridchain.errors import InputError
from gridchain.escrow.model import Terms, domain
from gridchain.escrow.negotiation.model import TradeKey
from gridchain.v2v.escrowed.model import (
    Invite,
    Received,
    Request,
    bid_body,
    check_request,
    open_envelope,
    seal,
    select,
    terms_json,
)
from gridchain.v2v.model import cost

N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # secp256k1's order
DOMAIN = domain(31337, "0x" + "ee" * 20)
CEILING = 300_000
OWNERS = [keccak(text=f"owner {i}") for i in range(6)]
METERS = [address_of(keccak(text=f"meter {i}")) for i in range(6)]
REGISTERED = {m.lower(): address_of(k) for m, k in zip(METERS, OWNERS, strict=True)}
REQUEST = Request("ab" * 32, 10_000, 256 * 8200, 4, CEILING, "0x" + "cc" * 20, 1_000)
INVITE = Invite(address_of(keccak(text="buyer")), address_of(keccak(text="arbiter")), 9_999_999)
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)


def owner_of(meter: str) -> str:
    return REGISTERED.get(meter.lower(), "0x" + "00" * 20)


def terms(i: int, price: int, **changes) -> Terms:
    t = Terms(
        INVITE.buyer, address_of(keccak(text=f"payout {i}")), INVITE.arbiter, REQUEST.token,
        cost(price, REQUEST.energy_wh), METERS[i], REQUEST.first_interval, REQUEST.intervals, REQUEST.energy_wh,
        INVITE.deadline, keccak(text=f"salt {i}"),
    )  # fmt: skip
    return dataclasses.replace(t, **changes)


def bid(i: int, price: int, seq: int, t: Terms | None = None, signer: bytes | None = None, received: int = 0,
        sender: str | None = None) -> Received:  # fmt: skip
    t = terms(i, price) if t is None else t
    offer = sign_digest(OWNERS[i] if signer is None else signer, eip712.digest(DOMAIN, t))
    return Received(sender or f"{i:064x}", seq, received, bid_body(price, t, offer))


def outcome(bids: list[Received]):
    return select(REQUEST, INVITE, bids, DOMAIN, owner_of)


prices = st.integers(1, CEILING)


@SETTINGS
@given(st.lists(prices, min_size=1, max_size=6), st.randoms(use_true_random=False))
def test_the_lowest_valid_rate_wins_ties_to_the_earliest(rates, rnd):
    seqs = list(range(1, len(rates) + 1))
    rnd.shuffle(seqs)
    got = outcome([bid(i, r, seqs[i]) for i, r in enumerate(rates)])
    best = min(range(len(rates)), key=lambda i: (rates[i], seqs[i]))
    assert got.refused == [] and got.winner is not None
    assert got.winner.terms.meter == METERS[best] and got.winner.price_wei_per_kwh == rates[best]
    assert sorted(b.terms.meter for b in got.losers) == sorted(METERS[i] for i in range(len(rates)) if i != best)


def test_an_equal_later_bid_loses():
    got = outcome([bid(1, 1000, 7), bid(0, 1000, 3)])
    assert got.winner.seq == 3 and got.winner.terms.meter == METERS[0]


def high_s(signature: bytes) -> bytes:
    s = int.from_bytes(signature[32:64], "big")
    return signature[:32] + (N - s).to_bytes(32, "big") + bytes([55 - signature[64]])


def hostile(kind: str, price: int) -> tuple[Received, str]:
    """A bid from provider 5 at `price` with one flaw, and the reason it must get."""
    if kind == "forged":
        return bid(5, price, 1, signer=OWNERS[0]), "offer not signed by the meter's owner"
    if kind == "high_s":
        got = bid(5, price, 1)
        body = dict(got.body, offer="0x" + high_s(bytes.fromhex(got.body["offer"][2:])).hex())
        return dataclasses.replace(got, body=body), "offer signature malformed"
    if kind == "garbage_signature":
        got = bid(5, price, 1)
        return dataclasses.replace(got, body=dict(got.body, offer="0x" + "00" * 65)), "offer signature malformed"
    if kind == "over":
        return bid(5, CEILING + price, 1), "price above the ceiling"
    if kind == "late":
        return bid(5, price, 1, received=REQUEST.bid_deadline), "late: after the bid deadline"
    if kind == "amount":
        return bid(5, price, 1, terms(5, price, amount=cost(price, REQUEST.energy_wh) + 1)), "terms.amount is not"
    if kind == "unregistered":
        t = terms(5, price, meter=address_of(keccak(text="stranger meter")))
        return bid(5, price, 1, t), "meter not registered"
    if kind == "seller_is_buyer":
        return bid(5, price, 1, terms(5, price, seller=INVITE.buyer)), "terms.seller is empty or another role"
    if kind == "not_a_bid":
        return Received("05" * 32, 1, 0, {"kind": "join"}), "malformed: a join, not a bid"
    if kind == "extra_field":
        got = bid(5, price, 1)
        return dataclasses.replace(got, body=dict(got.body, rate=1)), "malformed: rate"
    field, value = {
        "buyer": ("buyer", address_of(keccak(text="someone"))), "arbiter": ("arbiter", address_of(keccak(text="x"))),
        "token": ("token", "0x" + "00" * 20), "first_interval": ("first_interval", REQUEST.first_interval + 1),
        "intervals": ("intervals", REQUEST.intervals + 1), "energy_wh": ("energy_wh", REQUEST.energy_wh - 500),
        "deadline": ("deadline", INVITE.deadline + 1),
    }[kind]  # fmt: skip
    return bid(5, price, 1, terms(5, price, **{field: value})), f"terms.{field} is not the request's"


HOSTILE = (
    "forged", "high_s", "garbage_signature", "over", "late", "amount", "unregistered", "seller_is_buyer", "not_a_bid",
    "extra_field", "buyer", "arbiter", "token", "first_interval", "intervals", "energy_wh", "deadline",
)  # fmt: skip


@SETTINGS
@given(st.sampled_from(HOSTILE), st.integers(1, 1000), st.lists(st.integers(1001, CEILING), min_size=1, max_size=4))
def test_a_hostile_bid_is_refused_with_its_reason_and_the_lowest_honest_wins(kind, cheap, honest):
    bad, reason = hostile(kind, cheap)  # cheaper than every honest bid: only its flaw keeps it from winning
    got = outcome([bad] + [bid(i, r, 2 + i) for i, r in enumerate(honest)])
    assert len(got.refused) == 1 and got.refused[0][1].startswith(reason), got.refused
    assert got.winner.price_wei_per_kwh == min(honest) and got.winner.terms.meter != METERS[5]


@SETTINGS
@given(prices, prices)
def test_a_second_bid_from_one_key_or_one_meter_is_refused(first, second):
    same_key = outcome([bid(0, first, 1, sender="aa" * 32), bid(1, second, 2, sender="aa" * 32)])
    assert [why for _, why in same_key.refused] == ["duplicate: this one-time key bid already"]
    assert same_key.winner.terms.meter == METERS[0]
    again = bid(0, second, 2, terms(0, second, salt=keccak(text="other salt")), sender="bb" * 32)
    same_meter = outcome([bid(0, first, 1, sender="aa" * 32), again])
    assert [why for _, why in same_meter.refused] == ["duplicate: this meter bid already"]
    assert same_meter.winner.price_wei_per_kwh == first


def test_a_refused_first_bid_does_not_block_the_same_meters_valid_one():
    got = outcome([bid(0, 10, 1, signer=OWNERS[1]), bid(0, 20, 2, sender="cc" * 32)])
    assert [why for _, why in got.refused] == ["offer not signed by the meter's owner"]
    assert got.winner.price_wei_per_kwh == 20


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)


@SETTINGS
@given(json_values, st.dictionaries(st.sampled_from(list(terms_json(terms(0, 1)))), json_values, max_size=4))
def test_arbitrary_bodies_are_refused_never_raised(body, broken_terms):
    got = bid(0, 100, 1)
    mangled = dict(got.body, terms={**got.body["terms"], **broken_terms})
    for b in (body, {"kind": "bid", **body} if isinstance(body, dict) else body, mangled):
        out = outcome([Received("dd" * 32, 1, 0, b)])
        if out.winner is None:
            assert len(out.refused) == 1 and isinstance(out.refused[0][1], str)


def test_no_bid_no_winner():
    assert outcome([]).winner is None


def test_envelopes_open_only_with_the_mailbox_key():
    consumer, provider, stranger = TradeKey.fresh(), TradeKey.fresh(), TradeKey.fresh()
    body = bid(0, 100, 1).body
    sealed = seal(provider, consumer.public, body)
    assert open_envelope(consumer, sealed) == (provider.public, body)
    with pytest.raises(InputError, match="does not open"):
        open_envelope(stranger, sealed)
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(InputError, match="does not open"):
        open_envelope(consumer, flipped)


@pytest.mark.parametrize(
    ("change", "field"),
    [({"energy_wh": 10_001}, "energy_wh"), ({"first_interval": 256 * 8200 + 254}, "intervals"),
     ({"intervals": 0}, "intervals"), ({"ceiling_wei_per_kwh": 0}, "ceiling_wei_per_kwh")],
)  # fmt: skip
def test_a_request_the_escrow_cannot_hold_is_refused(change, field):
    check_request(REQUEST)
    with pytest.raises(InputError) as e:
        check_request(dataclasses.replace(REQUEST, **change))
    assert e.value.field == field


def test_the_request_travels_as_a_board_listing():
    assert Request.of(REQUEST.listing()) == REQUEST
