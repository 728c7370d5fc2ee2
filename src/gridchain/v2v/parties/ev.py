"""The EVs of a V2V trade: the consumer and the provider, and their off-chain mutual authentication.

Abou El Houda et al., Section III-C: after the auction the consumer signs the access token and sends it,
with its public key, to the winning provider, who checks it before delivering. Here (transport-free; the
HTTP service is `gridchain.v2v.service`):

1. Hello (consumer -> provider): consumer address, public key, token, a fresh 32-byte challenge, and the
   consumer's EIP-191 signature of ACCESS_TAG || token || challenge.
2. The provider checks: the public key is the consumer's address; the signature is by that key; the token
   has not opened a session before (no replay); the token is the one the chain holds for that consumer
   (`token(consumer)`, from `AuctionEnded`) and this provider won that auction; it has not expired.
3. Proof (provider -> consumer): the provider's signature of PROVIDER_TAG || token || challenge, and a
   random session secret; the consumer checks that the signature recovers to the auction's provider on
   chain. Only then does energy flow, and only to requests that carry the session secret (the token is
   public, in `AuctionEnded`, so it cannot stand for the consumer).
4. Delivery in increments: the provider delivers one increment, the consumer signs a cumulative receipt
   (EIP-712, `gridchain.v2v.client`) for what it received, and the provider delivers the next one only once
   it holds that receipt. The provider settles with the last one. The consumer signs only for what arrived,
   so it never pays for energy it did not get. Undelivered energy costs the provider its share of the
   collateral, so a consumer that stops signing costs it one increment's price and the collateral share of
   what was not signed for: the whole collateral if it takes nothing (contracts/v2v_auction.vy;
   docs/security.md, V2V auction).
"""

from __future__ import annotations

import dataclasses
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Protocol

from eth_utils import to_checksum_address

from gridchain.chain.gateway import Receipt
from gridchain.checks import parse_hex_bytes
from gridchain.crypto.keys import (
    address_of,
    address_of_public_key,
    normalize_signature,
    parse_signature,
    public_key_of,
    recover_personal,
    sign_personal,
)
from gridchain.errors import InputError, Refused
from gridchain.v2v.client import SignedReceipt, V2VClient, receipt_signer, sign_receipt

MAX_WH = 2**64 - 1
ACCESS_TAG = b"gridchain.v2v.access"
PROVIDER_TAG = b"gridchain.v2v.provider"


class AuthRefused(Refused):
    """The other EV failed a check of the mutual authentication or the delivery; `reason` says which."""


def _sign(key: str, tag: bytes, token: bytes, challenge: bytes) -> bytes:
    """The EIP-191 personal signature of tag || token || challenge."""
    return sign_personal(key, tag + token + challenge)


def _signer(tag: bytes, token: bytes, challenge: bytes, signature: bytes) -> str:
    try:
        signature = normalize_signature(signature)  # v = 0/1 or 27/28, or EIP-2098's 64 bytes
        return recover_personal(tag + token + challenge, signature)
    except Exception as e:  # a malformed signature is a failed check, not a crash
        raise AuthRefused(f"signature is malformed: {e}") from None


def signature_from(value: object, name: str = "signature") -> bytes:
    """A signature from JSON in any standard form, normalised (`gridchain.crypto.keys.normalize_signature`);
    AuthRefused naming `name` if it is malformed."""
    try:
        return parse_signature(value, name)
    except InputError as e:
        raise AuthRefused(str(e)) from None


@dataclass(frozen=True)
class Hello:
    consumer: str
    public_key: bytes  # 64 bytes, uncompressed secp256k1 point without the 0x04 prefix
    token: bytes
    challenge: bytes
    signature: bytes

    def to_json(self) -> dict:
        return {
            "consumer": self.consumer,
            "public_key": "0x" + self.public_key.hex(),
            "token": "0x" + self.token.hex(),
            "challenge": "0x" + self.challenge.hex(),
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, body: dict) -> Hello:
        try:
            return cls(
                str(body["consumer"]),
                hex_bytes(body["public_key"], 64),
                hex_bytes(body["token"], 32),
                hex_bytes(body["challenge"], 32),
                signature_from(body["signature"]),
            )
        except KeyError as e:
            raise AuthRefused(f"hello lacks {e.args[0]!r}") from None


@dataclass(frozen=True)
class Proof:
    provider: str
    signature: bytes
    session: bytes  # 32 random bytes: the consumer's key to /deliver and /receipt

    def to_json(self) -> dict:
        return {
            "provider": self.provider,
            "signature": "0x" + self.signature.hex(),
            "session": "0x" + self.session.hex(),
        }

    @classmethod
    def from_json(cls, body: dict) -> Proof:
        try:
            return cls(str(body["provider"]), signature_from(body["signature"]), hex_bytes(body["session"], 32))
        except KeyError as e:
            raise AuthRefused(f"proof lacks {e.args[0]!r}") from None


def hex_bytes(value: object, size: int) -> bytes:
    """`size` bytes from a hex string, 0x-prefixed or not; AuthRefused if it is not that."""
    try:
        return parse_hex_bytes("", value, size, require_prefix=False)
    except InputError as e:
        raise AuthRefused(e.reason) from None


@dataclass
class Session:
    consumer: str
    token: bytes
    amount_wh: int
    expires_at: int
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    delivered_wh: int = 0
    receipt: SignedReceipt | None = None

    @property
    def receipted_wh(self) -> int:
        return self.receipt.delivered_wh if self.receipt else 0


class SessionJournal(Protocol):
    """Where a provider writes a session's changes before it acknowledges them (durable: the provider's store,
    gridchain.v2v.parties.provider_store); each call returns once the change is committed."""

    def opened(self, session: Session) -> None: ...

    def delivered(self, token: bytes, delivered_wh: int) -> None: ...

    def receipted(self, receipt: SignedReceipt) -> None: ...


class ConsumerEV:
    """An EV that buys energy: opens the auction, ends it, authenticates the winner, signs receipts."""

    def __init__(self, client: V2VClient, key: str) -> None:
        self.client, self.key = client, key
        self.address = address_of(key)
        self.public_key = public_key_of(key)

    def start_auction(
        self, amount_wh: int, bidding_time_s: int, start_rate_wei_per_kwh: int, min_collateral_wei: int | None = None
    ) -> Receipt:
        """With the smallest deposit the contract accepts, the cost at the start rate. A bid's collateral is at
        least `min_collateral_wei` (None: the deposit, so the winner stakes what the consumer does); it is what
        the winner forfeits, pro rata, for energy it does not deliver."""
        deposit = self.client.cost(start_rate_wei_per_kwh, amount_wh)
        return self.client.start_auction(
            self.address, amount_wh, bidding_time_s, start_rate_wei_per_kwh, deposit, min_collateral_wei
        )

    def end_auction(self) -> bytes | None:
        return self.client.end_auction(self.address)[0]

    def hello(self, token: bytes) -> Hello:
        challenge = secrets.token_bytes(32)
        return Hello(self.address, self.public_key, token, challenge, _sign(self.key, ACCESS_TAG, token, challenge))

    def check_proof(self, hello: Hello, proof: Proof) -> str:
        """The provider proved it holds the key of the auction's winner; return its address."""
        winner = self.client.auction(self.address).provider
        if proof.provider.lower() != winner:
            raise AuthRefused(f"{proof.provider} is not the provider of this trade ({winner})")
        if _signer(PROVIDER_TAG, hello.token, hello.challenge, proof.signature).lower() != winner:
            raise AuthRefused("the provider's signature of the challenge does not verify")
        return to_checksum_address(winner)

    def receipt(self, token: bytes, delivered_wh: int) -> SignedReceipt:
        return sign_receipt(self.key, self.client.chain_id(), self.client.address, token, delivered_wh)


@dataclass
class ProviderEV:
    """An EV that sells energy: bids, answers the consumer's hello, delivers in increments against receipts.
    With a `journal`, every session, delivery and receipt is written there before the answer that acknowledges
    it (a provider killed after answering restarts with it); without one, they live in `sessions` only."""

    client: V2VClient
    key: str
    increment_wh: int = 2_000
    sessions: dict[bytes, Session] = field(default_factory=dict)
    journal: SessionJournal | None = None

    def __post_init__(self) -> None:
        self.address = address_of(self.key)

    def bid(self, consumer: str, rate_wei_per_kwh: int) -> Receipt:
        collateral = self.client.required_collateral(consumer, rate_wei_per_kwh)
        return self.client.place_bid(self.address, consumer, rate_wei_per_kwh, collateral)

    def end_auction(self, consumer: str) -> bytes | None:
        """End the auction of a consumer that did not, GRACE after its closing time, so that this provider's
        collateral is not locked: the access token (the trade then settles without forfeiture)."""
        return self.client.end_auction(consumer, self.address)[0]

    def authenticate(self, hello: Hello, now: int) -> Proof:
        """Check the consumer's hello (step 2 above) and prove this provider's key; opens a session."""
        from_key = address_of_public_key(hello.public_key)
        if from_key.lower() != hello.consumer.lower():
            raise AuthRefused(f"the public key is {from_key}'s, not the consumer {hello.consumer}'s")
        if _signer(ACCESS_TAG, hello.token, hello.challenge, hello.signature) != from_key:
            raise AuthRefused("the token's signature is not by that public key")
        if hello.token in self.sessions:
            raise AuthRefused("token already used: a session was opened with it (replay)")
        on_chain = self.client.token(hello.consumer)
        if on_chain != hello.token:
            raise AuthRefused("the token is not the one on chain for this consumer (foreign or forged)")
        trade = self.client.auction(hello.consumer)
        if trade.provider != self.address.lower():
            raise AuthRefused(f"this provider did not win the consumer's auction (won by {trade.provider})")
        expires_at = trade.ended_at + self.client.validity_s
        if now >= expires_at:
            raise AuthRefused(f"the token expired at {expires_at} (now {now})")
        session = Session(to_checksum_address(hello.consumer), hello.token, trade.amount_wh, expires_at)
        if self.journal is not None:
            self.journal.opened(session)
        self.sessions[hello.token] = session
        return Proof(self.address, _sign(self.key, PROVIDER_TAG, hello.token, hello.challenge), session.secret)

    def _session(self, token: bytes, secret: bytes, now: int) -> Session:
        session = self.sessions.get(token)
        if session is None:
            raise AuthRefused("no session for this token: authenticate first")
        if not hmac.compare_digest(secret, session.secret):
            raise AuthRefused("wrong session secret: only the authenticated consumer may ask for energy")
        if now >= session.expires_at:
            raise AuthRefused(f"the token expired at {session.expires_at} (now {now})")
        return session

    def deliver(self, token: bytes, secret: bytes, now: int) -> int:
        """Deliver the next increment; return the energy delivered so far [Wh]."""
        s = self._session(token, secret, now)
        if s.delivered_wh > s.receipted_wh:
            raise AuthRefused(f"waiting for the receipt of {s.delivered_wh} Wh before delivering more")
        if s.delivered_wh >= s.amount_wh:
            raise AuthRefused(f"the whole amount ({s.amount_wh} Wh) is delivered")
        delivered = min(s.amount_wh, s.delivered_wh + self.increment_wh)
        if self.journal is not None:
            self.journal.delivered(token, delivered)
        s.delivered_wh = delivered
        return s.delivered_wh

    def accept_receipt(self, receipt: SignedReceipt, secret: bytes, now: int) -> int:
        """Keep the consumer's receipt for what was delivered; return the energy receipted [Wh]."""
        s = self._session(receipt.token, secret, now)
        if not 0 <= receipt.delivered_wh <= MAX_WH:
            raise AuthRefused(f"delivered_wh must be 0 .. 2**64 - 1, got {receipt.delivered_wh}")
        try:  # kept normalised (v = 27/28, 65 bytes), the form the settlement's compact() takes
            receipt = dataclasses.replace(receipt, signature=normalize_signature(receipt.signature))
            signer = receipt_signer(self.client.chain_id(), self.client.address, receipt)
        except Exception as e:  # an unrecoverable signature is a refusal, not a crash
            raise AuthRefused(f"the receipt's signature is malformed: {e}") from None
        if signer.lower() != s.consumer.lower():
            raise AuthRefused(f"the receipt is signed by {signer}, not by the consumer {s.consumer}")
        if receipt.delivered_wh != s.delivered_wh:
            raise AuthRefused(f"the receipt says {receipt.delivered_wh} Wh; {s.delivered_wh} Wh were delivered")
        if self.journal is not None:
            self.journal.receipted(receipt)
        s.receipt = receipt
        return s.receipted_wh

    def settle(self, token: bytes) -> Receipt:
        s = self.sessions.get(token)
        if s is None or s.receipt is None:
            raise AuthRefused("no receipt to settle with")
        return self.client.settle(self.address, s.consumer, s.receipt)

    def post_receipt(self, token: bytes) -> Receipt:
        s = self.sessions.get(token)
        if s is None or s.receipt is None:
            raise AuthRefused("no receipt to post")
        return self.client.post_receipt(self.address, s.consumer, s.receipt)
