"""The negotiation protocol, pure: one-time keys, sealed and padded envelopes, public listings, message bodies, the
agreed terms and the fixed schedule of a thread's turns. Bad input raises InputError naming the field.

Envelope (what the board relays): SealedBox(to recipient)[ sender's one-time public key (32) || Box(sender ->
recipient)[ pad(JSON body) ] ]. The outer seal hides the sender from the board; the inner Box authenticates it to
the recipient. `pad` writes the body's length (2 bytes, big-endian) and the body, then zeros up to the smallest
bucket of BUCKETS, so a ciphertext is BUCKETS[i] + OVERHEAD bytes: its length says only which bucket.

A thread is TURNS messages, buyer first, turns alternating: the buyer bids, the seller accepts (with the terms),
counters or rejects, the buyer confirms, counters or rejects, and so on; once a thread is decided (agreed or
rejected) the turns left carry `pad` messages, so every thread is TURNS envelopes of one size. Every body names
its turn, so an envelope the board replays, or moves to another turn, is refused.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, replace

from eth_account import Account
from eth_account.signers.local import LocalAccount
from nacl.exceptions import CryptoError
from nacl.public import Box, PrivateKey, PublicKey, SealedBox

from gridchain.checks import check_id, check_int, parse_address, parse_hex_bytes, show
from gridchain.errors import InputError

KEY_BYTES = 32  # an X25519 public key
BUCKETS = (512, 2048)  # padded plaintext sizes [bytes]; every protocol message fits the first
LENGTH_BYTES = 2  # the body's length, before it in the padded plaintext
OVERHEAD = 48 + KEY_BYTES + 40  # SealedBox (ephemeral key + MAC) + the sender's key + Box (nonce + MAC) [bytes]
CIPHERTEXT_SIZES = tuple(b + OVERHEAD for b in BUCKETS)
TURNS = 7  # messages in every thread: buyer at even turns (0, 2, 4, 6), seller at odd ones (1, 3, 5)
ENERGY_STEP_WH = 500  # listings' energy is a multiple of this [Wh]
MAX_ENERGY_WH = 10**9
MAX_INTERVALS = 96 * 7
MAX_PRICE = 10**30  # [wei per kWh]
MAX_TIME = 2**40  # unix seconds
ETH = "0x0000000000000000000000000000000000000000"  # the token of a trade paid in ether
KINDS = ("bid", "counter", "accept", "confirm", "reject", "pad")
BUYER_KINDS = {0: ("bid",), 2: ("confirm", "counter", "reject"), 4: ("confirm", "counter", "reject")}
SELLER_KINDS = {1: ("accept", "counter", "reject"), 3: ("accept", "counter", "reject"), 5: ("accept", "reject")}
LAST_BUYER_KINDS = ("confirm", "reject")  # turn 6: the buyer may no longer counter
REASON_MAX_CHARS = 64


# ---- keys -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TradeKey:
    """A one-time X25519 key pair: a trade's mailbox and messaging key, never used for another trade."""

    private: PrivateKey

    @classmethod
    def fresh(cls, rng: random.Random | None = None) -> TradeKey:
        """A new key pair (from the OS's randomness, or from `rng` for seeded experiments)."""
        return cls(PrivateKey.generate() if rng is None else PrivateKey(rng.randbytes(KEY_BYTES)))

    @property
    def public(self) -> str:
        """The public key as 64 hex digits: the mailbox's address."""
        return bytes(self.private.public_key).hex()


def fresh_account(rng: random.Random | None = None) -> LocalAccount:
    """A new Ethereum account for one trade (the buyer's payment or the seller's payout address)."""
    return Account.create() if rng is None else Account.from_key(rng.randbytes(32))


def parse_key(field: str, value: object) -> str:
    """A one-time public key: 64 lowercase hex digits."""
    if not isinstance(value, str) or len(value) != 2 * KEY_BYTES or value != value.lower():
        raise InputError(field, f"{show(value)[:80]} is not a public key (64 lowercase hex digits)")
    parse_hex_bytes(field, value, KEY_BYTES, require_prefix=False)
    return value


# ---- envelopes --------------------------------------------------------------------------------------------


def canonical(body: dict) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def pad(data: bytes) -> bytes:
    """`data` with its length in front, zero-filled to the smallest bucket that holds it."""
    need = LENGTH_BYTES + len(data)
    bucket = next((b for b in BUCKETS if b >= need), None)
    if bucket is None:
        raise InputError("body", f"{len(data)} bytes do not fit the largest bucket ({BUCKETS[-1] - LENGTH_BYTES})")
    return len(data).to_bytes(LENGTH_BYTES, "big") + data + bytes(bucket - need)


def unpad(padded: bytes) -> bytes:
    """The data `pad` wrapped; refuses a size that is not a bucket, a length past the end and non-zero filling."""
    if len(padded) not in BUCKETS:
        raise InputError("body", f"{len(padded)} bytes is not a bucket size {BUCKETS}")
    n = int.from_bytes(padded[:LENGTH_BYTES], "big")
    if LENGTH_BYTES + n > len(padded):
        raise InputError("body", f"the length {n} runs past the bucket")
    if any(padded[LENGTH_BYTES + n :]):
        raise InputError("body", "the padding is not zeros")
    return padded[LENGTH_BYTES : LENGTH_BYTES + n]


def seal(sender: TradeKey, recipient: str, body: dict) -> bytes:
    """The envelope of `body` (checked first) from `sender` to the mailbox `recipient`."""
    body = parse_body(body)
    to = PublicKey(bytes.fromhex(parse_key("recipient", recipient)))
    inner = Box(sender.private, to).encrypt(pad(canonical(body)))
    return SealedBox(to).encrypt(bytes(sender.private.public_key) + bytes(inner))


def open_envelope(recipient: TradeKey, ciphertext: object) -> tuple[str, dict]:
    """(the sender's one-time public key, the checked body) of an envelope sent to `recipient`'s mailbox."""
    check_ciphertext("ciphertext", ciphertext)
    try:
        opened = SealedBox(recipient.private).decrypt(ciphertext)
    except CryptoError:
        raise InputError("ciphertext", "does not open with this mailbox's key (another's, or altered)") from None
    sender, inner = opened[:KEY_BYTES], opened[KEY_BYTES:]
    try:
        padded = Box(recipient.private, PublicKey(sender)).decrypt(inner)
    except CryptoError:
        raise InputError("ciphertext", "the inner box does not open from the key it names") from None
    try:
        body = json.loads(unpad(padded))
    except ValueError as e:
        if isinstance(e, InputError):
            raise
        raise InputError("body", "is not JSON") from None
    return sender.hex(), parse_body(body)


def check_ciphertext(field: str, value: object) -> bytes:
    """An envelope's bytes: one of CIPHERTEXT_SIZES long (what the board checks; it cannot check more)."""
    if not isinstance(value, bytes):
        raise InputError(field, f"expected bytes, got {type(value).__name__}")
    if len(value) not in CIPHERTEXT_SIZES:
        raise InputError(field, f"{len(value)} bytes is not an envelope size {CIPHERTEXT_SIZES}")
    return value


# ---- public listings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    """An offer as the board shows it: posted under a one-time key (`key`, the seller's mailbox for it)."""

    key: str
    community: str
    energy_wh: int
    first_interval: int
    intervals: int
    price_min_wei_per_kwh: int
    price_max_wei_per_kwh: int
    token: str
    expires: int  # unix time [s] after which the board no longer shows it

    def to_json(self) -> dict:
        return asdict(self)


LISTING_FIELDS = tuple(Listing.__dataclass_fields__)


def parse_listing(j: object) -> Listing:
    """A listing from JSON; exactly its fields, each checked."""
    fields = _exact_fields("listing", j, LISTING_FIELDS)
    energy = check_int("energy_wh", fields["energy_wh"], ENERGY_STEP_WH, MAX_ENERGY_WH)
    if energy % ENERGY_STEP_WH:
        raise InputError("energy_wh", f"{energy} is not a multiple of {ENERGY_STEP_WH} Wh")
    low = check_int("price_min_wei_per_kwh", fields["price_min_wei_per_kwh"], 0, MAX_PRICE)
    high = check_int("price_max_wei_per_kwh", fields["price_max_wei_per_kwh"], 0, MAX_PRICE)
    if high < low:
        raise InputError("price_max_wei_per_kwh", f"{high} is below price_min_wei_per_kwh {low}")
    return Listing(
        parse_key("key", fields["key"]),
        check_id("community", fields["community"]),
        energy,
        check_int("first_interval", fields["first_interval"], 0, MAX_TIME),
        check_int("intervals", fields["intervals"], 1, MAX_INTERVALS),
        low,
        high,
        parse_address("token", fields["token"]),
        check_int("expires", fields["expires"], 0, MAX_TIME),
    )


# ---- the agreed terms ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """A trade as agreed, what the escrow opens: fresh addresses, the arbiter, the payment (token, amount [wei],
    ETH for ether), the seller's meter and the delivery (intervals from first_interval, energy [Wh]), the deadline
    (unix time [s]) to open the escrow by, and a salt (bytes32, 0x-prefixed lowercase hex) that makes the trade's
    id unguessable."""

    buyer: str
    seller: str
    arbiter: str
    token: str
    amount: int
    meter: str
    first_interval: int
    intervals: int
    energy_wh: int
    deadline: int
    salt: str

    def to_json(self) -> dict:
        return asdict(self)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON, hex: what the buyer's confirmation names."""
        return hashlib.sha256(canonical(self.to_json())).hexdigest()


TERMS_FIELDS = tuple(Terms.__dataclass_fields__)


def parse_terms(j: object) -> Terms:
    fields = _exact_fields("terms", j, TERMS_FIELDS)
    salt = fields["salt"]
    parse_hex_bytes("terms.salt", salt, 32)
    if salt != salt.lower():
        raise InputError("terms.salt", "must be lowercase hex")
    return Terms(
        parse_address("terms.buyer", fields["buyer"]),
        parse_address("terms.seller", fields["seller"]),
        parse_address("terms.arbiter", fields["arbiter"]),
        parse_address("terms.token", fields["token"]),
        check_int("terms.amount", fields["amount"], 1, MAX_PRICE * MAX_ENERGY_WH),
        parse_address("terms.meter", fields["meter"]),
        check_int("terms.first_interval", fields["first_interval"], 0, MAX_TIME),
        check_int("terms.intervals", fields["intervals"], 1, MAX_INTERVALS),
        check_int("terms.energy_wh", fields["energy_wh"], 1, MAX_ENERGY_WH),
        check_int("terms.deadline", fields["deadline"], 0, MAX_TIME),
        salt,
    )


def amount_of(price_wei_per_kwh: int, energy_wh: int) -> int:
    """What `energy_wh` costs at `price_wei_per_kwh` [wei], rounded down."""
    return price_wei_per_kwh * energy_wh // 1000


# ---- message bodies -----------------------------------------------------------------------------------------


FIELDS = {
    "bid": ("offer", "price_wei_per_kwh", "buyer"),
    "counter": ("price_wei_per_kwh",),
    "accept": ("terms",),
    "confirm": ("terms_digest",),
    "reject": ("reason",),
    "pad": (),
}


def parse_body(j: object) -> dict:
    """A message body, checked: its kind, its turn (so that a message replayed or moved to another turn is
    refused) and exactly that kind's fields; the canonical form."""
    if not isinstance(j, dict):
        raise InputError("body", f"expected an object, got {type(j).__name__}")
    kind = j.get("kind")
    if kind not in KINDS:
        raise InputError("kind", f"{show(kind)[:40]} is not one of {', '.join(KINDS)}")
    f = _exact_fields(kind, j, ("kind", "turn", *FIELDS[kind]))
    body = {"kind": kind, "turn": check_int("turn", f["turn"], 0, TURNS - 1)}
    if kind == "bid":
        body["offer"] = parse_key("offer", f["offer"])
        body["buyer"] = parse_address("buyer", f["buyer"])
    if kind in ("bid", "counter"):
        body["price_wei_per_kwh"] = check_int("price_wei_per_kwh", f["price_wei_per_kwh"], 0, MAX_PRICE)
    if kind == "accept":
        body["terms"] = parse_terms(f["terms"]).to_json()
    if kind == "confirm":
        digest = f["terms_digest"]
        parse_hex_bytes("terms_digest", digest, 32, require_prefix=False)
        if digest != digest.lower() or digest.startswith("0x"):
            raise InputError("terms_digest", "must be 64 lowercase hex digits")
        body["terms_digest"] = digest
    if kind == "reject":
        if not isinstance(f["reason"], str) or len(f["reason"]) > REASON_MAX_CHARS:
            raise InputError("reason", f"must be a string of at most {REASON_MAX_CHARS} characters")
        body["reason"] = f["reason"]
    return body


def _exact_fields(field: str, j: object, names: tuple[str, ...]) -> dict:
    if not isinstance(j, dict):
        raise InputError(field, f"expected an object, got {type(j).__name__}")
    missing = [n for n in names if n not in j]
    if missing:
        raise InputError(missing[0], "is missing")
    extra = sorted(str(k) for k in j if k not in names)
    if extra:
        raise InputError(extra[0][:40], f"is not a field of {field}")
    return j


# ---- a thread's turns ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Thread:
    """Where a thread stands, as both sides see it: the next turn, the last price proposed (and by whom), the
    terms the seller accepted with (awaiting the buyer's confirmation) and the outcome: open | agreed | rejected."""

    turn: int = 0
    price: int | None = None
    proposer: str | None = None  # "buyer" | "seller"
    terms: Terms | None = None
    outcome: str = "open"

    @property
    def over(self) -> bool:
        return self.turn >= TURNS

    @property
    def whose(self) -> str:
        return "buyer" if self.turn % 2 == 0 else "seller"


def allowed(thread: Thread) -> tuple[str, ...]:
    """The kinds the party whose turn it is may send now."""
    if thread.over:
        return ()
    if thread.outcome != "open":
        return ("pad",)
    if thread.turn == TURNS - 1:
        return LAST_BUYER_KINDS if thread.terms is not None else ("reject",)
    kinds = BUYER_KINDS.get(thread.turn) or SELLER_KINDS[thread.turn]
    if thread.whose == "buyer" and thread.turn > 0 and thread.terms is None:
        kinds = tuple(k for k in kinds if k != "confirm")  # nothing to confirm
    return kinds


def advance(thread: Thread, body: dict) -> Thread:
    """The thread after the party whose turn it is sent `body` (checked); a body that names another turn raises
    InputError("turn"), a kind the turn does not allow InputError("kind"), a confirmation of other terms
    InputError("terms_digest")."""
    if thread.over:
        raise InputError("kind", f"the thread is over ({TURNS} messages)")
    body = parse_body(body)
    if body["turn"] != thread.turn:
        raise InputError("turn", f"is {body['turn']}, the thread is at turn {thread.turn} (replayed or reordered)")
    kind, ok = body["kind"], allowed(thread)
    if kind not in ok:
        raise InputError("kind", f"{kind} is not allowed at turn {thread.turn} (the {thread.whose}'s: {', '.join(ok)})")
    step = replace(thread, turn=thread.turn + 1)
    if kind in ("bid", "counter"):
        return replace(step, price=body["price_wei_per_kwh"], proposer=thread.whose, terms=None)
    if kind == "accept":  # at the buyer's last price: a seller turn always follows the buyer's bid or counter
        terms = parse_terms(body["terms"])
        if terms.amount != amount_of(thread.price or 0, terms.energy_wh):
            raise InputError("terms.amount", f"{terms.amount} is not the buyer's price {thread.price} for the energy")
        return replace(step, terms=terms)
    if kind == "confirm":
        if thread.terms is None or body["terms_digest"] != thread.terms.digest():
            raise InputError("terms_digest", "does not name the terms the seller accepted with")
        return replace(step, outcome="agreed")
    if kind == "reject":
        return replace(step, outcome="rejected", terms=None)
    return step  # pad
