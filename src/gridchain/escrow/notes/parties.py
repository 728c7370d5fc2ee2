"""The programs around a notes pool: the depositor (a long-term account that funds one fresh address per trade),
the issuer (the operator's signing service: one RSA key per epoch, a blind signature per proven deposit) and the
relayer (submits redemptions and earns the fee the fresh address signed).

The flow: the depositor picks a fresh key, computes the note's message (pool, epoch, fresh address), blinds it,
deposits one denomination with the blinded message's hash, and proves the deposit to the issuer by signing the
blinded message with its long-term key; the issuer checks the Deposited event and the proof, signs the blinded
message once per deposit, and never sees the fresh address; the depositor unblinds and keeps the note; from the
next epoch on the fresh key signs a consent for a relayer's fee, and the relayer redeems it.

What is linkable is outside the contract: the depositor's request to the issuer (over a channel that names it: the
proof does) carries only the blinded value; the fresh address's consent reaches the relayer without the
depositor's identity (the relayer should be reached over a channel that does not name it, e.g. the negotiation's
board). Timing is the depositor's to hide: redeem at a random later time, not right at the epoch's turn.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from eth_account import Account
from eth_utils import keccak, to_canonical_address, to_checksum_address

from gridchain.crypto import blind
from gridchain.crypto.keys import Key, address_of, recover_digest, recover_personal, sign_digest, sign_personal
from gridchain.errors import InputError, Refused
from gridchain.escrow.notes.client import NotesClient
from gridchain.escrow.notes.model import ZERO

PROOF_TAG = b"gridchain.note.deposit.v1"


def proof_message(pool: str, epoch: int, blinded: int) -> bytes:
    """What the depositor signs (personal_sign) to prove a deposit is its own: the tag, the pool, the epoch and
    the blinded message (256 bytes)."""
    return PROOF_TAG + to_canonical_address(pool) + epoch.to_bytes(32, "big") + blinded.to_bytes(256, "big")


@dataclass(frozen=True)
class SignRequest:
    """What the issuer gets: the deposit's transaction, the blinded message and the depositor's proof."""

    pool: str
    tx_hash: str
    blinded: int
    proof: bytes


@dataclass(frozen=True)
class Note:
    """A note ready to redeem: its epoch, the fresh key it pays, and the issuer's token on it."""

    epoch: int
    fresh_key: bytes
    token: int

    @property
    def fresh(self) -> str:
        return address_of(self.fresh_key)


@dataclass(frozen=True)
class Order:
    """A redemption as the relayer gets it: the note, the fee and the fresh address's consent."""

    epoch: int
    fresh: str
    fee: int
    relayer: str  # ZERO: anyone
    token: int
    signature: bytes


@dataclass
class Pending:
    """A deposit made, waiting for the issuer's blind signature."""

    epoch: int
    fresh_key: bytes
    state: blind.Blinded
    public: blind.PublicKey
    tx_hash: str


class Depositor:
    """A long-term account that funds fresh addresses through the pool (`key` signs the deposit proofs)."""

    def __init__(self, client: NotesClient, account: str, key: Key, rng: secrets.SystemRandom | None = None):
        self.client, self.account, self.key = client, to_checksum_address(account), key
        self.rng = rng
        self.pending: list[Pending] = []

    def deposit(self, fresh_key: bytes | None = None) -> Pending:
        """Blind the note of a fresh key (`fresh_key`, or a new one) for the current epoch under the epoch's key and
        deposit."""
        epoch = self.client.epoch()
        public = self.client.epoch_public_key(epoch)
        if public is None:
            raise Refused("no key registered for the epoch", "epoch")
        fresh_key = Account.create().key if fresh_key is None else fresh_key
        state = blind.blind(public, self.client.note_message(epoch, address_of(fresh_key)), self.rng)
        receipt = self.client.deposit(self.account, epoch, keccak(state.blinded.to_bytes(256, "big")))
        pending = Pending(epoch, bytes(fresh_key), state, public, receipt.tx_hash)
        self.pending.append(pending)
        return pending

    def request(self, pending: Pending) -> SignRequest:
        """The issuer's request for a deposit: the blinded message and the proof, signed by the long-term key."""
        proof = sign_personal(self.key, proof_message(self.client.address, pending.epoch, pending.state.blinded))
        return SignRequest(self.client.address, pending.tx_hash, pending.state.blinded, proof)

    def finish(self, pending: Pending, blind_signature: int) -> Note:
        """Unblind and verify (RFC 9474 Finalize): the note."""
        token = blind.finalize(pending.public, pending.state, blind_signature)
        self.pending.remove(pending)
        return Note(pending.epoch, pending.fresh_key, token)

    @staticmethod
    def order(client: NotesClient, note: Note, fee: int, relayer: str = ZERO) -> Order:
        """The fresh key's consent to redeem `note` through `relayer` (ZERO: anyone) for `fee`."""
        signature = sign_digest(note.fresh_key, client.redemption_hash(note.epoch, fee, relayer))
        return Order(note.epoch, note.fresh, fee, relayer, note.token, signature)


@dataclass
class Issuer:
    """The signing service: registers one key per epoch and blind-signs once per proven deposit."""

    client: NotesClient
    account: str  # the pool's ISSUER (a Safe's delegate in production)
    keys: dict[int, blind.PrivateKey] = field(default_factory=dict)
    answered: set[tuple[str, int]] = field(default_factory=set)  # (tx hash, log index) of deposits signed for

    def register(self, epoch: int, key: blind.PrivateKey | None = None) -> blind.PublicKey:
        key = key or blind.PrivateKey.generate()
        self.client.register_epoch_key(self.account, epoch, key.public)
        self.keys[epoch] = key
        return key.public

    def sign(self, request: SignRequest) -> int:
        """The blind signature for a deposit whose Deposited event names the proof's signer and the blinded
        message's hash; once per deposit. Refused (naming the field) otherwise."""
        if request.pool.lower() != self.client.address.lower():
            raise Refused("another pool", "pool")
        if not 0 < request.blinded < 1 << blind.MODULUS_BITS:
            raise InputError("blinded", "not a 2048-bit integer")
        found = [e for e in self.client.deposited_events() if e.tx_hash == request.tx_hash]
        if not found:
            raise Refused("no deposit in this transaction", "tx_hash")
        blinded_hash = keccak(request.blinded.to_bytes(256, "big"))
        matching = [e for e in found if bytes(e.args["blinded_hash"]) == blinded_hash]
        if not matching:
            raise Refused("the deposit committed to another blinded message", "blinded")
        event = matching[0]
        epoch = int(event.args["epoch"])
        signer = recover_personal(proof_message(self.client.address, epoch, request.blinded), request.proof, "proof")
        if signer.lower() != str(event.args["depositor"]).lower():
            raise Refused("the proof is not the depositor's", "proof")
        if (event.tx_hash, event.log_index) in self.answered:
            raise Refused("this deposit has been signed for", "tx_hash")
        key = self.keys.get(epoch)
        if key is None:
            raise Refused("no key of this service for the deposit's epoch", "epoch")
        if request.blinded >= key.public.n:
            raise InputError("blinded", "not below the epoch key's modulus")
        signature = blind.blind_sign(key, request.blinded)
        self.answered.add((event.tx_hash, event.log_index))
        return signature


@dataclass
class Relayer:
    """Submits redemptions from its funded account and earns their fees; checks an order before paying gas."""

    client: NotesClient
    account: str
    min_fee: int = 0
    earned: int = 0

    def submit(self, order: Order):
        """Redeem `order`: refused before sending if the fee is below `min_fee`, the relayer named is another,
        the consent is not the fresh address's or the token does not verify under the epoch's key."""
        if order.fee < self.min_fee:
            raise Refused(f"fee below {self.min_fee}", "fee")
        if order.relayer.lower() not in (ZERO, self.account.lower()):
            raise Refused("the order names another relayer", "relayer")
        h = self.client.redemption_hash(order.epoch, order.fee, order.relayer)
        if recover_digest(h, order.signature, "signature").lower() != order.fresh.lower():
            raise Refused("the consent is not the fresh address's", "signature")
        public = self.client.epoch_public_key(order.epoch)
        if public is None or not blind.verify(public, self.client.note_message(order.epoch, order.fresh), order.token):
            raise Refused("the token does not verify under the epoch's key", "token")
        receipt = self.client.redeem(
            self.account, order.epoch, order.fresh, order.fee, order.relayer, order.token, order.signature
        )
        self.earned += order.fee
        return receipt
