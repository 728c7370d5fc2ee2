"""Token issuance: the utility signs blinded pseudonyms for its members, and the ESU's wallet that asks for them.

The exchange (Baza et al., Section V-A, with RFC 9474's checks):
1. The ESU makes fresh one-time pseudonyms, computes each one's full-domain hash under the common message
   (community, epoch) and blinds it; it signs the batch of blinded messages with its long-term key, which the
   utility knows (the member list).
2. The utility checks the signature, the membership and the per-epoch quota, signs each blinded message with
   the (community, epoch) key, and signs its answer with its own long-term key.
3. The ESU checks the answer's signature and that the epoch key is the one registered on chain (a key made
   for this ESU alone would let the utility recognise its tokens), unblinds and verifies every token.

The utility sees identities, blinded messages and times; never a pseudonym or a token (`Issuer.view`).

Keys exist only for the utility's own communities (the coordinators it signs for: `add_community`, `admit`)
and for the epochs from today to `lookahead_epochs` days ahead: a request for any other (community, epoch),
a public key's too, is refused naming the field before anything is generated or stored, so nobody can make
the utility generate and keep RSA keys at will. Signatures come in any standard form (v = 0/1 or 27/28,
EIP-2098 64 bytes) and are normalised where they enter (`gridchain.crypto.keys`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from gridchain.checks import check_int, parse_address, parse_decimal_int, parse_hex_int
from gridchain.coordination.anonymous.parties.issuer_book import (
    IssuanceRecord,
    IssuerBook,
    MemoryBook,
    NotMember,
    OverQuota,
)
from gridchain.coordination.anonymous.parties.rate_limit import RateLimit
from gridchain.crypto import blind
from gridchain.crypto.keys import address_of, parse_signature, recover_personal, sign_personal
from gridchain.errors import InputError, Refused

ISSUANCE_TAG = keccak(b"gridchain.issuance.request.v1")
ANSWER_TAG = keccak(b"gridchain.issuance.answer.v1")
MAX_BATCH = 64


T = TypeVar("T")


class IssuanceRefused(Refused, InputError):
    """The utility refuses an issuance request; `status` is the HTTP status its service answers with. Also an
    InputError: the request named by `field` is what it refuses."""

    def __init__(self, field: str, reason: str, status: int = 400) -> None:
        InputError.__init__(self, field, reason)
        self.status = status


def request_digest(identity: str, community: str, epoch: int, blinded: list[int]) -> bytes:
    return keccak(
        abi_encode(
            ["bytes32", "address", "address", "uint256", "bytes[]"],
            [ISSUANCE_TAG, identity, community, epoch, [_bytes(z) for z in blinded]],
        )
    )


def answer_digest(request: bytes, blind_signatures: list[int]) -> bytes:
    return keccak(
        abi_encode(["bytes32", "bytes32", "bytes[]"], [ANSWER_TAG, request, [_bytes(s) for s in blind_signatures]])
    )


def _bytes(value: int) -> bytes:
    """A 2048-bit number as the 256 big-endian bytes that are signed (values too large are refused later)."""
    return value.to_bytes(max(blind.MODULUS_BYTES, (value.bit_length() + 7) // 8), "big")


def _sign(key: bytes, digest: bytes) -> str:
    """The EIP-191 personal signature of `digest` (as a wallet's personal_sign makes it), in hex."""
    return "0x" + sign_personal(key, digest).hex()


def _signer(digest: bytes, signature: bytes) -> str:
    """Whom a normalised signature (`gridchain.crypto.keys.normalize_signature`) of `digest` recovers to."""
    return recover_personal(digest, signature)


@dataclass
class Issuer:
    """The utility's issuance desk: one RSA key per (community, epoch), a member list per community, a quota;
    all of it kept in `book` (in memory by default; `issuer_store.IssuerStore` in the deployment's database)."""

    key: bytes  # the utility's long-term secp256k1 key: signs every answer
    quota: int = 4  # tokens per member, community and epoch
    clock: Callable[[], float] = time.time
    lookahead_epochs: int = 1  # keys and tokens for today .. today + lookahead_epochs (UTC days)
    book: IssuerBook = field(default_factory=MemoryBook)
    rate: RateLimit | None = None  # issuance requests per member and minute (None: unlimited)

    @property
    def address(self) -> str:
        return address_of(self.key)

    @property
    def members(self) -> dict[str, set[str]]:
        """Community -> its members, as they are now (a copy: change them with `admit` and `remove`)."""
        return {c: self.book.members(c) for c in self.book.communities()}

    @property
    def view(self) -> list[IssuanceRecord]:
        """Every issuance the utility made, oldest first."""
        return self.book.records()

    @property
    def issued(self) -> dict[tuple[str, int, str], int]:
        """Tokens issued per (community, epoch, identity)."""
        return self.book.counts()

    def add_community(self, community: str, seed: Iterable[str] = ()) -> bool:
        """Serve `community` (a coordinator's address), with or without members yet; the first time only, with
        the members `seed` (True then)."""
        return self.book.add_community(to_checksum_address(community), [to_checksum_address(m) for m in seed])

    def admit(self, community: str, identity: str) -> bool:
        """Admit `identity` to `community` (False: a member already)."""
        self.add_community(community)
        return self.book.admit(to_checksum_address(community), to_checksum_address(identity))

    def remove(self, community: str, identity: str) -> bool:
        """Stop issuing to `identity` in `community` (False: not a member)."""
        return self.book.remove(to_checksum_address(community), to_checksum_address(identity))

    def check_epoch(self, epoch: int) -> None:
        """Refuse (400, naming `epoch`) an epoch outside today .. today + lookahead_epochs."""
        today = blind.epoch_of(int(self.clock()))
        if not today <= epoch <= today + self.lookahead_epochs:
            last = today + self.lookahead_epochs
            raise IssuanceRefused("epoch", f"{epoch} is outside today's epoch {today} .. {last}")

    def epoch_key(self, community: str, epoch: int) -> blind.PrivateKey:
        """The (community, epoch) key pair, made on first use and kept; the utility registers its public half on
        chain. Only for one of its communities and an epoch in the window (IssuanceRefused otherwise, nothing
        made)."""
        community = _refused(parse_address, "community", community)
        if community not in self.book.communities():
            raise IssuanceRefused("community", f"{community} is not a community of this utility", 404)
        self.check_epoch(epoch)
        return self.book.epoch_key(community, epoch, blind.PrivateKey.generate)

    def issue(self, body: dict) -> dict:
        """Answer one issuance request (the JSON the service receives), or raise IssuanceRefused. The tokens are
        counted against the quota (with the record kept) before the answer is returned, in one step with the
        quota check; a refused request issues nothing and counts nothing."""
        identity, community, epoch, blinded, signature = parse_request(body)
        digest = request_digest(identity, community, epoch, blinded)
        signer = _signer(digest, signature)
        if signer != identity:
            raise IssuanceRefused("signature", f"signed by {signer}, not by the identity {identity}", 401)
        if not self.book.is_member(community, identity):
            raise _not_member(identity, community)
        if self.rate is not None and not self.rate.allow(identity):
            per = self.rate.per_minute
            raise IssuanceRefused("identity", f"{identity} sent more than {per} issuance requests in a minute", 429)
        self.check_epoch(epoch)
        self._check_quota(self.book.used(community, epoch, identity), len(blinded), epoch)  # early, before signing
        key = self.epoch_key(community, epoch)
        for i, z in enumerate(blinded):
            if not 0 < z < key.public.n:
                raise IssuanceRefused(f"blinded[{i}]", "not in 1..n-1 for the epoch key", 400)
        signatures = [blind.blind_sign(key, z) for z in blinded]
        record = IssuanceRecord(identity, community, epoch, tuple(blinded), self.clock())
        try:  # the decisive check: in one transaction with the count and the record
            self.book.take(record, self.quota)
        except NotMember:
            raise _not_member(identity, community) from None
        except OverQuota as e:
            self._check_quota(e.used, len(blinded), epoch)
            raise
        return {
            "blind_signatures": [hex(s) for s in signatures],
            "signature": _sign(self.key, answer_digest(digest, signatures)),
        }

    def _check_quota(self, used: int, asked: int, epoch: int) -> None:
        if used + asked > self.quota:
            left = max(0, self.quota - used)
            raise IssuanceRefused(
                "blinded", f"{asked} tokens asked, {left} of {self.quota} left for epoch {epoch}", 429
            )

    def public_key(self, community: object, epoch: object) -> dict:
        """The (community, epoch) public key as the service answers it; `community` and `epoch` as they came
        (strings from the URL, say), each checked with an error naming it."""
        community, epoch = (
            _refused(parse_address, "community", community),
            _refused(parse_decimal_int, "epoch", epoch, 0, 2**64 - 1),
        )
        return {
            "community": community,
            "epoch": epoch,
            "modulus": "0x" + self.epoch_key(community, epoch).public.modulus_bytes.hex(),
        }


def _not_member(identity: str, community: str) -> IssuanceRefused:
    return IssuanceRefused("identity", f"{identity} is not a member of community {community}", 403)


def parse_request(body: object) -> tuple[str, str, int, list[int], bytes]:
    """The fields of an issuance request, each checked with an error that names it."""
    if not isinstance(body, dict):
        raise IssuanceRefused("", "the request must be a JSON object")
    for name in ("identity", "community", "epoch", "blinded", "signature"):
        if name not in body:
            raise IssuanceRefused(name, "missing")
    identity, community = (_refused(parse_address, name, body[name]) for name in ("identity", "community"))
    epoch = check_int("epoch", body["epoch"], 0, 2**64 - 1)
    blinded = body["blinded"]
    if not isinstance(blinded, list) or not 1 <= len(blinded) <= MAX_BATCH:
        raise IssuanceRefused("blinded", f"must be a list of 1..{MAX_BATCH} hex integers")
    values = [_refused(parse_hex_int, f"blinded[{i}]", z) for i, z in enumerate(blinded)]
    try:
        signature = parse_signature(body["signature"], "signature")
    except InputError as e:
        raise IssuanceRefused(e.field, e.reason) from None
    return identity, community, epoch, values, signature


def _refused(parse: Callable[..., T], *args: object) -> T:
    """A shared parser's (gridchain.checks) result; its InputError becomes the issuer's refusal (400)."""
    try:
        return parse(*args)
    except InputError as e:
        raise IssuanceRefused(e.field, e.reason) from None


# ---- the ESU's side ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pseudonym:
    """A one-time account with the utility's token on it: what one anonymous request needs."""

    key: bytes
    address: str
    epoch: int
    token: int


class IssuanceError(Exception):
    """The utility's answer failed a check on the ESU's side (bad signature, wrong key, bad token)."""


@dataclass
class TokenWallet:
    """An ESU's tokens: obtains them from the utility (through `transport`), spends each once."""

    identity_key: bytes
    utility_address: str
    transport: Callable[[dict], dict]  # sends an issuance request, returns the answer (HTTP or in-process)
    unused: dict[tuple[str, int], list[Pseudonym]] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        return address_of(self.identity_key)

    def obtain(self, chain_id: int, community: str, epoch: int, modulus: bytes, registered: bytes, count: int) -> None:
        """Get `count` tokens for (community, epoch). `registered` is the key's keccak256 read from the chain:
        a modulus that differs from it is refused before anything is sent."""
        if keccak(modulus) != registered:
            raise IssuanceError(f"the utility's key for epoch {epoch} is not the one registered on chain")
        public = blind.PublicKey.from_bytes(modulus)
        accounts = [Account.create() for _ in range(count)]
        states = [
            blind.blind(public, blind.fdh(blind.token_seed(chain_id, community, epoch, a.address))) for a in accounts
        ]
        blinded = [s.blinded for s in states]
        community = to_checksum_address(community)
        digest = request_digest(self.identity, community, epoch, blinded)
        answer = self.transport(
            {
                "identity": self.identity,
                "community": community,
                "epoch": epoch,
                "blinded": [hex(z) for z in blinded],
                "signature": _sign(self.identity_key, digest),
            }
        )
        try:  # the answer comes from outside: a malformed one is the utility's failure, not a crash
            signatures = [int(s, 16) for s in answer["blind_signatures"]]
            signer = _signer(answer_digest(digest, signatures), parse_signature(answer["signature"]))
        except (KeyError, TypeError, ValueError, OverflowError) as e:  # InputError is a ValueError
            raise IssuanceError(f"the utility's answer is malformed: {e}") from None
        if len(signatures) != count or signer != self.utility_address:
            raise IssuanceError("the answer is not signed by the utility or does not match the request")
        tokens = [blind.finalize(public, s, z) for s, z in zip(states, signatures)]  # raises on a bad token
        self.unused.setdefault((community, epoch), []).extend(
            Pseudonym(bytes(a.key), a.address, epoch, t) for a, t in zip(accounts, tokens)
        )

    def take(self, community: str, epoch: int) -> Pseudonym:
        left = self.unused.get((to_checksum_address(community), epoch), [])
        if not left:
            raise IssuanceError(f"no unused token for epoch {epoch}")
        return left.pop(0)
