"""A notes pool (contracts/trade_notes.vy) through any gateway: deploy, register an epoch key, deposit, redeem,
withdraw, and the reads the parties need (counts, spent notes, the epochs' keys, Deposited events)."""

from __future__ import annotations

from eth_utils import keccak, to_checksum_address

from gridchain.chain.client import ContractClient
from gridchain.chain.gateway import Event, Gateway, Receipt
from gridchain.crypto import blind, eip712
from gridchain.crypto.keys import normalize_signature
from gridchain.errors import InputError
from gridchain.escrow.notes.model import EPOCH_SECONDS, ETH, KEY_CODE_BYTES, ZERO, Redemption, domain, note_message

CONTRACT = "trade_notes"


def words(value: int, field: str = "value") -> list[int]:
    """A 2048-bit integer as the contract's 8 big-endian words (InputError naming `field` if out of range)."""
    if not 0 <= value < 1 << blind.MODULUS_BITS:
        raise InputError(field, "not a 2048-bit integer")
    raw = value.to_bytes(blind.MODULUS_BYTES, "big")
    return [int.from_bytes(raw[i : i + 32], "big") for i in range(0, blind.MODULUS_BYTES, 32)]


class NotesClient(ContractClient):
    CONTRACT = CONTRACT

    @classmethod
    def deploy(
        cls, gateway: Gateway, deployer: str, coin: str, denomination: int, issuer: str, escrow: str = ZERO
    ) -> tuple[NotesClient, Receipt]:
        """Deploy a pool of `denomination` notes of `coin` (ETH for ETH) whose keys `issuer` registers; with an
        `escrow` (a coin pool), notes pay into the fresh address's coin balance in that trade escrow."""
        return cls._deploy(gateway, deployer, [coin, denomination, issuer, escrow])

    def domain(self) -> eip712.Domain:
        return domain(self.chain_id(), self.address)

    # -- local computations ------------------------------------------------------------------------------
    def note_message(self, epoch: int, fresh: str) -> int:
        """The message representative of the note (epoch, fresh) of this pool: what the issuer blind-signs."""
        return note_message(self.chain_id(), self.address, epoch, fresh)

    def redemption_hash(self, epoch: int, fee: int, relayer: str = ZERO) -> bytes:
        """What the fresh address signs to let `relayer` (ZERO: anyone) redeem its note for `fee`."""
        return eip712.digest(self.domain(), Redemption(epoch, fee, relayer.lower()))

    def epoch(self) -> int:
        """The epoch the next transaction will see."""
        return self.gateway.now() // EPOCH_SECONDS

    # -- transactions ------------------------------------------------------------------------------------
    def register_epoch_key(self, issuer: str, epoch: int, public: blind.PublicKey) -> Receipt:
        return self._tx("register_epoch_key", [epoch, words(public.n, "modulus")], issuer)

    def deposit(self, depositor: str, epoch: int, blinded_hash: bytes) -> Receipt:
        """One denomination in (ETH as value; a coin pool needs the depositor's allowance)."""
        if len(blinded_hash) != 32:
            raise InputError("blinded_hash", "not 32 bytes")
        value = self.denomination() if self.coin() == ETH else 0
        return self._tx("deposit", [epoch, blinded_hash], depositor, value)

    def redeem(
        self, sender: str, epoch: int, fresh: str, fee: int, relayer: str, token: int, signature: bytes = b""
    ) -> Receipt:
        """Submit a note's redemption (the signature normalised unless the fresh address submits itself)."""
        token_words = words(token, "token")
        if signature or sender.lower() != fresh.lower():
            signature = normalize_signature(signature, "signature")
        return self._tx("redeem", [epoch, fresh, fee, relayer, token_words, signature], sender)

    def withdraw(self, sender: str, to: str) -> Receipt:
        return self._tx("withdraw", [to], sender)

    # -- reads -------------------------------------------------------------------------------------------
    def coin(self) -> str:
        """The pool's coin, lower case (ETH: the zero address)."""
        return str(self.view("COIN")).lower()

    def escrow(self) -> str:
        """The escrow whose balances the notes pay into, lower case (ZERO: notes pay the fresh address)."""
        return str(self.view("ESCROW")).lower()

    def denomination(self) -> int:
        return int(self.view("DENOMINATION"))

    def issuer(self) -> str:
        return to_checksum_address(str(self.view("ISSUER")))

    def deposits(self, epoch: int) -> int:
        return int(self.view("deposits", epoch))

    def redemptions(self, epoch: int) -> int:
        return int(self.view("redemptions", epoch))

    def spent(self, fresh: str) -> bool:
        return bool(self.view("spent", fresh))

    def credit(self, account: str) -> int:
        return int(self.view("credit", account))

    def held(self) -> int:
        return int(self.view("held"))

    def epoch_public_key(self, epoch: int) -> blind.PublicKey | None:
        """The key registered for `epoch`, read from its key contract's code; None when there is none."""
        code = self.gateway.code(str(self.view("epoch_key_address", epoch)))
        if len(code) != KEY_CODE_BYTES:
            return None
        public = blind.PublicKey.from_bytes(code[1:])
        assert keccak(code[1:]) == bytes(self.view("epoch_key", epoch))
        return public

    def deposited_events(self, from_block: int = 0) -> list[Event]:
        return self.gateway.events(self.artifact, self.address, "Deposited", from_block)
