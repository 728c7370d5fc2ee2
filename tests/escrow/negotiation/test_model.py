"""The protocol's envelopes, listings, bodies and turns: what opens, what is refused (naming the field), and that
nothing about a message's length or a thread's length depends on what is said."""

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.errors import InputError
from gridchain.escrow.negotiation.model import (
    BUCKETS,
    CIPHERTEXT_SIZES,
    ENERGY_STEP_WH,
    ETH,
    LENGTH_BYTES,
    TURNS,
    Listing,
    Terms,
    Thread,
    TradeKey,
    advance,
    allowed,
    amount_of,
    canonical,
    fresh_account,
    open_envelope,
    pad,
    parse_body,
    parse_listing,
    parse_terms,
    seal,
    unpad,
)

A, B = "0x" + "aa" * 20, "0x" + "bb" * 20
BODIES_KINDS = ("bid", "counter", "accept", "confirm", "reject", "pad")


def keys(seed: int = 0) -> tuple[TradeKey, TradeKey]:
    rng = random.Random(seed)
    return TradeKey.fresh(rng), TradeKey.fresh(rng)


def terms(price: int = 150, energy_wh: int = 5000, **changes) -> Terms:
    base = dict(
        buyer=fresh_account(random.Random(1)).address,
        seller=fresh_account(random.Random(2)).address,
        arbiter="0x" + "11" * 20,
        token=ETH,
        amount=amount_of(price, energy_wh),
        meter="0x" + "22" * 20,
        first_interval=100,
        intervals=4,
        energy_wh=energy_wh,
        deadline=1_800_000_000,
        salt="0x" + "33" * 32,
    )
    return Terms(**(base | changes))


def listing(**changes) -> dict:
    base = dict(
        key="ab" * 32,
        community="c1",
        energy_wh=5000,
        first_interval=100,
        intervals=4,
        price_min_wei_per_kwh=100,
        price_max_wei_per_kwh=200,
        token=ETH,
        expires=1_800_000_000,
    )
    return base | changes


BODIES = [
    {"kind": "bid", "turn": 0, "offer": "ab" * 32, "price_wei_per_kwh": 100, "buyer": A},
    {"kind": "counter", "turn": 1, "price_wei_per_kwh": 10**30},
    {"kind": "accept", "turn": 1, "terms": terms().to_json()},
    {"kind": "confirm", "turn": 2, "terms_digest": terms().digest()},
    {"kind": "reject", "turn": 6, "reason": "x" * 64},
    {"kind": "pad", "turn": 3},
]


def step(thread: Thread, body: dict) -> Thread:
    """`advance` with the body stamped with the thread's turn, as a party sends it."""
    return advance(thread, {**body, "turn": thread.turn})


# ---- envelopes ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", BODIES, ids=lambda b: b["kind"])
def test_an_envelope_opens_for_its_recipient_with_the_senders_key_and_has_the_one_size(body):
    sender, recipient = keys()
    ciphertext = seal(sender, recipient.public, body)
    assert len(ciphertext) == CIPHERTEXT_SIZES[0]  # every message of the protocol: one size
    assert open_envelope(recipient, ciphertext) == (sender.public, parse_body(body))


def test_the_envelope_shows_no_key_and_no_content():
    sender, recipient = keys()
    body = BODIES[0]
    ciphertext = seal(sender, recipient.public, body)
    for secret in (bytes.fromhex(sender.public), bytes.fromhex(recipient.public), canonical(body), A.encode()):
        assert secret not in ciphertext
    assert seal(sender, recipient.public, body) != ciphertext  # fresh randomness each time: no equality to spot


@settings(max_examples=200, deadline=None)
@given(position=st.integers(0, CIPHERTEXT_SIZES[0] - 1), flip=st.integers(1, 255))
def test_any_altered_byte_is_refused(position, flip):
    sender, recipient = keys()
    ciphertext = bytearray(seal(sender, recipient.public, BODIES[1]))
    ciphertext[position] ^= flip
    with pytest.raises(InputError) as e:
        open_envelope(recipient, bytes(ciphertext))
    assert e.value.field == "ciphertext"


def test_the_wrong_key_cannot_open_it():
    sender, recipient = keys()
    ciphertext = seal(sender, recipient.public, BODIES[1])
    with pytest.raises(InputError, match="does not open with this mailbox's key") as e:
        open_envelope(TradeKey.fresh(random.Random(9)), ciphertext)
    assert e.value.field == "ciphertext"
    with pytest.raises(InputError):
        open_envelope(sender, ciphertext)  # not even the sender, once sealed


def test_a_sender_that_lies_about_its_key_is_refused():
    """The outer seal names a key whose holder did not make the inner box: the recipient refuses it."""
    from nacl.public import Box, PublicKey, SealedBox

    sender, recipient = keys()
    impostor = TradeKey.fresh(random.Random(5))
    to = PublicKey(bytes.fromhex(recipient.public))
    inner = Box(impostor.private, to).encrypt(pad(canonical(BODIES[5])))
    forged = SealedBox(to).encrypt(bytes.fromhex(sender.public) + bytes(inner))
    with pytest.raises(InputError, match="inner box") as e:
        open_envelope(recipient, forged)
    assert e.value.field == "ciphertext"


@pytest.mark.parametrize("size", [0, 1, CIPHERTEXT_SIZES[0] - 1, CIPHERTEXT_SIZES[0] + 1, CIPHERTEXT_SIZES[1] + 1])
def test_a_ciphertext_of_another_size_is_refused_unopened(size):
    _, recipient = keys()
    with pytest.raises(InputError, match="not an envelope size") as e:
        open_envelope(recipient, bytes(size))
    assert e.value.field == "ciphertext"


def test_a_ciphertext_that_is_not_bytes_is_refused():
    _, recipient = keys()
    with pytest.raises(InputError, match="expected bytes") as e:
        open_envelope(recipient, "00" * CIPHERTEXT_SIZES[0])
    assert e.value.field == "ciphertext"


def test_an_oversize_body_is_refused_before_sealing():
    sender, recipient = keys()
    with pytest.raises(InputError, match="do not fit the largest bucket") as e:
        pad(b"x" * (BUCKETS[-1] - LENGTH_BYTES + 1))
    assert e.value.field == "body"
    assert len(pad(b"x" * (BUCKETS[-1] - LENGTH_BYTES))) == BUCKETS[-1]  # the largest that fits
    with pytest.raises(InputError, match="reason"):
        seal(sender, recipient.public, {"kind": "reject", "turn": 0, "reason": "x" * 65})


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=BUCKETS[-1] - LENGTH_BYTES))
def test_pad_is_a_bucket_and_unpad_inverts_it(data):
    padded = pad(data)
    assert len(padded) == min(b for b in BUCKETS if b >= len(data) + LENGTH_BYTES)
    assert unpad(padded) == data


@pytest.mark.parametrize(
    "padded, reason",
    [
        (bytes(BUCKETS[0] - 1), "not a bucket size"),
        ((BUCKETS[0]).to_bytes(2, "big") + bytes(BUCKETS[0] - 2), "runs past the bucket"),
        ((1).to_bytes(2, "big") + b"x" + b"\x01" + bytes(BUCKETS[0] - 4), "not zeros"),
    ],
)
def test_unpad_refuses_what_pad_never_makes(padded, reason):
    with pytest.raises(InputError, match=reason) as e:
        unpad(padded)
    assert e.value.field == "body"


def test_a_sealed_body_that_is_not_json_or_not_a_body_is_refused():
    from nacl.public import Box, PublicKey, SealedBox

    sender, recipient = keys()
    to = PublicKey(bytes.fromhex(recipient.public))
    for content, field in ((b"not json", "body"), (b"[1]", "body"), (b'{"kind": "bid", "turn": 0}', "offer")):
        inner = Box(sender.private, to).encrypt(pad(content))
        envelope = SealedBox(to).encrypt(bytes.fromhex(sender.public) + bytes(inner))
        with pytest.raises(InputError) as e:
            open_envelope(recipient, envelope)
        assert e.value.field == field


# ---- bodies, listings, terms ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "offer"}, "kind"),
        ({}, "kind"),
        ({"kind": "bid", "offer": "AB" * 32, "price_wei_per_kwh": 1, "buyer": A}, "offer"),
        ({"kind": "bid", "offer": "ab" * 31, "price_wei_per_kwh": 1, "buyer": A}, "offer"),
        ({"kind": "bid", "offer": "ab" * 32, "price_wei_per_kwh": -1, "buyer": A}, "price_wei_per_kwh"),
        ({"kind": "bid", "offer": "ab" * 32, "price_wei_per_kwh": True, "buyer": A}, "price_wei_per_kwh"),
        ({"kind": "bid", "offer": "ab" * 32, "price_wei_per_kwh": 1, "buyer": "0x12"}, "buyer"),
        ({"kind": "bid", "offer": "ab" * 32, "price_wei_per_kwh": 1}, "buyer"),
        ({"kind": "counter", "price_wei_per_kwh": 1.5}, "price_wei_per_kwh"),
        ({"kind": "counter", "price_wei_per_kwh": 10**30 + 1}, "price_wei_per_kwh"),
        ({"kind": "counter", "price_wei_per_kwh": 1, "identity": "me"}, "identity"),
        ({"kind": "confirm", "terms_digest": "0x" + "ab" * 31}, "terms_digest"),
        ({"kind": "confirm", "terms_digest": "AB" * 32}, "terms_digest"),
        ({"kind": "accept", "terms": terms().to_json() | {"amount": 0}}, "terms.amount"),
        ({"kind": "accept", "terms": terms().to_json() | {"salt": "0x" + "AB" * 32}}, "terms.salt"),
        ({"kind": "accept", "terms": terms().to_json() | {"meter": "meter-7"}}, "terms.meter"),
        ({"kind": "accept", "terms": terms().to_json() | {"intervals": 0}}, "terms.intervals"),
        ({"kind": "accept", "terms": "{}"}, "terms"),
        ({"kind": "reject", "reason": 7}, "reason"),
        ({"kind": "pad", "filler": "x"}, "filler"),
        ({"kind": "pad", "turn": TURNS}, "turn"),
        ({"kind": "pad", "turn": "1"}, "turn"),
        ([], "body"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(body, field):
    with pytest.raises(InputError) as e:
        parse_body({"turn": 0} | body if isinstance(body, dict) else body)
    assert e.value.field == field


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"energy_wh": ENERGY_STEP_WH + 1}, "energy_wh"),
        ({"energy_wh": 0}, "energy_wh"),
        ({"price_max_wei_per_kwh": 99}, "price_max_wei_per_kwh"),
        ({"community": ""}, "community"),
        ({"community": "x" * 65}, "community"),
        ({"key": "zz" * 32}, "key"),
        ({"token": "ether"}, "token"),
        ({"intervals": 0}, "intervals"),
        ({"expires": -1}, "expires"),
        ({"seller": A}, "seller"),  # a listing carries no identity, and no field it does not know
    ],
)
def test_bad_listings_are_refused_naming_the_field(changes, field):
    with pytest.raises(InputError) as e:
        parse_listing(listing(**changes))
    assert e.value.field == field
    bad = listing()
    del bad["expires"]
    with pytest.raises(InputError, match="is missing"):
        parse_listing(bad)


def test_a_good_listing_and_terms_round_trip():
    assert parse_listing(listing()).to_json() == listing()
    assert parse_listing(json.loads(json.dumps(listing()))) == Listing(**listing())
    assert parse_terms(terms().to_json()) == terms()
    assert terms().digest() != terms(salt="0x" + "34" * 32).digest()


# ---- turns ----------------------------------------------------------------------------------------------------


def test_the_turns_of_an_agreement_then_padding():
    t = terms()
    thread = Thread()
    for body in (
        BODIES[0],
        {"kind": "counter", "price_wei_per_kwh": 180},
        {"kind": "counter", "price_wei_per_kwh": 150},
        {"kind": "accept", "terms": t.to_json()},
        {"kind": "confirm", "terms_digest": t.digest()},
        {"kind": "pad"},
        {"kind": "pad"},
    ):
        thread = step(thread, body)
    assert thread.over and thread.turn == TURNS and thread.outcome == "agreed" and thread.terms == t
    with pytest.raises(InputError, match="the thread is over"):
        step(thread, {"kind": "pad"})


@pytest.mark.parametrize(
    "bodies, field",
    [
        ([{"kind": "counter", "price_wei_per_kwh": 1}], "kind"),  # a thread opens with a bid
        ([BODIES[0], BODIES[0]], "kind"),  # one bid per thread
        ([BODIES[0], {"kind": "pad"}], "kind"),  # no padding while undecided
        ([BODIES[0], {"kind": "confirm", "terms_digest": terms().digest()}], "kind"),  # the seller never confirms
        ([BODIES[0], {"kind": "accept", "terms": terms(price=99).to_json()}], "terms.amount"),  # not the bid's price
        ([BODIES[0], BODIES[2], {"kind": "confirm", "terms_digest": "00" * 32}], "terms_digest"),
        ([BODIES[0], {"kind": "reject", "reason": ""}, {"kind": "counter", "price_wei_per_kwh": 1}], "kind"),
    ],
)
def test_out_of_turn_messages_are_refused(bodies, field):
    bodies = [dict(b) for b in bodies]
    bodies[0]["price_wei_per_kwh"] = 150 if bodies[0].get("kind") == "bid" else bodies[0].get("price_wei_per_kwh")
    thread = Thread()
    for body in bodies[:-1]:
        thread = step(thread, body)
    with pytest.raises(InputError) as e:
        step(thread, bodies[-1])
    assert e.value.field == field


def test_the_last_seller_turn_cannot_counter_and_the_last_buyer_turn_only_confirms_or_rejects():
    thread = Thread()
    for price in (100, 200, 120, 180, 130):
        body = {"kind": "counter", "price_wei_per_kwh": price}
        thread = step(thread, {**BODIES[0], "price_wei_per_kwh": price} if thread.turn == 0 else body)
    assert thread.turn == TURNS - 2 and allowed(thread) == ("accept", "reject")
    with pytest.raises(InputError, match="counter is not allowed at turn 5"):
        step(thread, {"kind": "counter", "price_wei_per_kwh": 150})
    thread = step(thread, {"kind": "accept", "terms": terms(price=130).to_json()})
    assert allowed(thread) == ("confirm", "reject")


@settings(max_examples=300, deadline=None)
@given(choices=st.lists(st.integers(0, 10), min_size=TURNS, max_size=TURNS), prices=st.data())
def test_any_legal_conversation_has_exactly_turns_messages_all_of_one_size(choices, prices):
    """Whatever each side chooses among what its turn allows, a thread is TURNS envelopes, each of one size."""
    sender, recipient = keys()
    thread = Thread()
    sizes = []
    for choice in choices:
        kinds = allowed(thread)
        kind = kinds[choice % len(kinds)]
        price = prices.draw(st.integers(0, 10**30), label="price")
        body = {
            "bid": {**BODIES[0], "price_wei_per_kwh": price},
            "counter": {"kind": "counter", "price_wei_per_kwh": price},
            "accept": {"kind": "accept", "terms": terms(price=thread.price or 0).to_json()},
            "confirm": {"kind": "confirm", "terms_digest": thread.terms.digest() if thread.terms else ""},
            "reject": {"kind": "reject", "reason": "no agreement"},
            "pad": {"kind": "pad"},
        }[kind]
        if kind == "accept" and thread.price * 5000 // 1000 == 0:
            body = {"kind": "reject", "reason": "no agreement"}  # an amount of 0 is no trade
        sizes.append(len(seal(sender, recipient.public, {**body, "turn": thread.turn})))
        thread = step(thread, body)
    assert thread.over and allowed(thread) == ()
    assert set(sizes) == {CIPHERTEXT_SIZES[0]}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=6),
    max_leaves=20,
)
KIND_LIKE = st.fixed_dictionaries({"kind": st.sampled_from([*BODIES_KINDS, "x"])}, optional={"terms": JSON})


@settings(max_examples=400, deadline=None)
@given(
    body=JSON
    | KIND_LIKE
    | st.builds(
        lambda b, extra: {**b, **extra},
        st.sampled_from(BODIES),
        st.dictionaries(
            st.sampled_from(["kind", "offer", "price_wei_per_kwh", "buyer", "terms", "terms_digest", "reason", "x"]),
            JSON,
            max_size=3,
        ),
    )
)
def test_hostile_json_is_either_a_body_or_an_input_error(body):
    try:
        checked = parse_body(body)
    except InputError as e:
        assert e.field
        return
    assert parse_body(checked) == checked  # what passes is canonical


@settings(max_examples=200, deadline=None)
@given(
    listing_json=st.builds(
        lambda extra: {**listing(), **extra},
        st.dictionaries(
            st.sampled_from(
                [
                    "key",
                    "community",
                    "energy_wh",
                    "first_interval",
                    "intervals",
                    "price_min_wei_per_kwh",
                    "price_max_wei_per_kwh",
                    "token",
                    "expires",
                    "x",
                ]
            ),
            JSON,
            max_size=3,
        ),
    )
)
def test_hostile_listings_are_either_listings_or_input_errors(listing_json):
    try:
        checked = parse_listing(listing_json)
    except InputError as e:
        assert e.field
        return
    assert parse_listing(checked.to_json()) == checked


@settings(max_examples=300, deadline=None)
@given(bodies=st.lists(st.sampled_from(BODIES) | KIND_LIKE | JSON, min_size=1, max_size=12))
def test_a_thread_fed_anything_moves_one_turn_per_accepted_message_or_refuses_naming_a_field(bodies):
    thread = Thread()
    for body in bodies:
        try:
            after = advance(thread, body)
        except InputError as e:
            assert e.field
            continue
        assert after.turn == thread.turn + 1 and parse_body(body)["kind"] in allowed(thread)
        assert thread.outcome in ("open", after.outcome)  # once decided, a thread stays decided
        thread = after
    assert thread.turn <= TURNS


def test_a_replayed_or_moved_message_is_refused_by_its_turn():
    """A board that replays a buyer's earlier counter in place of a later one is caught: each body names its turn."""
    thread = Thread()
    for price in (100, 200, 120, 180):
        body = {**BODIES[0], "price_wei_per_kwh": price} if thread.turn == 0 else {"kind": "counter"}
        thread = step(thread, body | {"price_wei_per_kwh": price})
    replayed = {"kind": "counter", "turn": 2, "price_wei_per_kwh": 120}  # the buyer's turn-2 counter, at turn 4
    with pytest.raises(InputError, match="is 2, the thread is at turn 4") as e:
        advance(thread, replayed)
    assert e.value.field == "turn"
