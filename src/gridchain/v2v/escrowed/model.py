"""The V2V reverse auction through the trade escrow, pure: the request, the sealed messages, a bid's checks and the
winner rule (Abou El Houda et al.: the lowest rate wins), whose bids are binding escrow offers.

The consumer EV posts its request on the negotiation's board as a listing in COMMUNITY: its mailbox (a one-time
X25519 key), the energy [Wh], the intervals, the ceiling (the listing's price_max) [wei/kWh], the token and the
bid deadline (the listing's expiry). A provider EV answers in three sealed messages (each the negotiation's double
seal, padded to its buckets): `join` (its one-time key, nothing else), the consumer's `invite` back (its fresh
address, the arbiter, the escrow's deadline: what the provider must sign and what the public listing cannot
carry), and the `bid`: its rate and the escrow Terms it offers (buyer: the consumer's fresh address, seller: the
provider's fresh address, its meter and the request's intervals, amount = rate x energy // 1000) with its meter
owner's EIP-712 offer signature over them. The consumer opens the escrow with the winner's offer as it is; the
losing offers are never opened and lapse at their deadline.

`select` refuses a bid, with one reason, when it came after the bid deadline, is malformed, is above the ceiling,
its terms differ from the request and invite, its offer does not recover to the meter's owner (as the escrow's
`open` checks it), or its one-time key or its meter already bid; of the rest the lowest rate wins, ties to the
earliest bid (the board's order): the on-chain auction's rule, where an equal later bid is refused.

Pure: the kernel, crypto, PyNaCl, and the twins: v2v's, the escrow's and its negotiation's (the only modules of
the escrow imported past its package root, which would bring the chain in).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from nacl.exceptions import CryptoError
from nacl.public import Box, PublicKey, SealedBox

from gridchain.checks import check_int, parse_address, parse_hex_bytes, show
from gridchain.crypto import eip712
from gridchain.errors import InputError
from gridchain.escrow.model import EscrowError, Terms, recover
from gridchain.escrow.negotiation.model import ENERGY_STEP_WH, Listing, TradeKey, check_ciphertext, pad, unpad
from gridchain.v2v.model import cost

COMMUNITY = "v2v-requests"
KEY_BYTES = 32
MAX_PRICE = 10**30  # [wei/kWh]
MAX_ENERGY_WH = 10**9
MAX_TIME = 2**40  # [s]
MAX_INTERVALS = 96  # the escrow's
SIGNATURE_BYTES = 65
ZERO = "0x" + "00" * 20
FIELDS = {"join": (), "invite": ("buyer", "arbiter", "deadline"), "bid": ("price_wei_per_kwh", "terms", "offer")}
TERMS_FIELDS = (
    "buyer", "seller", "arbiter", "token", "amount", "meter", "first_interval", "intervals", "energy_wh", "deadline",
    "salt",
)  # fmt: skip


@dataclass(frozen=True)
class Request:
    """What the consumer asks, public: its mailbox, energy [Wh], intervals, ceiling [wei/kWh], token, bid deadline
    [s]."""

    key: str
    energy_wh: int
    first_interval: int
    intervals: int
    ceiling_wei_per_kwh: int
    token: str
    bid_deadline: int

    def listing(self) -> Listing:
        return Listing(
            self.key, COMMUNITY, self.energy_wh, self.first_interval, self.intervals, 0, self.ceiling_wei_per_kwh,
            self.token.lower(), self.bid_deadline,
        )  # fmt: skip

    @classmethod
    def of(cls, listing: Listing) -> Request:
        if listing.community != COMMUNITY:
            raise InputError("community", f"{listing.community!r} is not {COMMUNITY!r}")
        return cls(
            listing.key, listing.energy_wh, listing.first_interval, listing.intervals, listing.price_max_wei_per_kwh,
            listing.token.lower(), listing.expires,
        )  # fmt: skip


@dataclass(frozen=True)
class Invite:
    """What the consumer tells each provider that joined: its fresh address, the arbiter, the escrow's deadline."""

    buyer: str
    arbiter: str
    deadline: int  # [s] unix: the escrow's (the losing offers lapse then)

    def body(self) -> dict:
        return {"kind": "invite", **asdict(self)}


# ---- envelopes --------------------------------------------------------------------------------------------


def seal(sender: TradeKey, recipient: str, body: dict) -> bytes:
    """The envelope of `body` from `sender`'s one-time key to the mailbox `recipient` (the negotiation's double seal:
    SealedBox[ sender key || Box[ pad(JSON) ] ])."""
    to = PublicKey(bytes.fromhex(recipient))
    inner = Box(sender.private, to).encrypt(pad(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()))
    return SealedBox(to).encrypt(bytes(sender.private.public_key) + bytes(inner))


def open_envelope(recipient: TradeKey, ciphertext: object) -> tuple[str, object]:
    """(the sender's one-time key, the body as JSON, unchecked) of an envelope to `recipient`'s mailbox."""
    check_ciphertext("ciphertext", ciphertext)
    try:
        opened = SealedBox(recipient.private).decrypt(ciphertext)
        sender, inner = opened[:KEY_BYTES], opened[KEY_BYTES:]
        padded = Box(recipient.private, PublicKey(sender)).decrypt(inner)
    except CryptoError:
        raise InputError("ciphertext", "does not open with this mailbox's key (another's, or altered)") from None
    try:
        return sender.hex(), json.loads(unpad(padded))
    except ValueError as e:
        if isinstance(e, InputError):
            raise
        raise InputError("body", "is not JSON") from None


# ---- bodies -----------------------------------------------------------------------------------------------


def terms_json(terms: Terms) -> dict:
    j = asdict(terms)
    j["salt"] = "0x" + terms.salt.hex()
    return j


def parse_terms(j: object) -> Terms:
    f = _exact("terms", j, TERMS_FIELDS)
    return Terms(
        parse_address("terms.buyer", f["buyer"]),
        parse_address("terms.seller", f["seller"]),
        parse_address("terms.arbiter", f["arbiter"]),
        parse_address("terms.token", f["token"]),
        check_int("terms.amount", f["amount"], 0, MAX_PRICE * MAX_ENERGY_WH),
        parse_address("terms.meter", f["meter"]),
        check_int("terms.first_interval", f["first_interval"], 0, MAX_TIME),
        check_int("terms.intervals", f["intervals"], 0, MAX_TIME),
        check_int("terms.energy_wh", f["energy_wh"], 0, MAX_ENERGY_WH),
        check_int("terms.deadline", f["deadline"], 0, MAX_TIME),
        parse_hex_bytes("terms.salt", f["salt"], 32),
    )


def bid_body(price_wei_per_kwh: int, terms: Terms, offer: bytes) -> dict:
    return {
        "kind": "bid",
        "price_wei_per_kwh": price_wei_per_kwh,
        "terms": terms_json(terms),
        "offer": "0x" + offer.hex(),
    }


def parse_body(j: object) -> dict:
    """A message, checked: its kind and exactly that kind's fields (a bid's terms parsed to `Terms`, its offer to
    bytes); InputError naming the field otherwise."""
    if not isinstance(j, dict):
        raise InputError("body", f"expected an object, got {type(j).__name__}")
    kind = j.get("kind")
    if kind not in FIELDS:
        raise InputError("kind", f"{show(kind)[:40]} is not one of {', '.join(FIELDS)}")
    f = _exact(kind, j, ("kind", *FIELDS[kind]))
    if kind == "invite":
        return {
            "kind": kind,
            "buyer": parse_address("buyer", f["buyer"]),
            "arbiter": parse_address("arbiter", f["arbiter"]),
            "deadline": check_int("deadline", f["deadline"], 0, MAX_TIME),
        }
    if kind == "bid":
        return {
            "kind": kind,
            "price_wei_per_kwh": check_int("price_wei_per_kwh", f["price_wei_per_kwh"], 0, MAX_PRICE),
            "terms": parse_terms(f["terms"]),
            "offer": parse_hex_bytes("offer", f["offer"], SIGNATURE_BYTES),
        }
    return {"kind": kind}


def _exact(name: str, j: object, names: tuple[str, ...]) -> dict:
    if not isinstance(j, dict):
        raise InputError(name, f"expected an object, got {type(j).__name__}")
    missing = [n for n in names if n not in j]
    if missing:
        raise InputError(missing[0], "is missing")
    extra = sorted(str(k) for k in j if k not in names)
    if extra:
        raise InputError(extra[0][:40], f"is not a field of {name}")
    return j


# ---- the auction ------------------------------------------------------------------------------------------


def check_request(r: Request) -> Request:
    """A request the escrow can hold: energy a multiple of the board's step, intervals in one lock word."""
    check_int("energy_wh", r.energy_wh, ENERGY_STEP_WH, MAX_ENERGY_WH)
    if r.energy_wh % ENERGY_STEP_WH:
        raise InputError("energy_wh", f"{r.energy_wh} is not a multiple of {ENERGY_STEP_WH} Wh")
    check_int("intervals", r.intervals, 1, MAX_INTERVALS)
    if r.first_interval % 256 + r.intervals > 256:
        raise InputError("intervals", "cross a lock word of 256 intervals (the escrow's bitmap)")
    check_int("ceiling_wei_per_kwh", r.ceiling_wei_per_kwh, 1, MAX_PRICE)
    return r


@dataclass(frozen=True)
class Received:
    """An envelope's content as the consumer got it: the sender's one-time key, the board's sequence number, the
    consumer's clock when it fetched it [s], and the body as JSON (unchecked)."""

    sender: str
    seq: int
    received: int
    body: object


@dataclass(frozen=True)
class Bid:
    """A well-formed, valid bid."""

    sender: str
    seq: int
    price_wei_per_kwh: int
    terms: Terms
    offer: bytes


@dataclass
class Outcome:
    """The winner (None: no valid bid), the losers (valid, higher or later), the refused with their reasons."""

    winner: Bid | None = None
    losers: list[Bid] = field(default_factory=list)
    refused: list[tuple[Received, str]] = field(default_factory=list)


def check_bid(
    got: Received,
    request: Request,
    invite: Invite,
    domain: eip712.Domain,
    meter_owner: Callable[[str], str],
) -> Bid | str:
    """The bid, or why it is refused (the first failing check, in this order). `meter_owner(meter)`: its owner as
    the metering contract registers it (the zero address: not registered)."""
    if got.received >= request.bid_deadline:
        return "late: after the bid deadline"
    try:
        body = parse_body(got.body)
    except InputError as e:
        return f"malformed: {e.field}: {e.reason}"[:120]
    if body["kind"] != "bid":
        return f"malformed: a {body['kind']}, not a bid"
    price, terms, offer = body["price_wei_per_kwh"], body["terms"], body["offer"]
    if price > request.ceiling_wei_per_kwh:
        return "price above the ceiling"
    differs = _differs(terms, price, request, invite)
    if differs:
        return differs
    owner = meter_owner(terms.meter).lower()
    if owner == ZERO:
        return "meter not registered"
    try:
        signer = recover(eip712.digest(domain, terms), offer)
    except EscrowError as e:
        return f"offer signature malformed ({e})"
    if signer != owner:
        return "offer not signed by the meter's owner"
    return Bid(got.sender, got.seq, price, terms, offer)


def _differs(terms: Terms, price: int, request: Request, invite: Invite) -> str | None:
    """Why a bid's terms are not what the request and the invitation fix (None: they are)."""
    expected = {
        "buyer": invite.buyer, "arbiter": invite.arbiter, "token": request.token, "first_interval":
        request.first_interval, "intervals": request.intervals, "energy_wh": request.energy_wh, "deadline":
        invite.deadline,
    }  # fmt: skip
    for name, value in expected.items():
        have = getattr(terms, name)
        if (have.lower() if isinstance(have, str) else have) != (value.lower() if isinstance(value, str) else value):
            return f"terms.{name} is not the request's"
    if terms.amount != cost(price, request.energy_wh):
        return "terms.amount is not price x energy"
    if terms.amount == 0:
        return "terms.amount is zero"
    if terms.seller.lower() in (ZERO, invite.buyer.lower(), invite.arbiter.lower()):
        return "terms.seller is empty or another role"
    return None


def select(
    request: Request,
    invite: Invite,
    received: Iterable[Received],
    domain: eip712.Domain,
    meter_owner: Callable[[str], str],
) -> Outcome:
    """Every envelope checked in the board's order (a second bid from a key or a meter that already bid validly is
    refused); the lowest valid rate wins, ties to the earliest."""
    out, keys, meters = Outcome(), set(), set()
    valid: list[Bid] = []
    for got in sorted(received, key=lambda g: g.seq):
        bid = check_bid(got, request, invite, domain, meter_owner)
        if isinstance(bid, Bid):
            if bid.sender in keys:
                bid = "duplicate: this one-time key bid already"
            elif bid.terms.meter.lower() in meters:
                bid = "duplicate: this meter bid already"
        if isinstance(bid, str):
            out.refused.append((got, bid))
            continue
        keys.add(bid.sender)
        meters.add(bid.terms.meter.lower())
        valid.append(bid)
    if valid:
        out.winner = min(valid, key=lambda b: (b.price_wei_per_kwh, b.seq))
        out.losers = [b for b in valid if b is not out.winner]
    return out
