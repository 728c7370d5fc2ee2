"""Twin of contracts/trade_notes.vy: one pool of fixed-denomination notes; per-epoch deposit and redemption counts,
the epochs' RSA keys, spent fresh addresses, ETH credit for refused pushes, and `register_epoch_key`, `deposit`,
`redeem`, `withdraw` with the contract's checks in its order and its exact revert reasons.

Every method takes the caller first and the block's time where the contract reads it, and raises `NotesError`
with the contract's reason where the contract reverts, changing nothing. Whether an address refuses ETH is given
(`rejects`: its pushes fail and are credited); the coin's own checks (allowance, balance) are outside: the twin
assumes a funded, approved depositor. Addresses are kept lower-case.

The note's message (what the issuer blind-signs, without seeing it) is `note_seed`'s full-domain hash
(`gridchain.crypto.blind.fdh`): the tag "gridchain.note.v1", the chain, the pool, the epoch and the fresh address.

Invariant (`check_invariant`): held = DENOMINATION x (deposits - redemptions) + credit; per epoch redemptions <=
deposits; deposited = paid to fresh addresses + fees + credited + held-for-notes (counted at each payout).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_canonical_address

from gridchain.crypto import blind, eip712
from gridchain.crypto.keys import ecrecover, split_signature
from gridchain.errors import ContractRevert

NAME, VERSION = "gridchain trade notes", "1"
NOTE_TAG = keccak(b"gridchain.note.v1")
EPOCH_SECONDS = blind.EPOCH_SECONDS
KEY_CODE_BYTES = 1 + blind.MODULUS_BYTES  # an epoch key contract's code: 0x00 (STOP) || n
ZERO = "0x" + "00" * 20
ETH = ZERO
INVALID_SIGNATURE = "ecdsa: invalid signature"  # snekmate's, where ecrecover finds nobody


class NotesError(ContractRevert):
    """A call the contract would revert, with the contract's reason."""


def _fail(ok: bool, reason: str) -> None:
    if not ok:
        raise NotesError(f"trade_notes: {reason}")


@dataclass(frozen=True)
class Redemption(eip712.TypedStruct):
    """What a fresh address signs to let `relayer` (ZERO: anyone) redeem its note of `epoch` for `fee`."""

    TYPE = "Redemption(uint256 epoch,uint256 fee,address relayer)"

    epoch: int
    fee: int
    relayer: str


@dataclass(frozen=True)
class Payout:
    """One transfer out: `to` gets `amount`, or is credited it (`credited`: an ETH push it refused)."""

    to: str
    amount: int
    credited: bool = False
    escrowed: bool = False  # into `to`'s coin balance in the pool's escrow (an escrow pool's note)


def domain(chain_id: int, pool: str) -> eip712.Domain:
    return eip712.Domain(NAME, VERSION, chain_id, pool)


def note_seed(chain_id: int, pool: str, epoch: int, fresh: str) -> bytes:
    """The 32-byte seed of a note's full-domain hash."""
    return keccak(
        abi_encode(
            ["bytes32", "uint256", "address", "uint256", "address"],
            [NOTE_TAG, chain_id, to_canonical_address(pool), epoch, to_canonical_address(fresh)],
        )
    )


def note_message(chain_id: int, pool: str, epoch: int, fresh: str) -> int:
    """The note's message representative: the integer the issuer's token must be the e-th root of."""
    return blind.fdh(note_seed(chain_id, pool, epoch, fresh))


def split(signature: bytes) -> tuple[int, int, int]:
    """(v in {27, 28}, r, s) of a signature as the contract normalises it, or its revert."""
    try:
        return split_signature(signature)
    except ValueError as e:
        raise NotesError(f"trade_notes: {e}") from None


def recover(h: bytes, signature: bytes) -> str:
    """The contract's `_recover`: the signer of `h` (lower case), or its revert."""
    signer = ecrecover(h, *split(signature))
    if signer == ZERO:
        raise NotesError(INVALID_SIGNATURE)
    return signer.lower()


@dataclass
class NotesModel:
    """A pool's state: what its getters show, plus the books the invariant checks."""

    coin: str  # ETH (ZERO) or the coin's address
    denomination: int
    issuer: str
    chain_id: int = 1
    address: str = ZERO
    escrow: str = ZERO  # an escrow pool pays notes into the fresh address's coin balance there
    deposits: dict[int, int] = field(default_factory=dict)
    redemptions: dict[int, int] = field(default_factory=dict)
    spent: set[str] = field(default_factory=set)
    credit: dict[str, int] = field(default_factory=dict)
    held: int = 0
    keys: dict[int, int] = field(default_factory=dict)  # epoch -> modulus
    rejects: set[str] = field(default_factory=set)  # recipients whose ETH push fails
    deposited: int = 0  # books: in
    paid_fresh: int = 0  # out to fresh addresses (pushed or credited)
    fees: int = 0  # out to relayers (pushed or credited)

    def __post_init__(self) -> None:
        self.coin, self.issuer, self.address = self.coin.lower(), self.issuer.lower(), self.address.lower()
        self.escrow = self.escrow.lower()
        self.rejects = {a.lower() for a in self.rejects}

    @property
    def eth(self) -> bool:
        return self.coin == ETH

    # -- views -------------------------------------------------------------------------------------------
    def domain(self) -> eip712.Domain:
        return domain(self.chain_id, self.address)

    def redemption_hash(self, epoch: int, fee: int, relayer: str) -> bytes:
        return eip712.digest(self.domain(), Redemption(epoch, fee, relayer.lower()))

    def note_seed(self, epoch: int, fresh: str) -> bytes:
        return note_seed(self.chain_id, self.address, epoch, fresh)

    def epoch_key(self, epoch: int) -> bytes:
        n = self.keys.get(epoch)
        return b"\x00" * 32 if n is None else keccak(n.to_bytes(blind.MODULUS_BYTES, "big"))

    def outstanding(self) -> int:
        return sum(self.deposits.values()) - sum(self.redemptions.values())

    def check_invariant(self) -> None:
        assert self.held == self.denomination * self.outstanding() + sum(self.credit.values()), (
            "held is not notes + credit"
        )
        for epoch, n in self.redemptions.items():
            assert n <= self.deposits.get(epoch, 0), f"epoch {epoch} redeemed more notes than were deposited"
        assert self.deposited == self.paid_fresh + self.fees + self.denomination * self.outstanding(), (
            "deposited is not paid to fresh + fees + held"
        )
        assert len(self.spent) == sum(self.redemptions.values()), "a note was spent twice"

    # -- calls -------------------------------------------------------------------------------------------
    def register_epoch_key(self, sender: str, epoch: int, modulus: int, now: int) -> None:
        _fail(sender.lower() == self.issuer, "caller is not the issuer")
        _fail(epoch >= now // EPOCH_SECONDS, "epoch is over")
        _fail(modulus >> (blind.MODULUS_BITS - 1) == 1, "modulus is not 2048 bits")
        _fail(modulus & 1 == 1, "modulus is even")
        _fail(epoch not in self.keys, "epoch key already registered")
        self.keys[epoch] = modulus

    def deposit(self, sender: str, epoch: int, blinded_hash: bytes, value: int, now: int) -> int:
        """The note's epoch, or the contract's revert."""
        _fail(epoch == now // EPOCH_SECONDS, "deposit epoch is not the current one")
        _fail(blinded_hash != b"\x00" * 32, "blinded hash is zero")
        if self.eth:
            _fail(value == self.denomination, "value is not the denomination")
        else:
            _fail(value == 0, "value sent to a coin pool")
        _fail(epoch in self.keys, "no key registered for the epoch")
        self.deposits[epoch] = self.deposits.get(epoch, 0) + 1
        self.held += self.denomination
        self.deposited += self.denomination
        return epoch

    def redeem(
        self, sender: str, epoch: int, fresh: str, fee: int, relayer: str, token: int, signature: bytes, now: int
    ) -> list[Payout]:
        """The payouts (fresh address first, then the caller's fee; none of 0), or the contract's revert. An escrow
        pool's payout to the fresh address is `escrowed` (into its escrow balance)."""
        sender, fresh, relayer = sender.lower(), fresh.lower(), relayer.lower()
        _fail(fresh != ZERO, "fresh is the zero address")
        _fail(epoch < now // EPOCH_SECONDS, "note epoch not over")
        _fail(fee <= self.denomination, "fee above the denomination")
        _fail(relayer in (ZERO, sender), "caller is not the named relayer")
        if sender != fresh:
            signer = recover(self.redemption_hash(epoch, fee, relayer), signature)
            _fail(signer == fresh, "redemption not signed by the fresh address")
        _fail(fresh not in self.spent, "note already redeemed")
        redeemed = self.redemptions.get(epoch, 0)
        _fail(redeemed < self.deposits.get(epoch, 0), "epoch exhausted")
        _fail(epoch in self.keys, "no key registered for the epoch")
        n = self.keys[epoch]
        _fail(0 <= token < n, "token is not below the modulus")
        _fail(
            pow(token, blind.E, n) == note_message(self.chain_id, self.address, epoch, fresh), "token does not verify"
        )
        self.spent.add(fresh)
        self.redemptions[epoch] = redeemed + 1
        self.held -= self.denomination
        to_fresh = self.denomination - fee
        fresh_payout = Payout(fresh, to_fresh, escrowed=True) if self.escrow != ZERO and to_fresh else None
        payouts = [fresh_payout or self._pay(fresh, to_fresh), self._pay(sender, fee)]
        self.paid_fresh += self.denomination - fee
        self.fees += fee
        return [p for p in payouts if p is not None]

    def withdraw(self, sender: str, to: str) -> int:
        """The amount sent; a `to` that refuses ETH reverts the whole call (not modelled: `rejects` is for pushes)."""
        sender = sender.lower()
        amount = self.credit.get(sender, 0)
        _fail(amount != 0, "no credit")
        _fail(to.lower() != ZERO, "to is the zero address")
        del self.credit[sender]
        self.held -= amount
        return amount

    # -- internals ---------------------------------------------------------------------------------------
    def _pay(self, to: str, amount: int) -> Payout | None:
        if amount == 0:
            return None
        if self.eth and to in self.rejects:
            self.credit[to] = self.credit.get(to, 0) + amount
            self.held += amount
            return Payout(to, amount, credited=True)
        return Payout(to, amount)
