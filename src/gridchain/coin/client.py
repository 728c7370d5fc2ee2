"""The energy coin (contracts/energy_coin.vy) through any gateway, and EIP-2612 permits signed with a local key."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import keccak

from gridchain.chain.client import ContractClient
from gridchain.chain.gateway import Gateway, Receipt
from gridchain.coin.model import Permit, domain
from gridchain.crypto import eip712
from gridchain.crypto.keys import address_of, sign_digest

CONTRACT = "energy_coin"
DEFAULT_NAME, DEFAULT_SYMBOL = "gridchain energy coin", "GEC"


def payment_reference(text: str) -> bytes:
    """An off-chain payment id (a bank transfer's reference) as the 32 bytes `mint_with_reference` takes."""
    return keccak(text=text)


@dataclass(frozen=True)
class SignedPermit:
    """An owner's signed approval (EIP-2612) with its signature as the contract takes it: v (27/28), r, s."""

    permit: Permit
    v: int
    r: bytes
    s: bytes

    def as_args(self) -> list:
        p = self.permit
        return [p.owner, p.spender, p.value, p.deadline, self.v, self.r, self.s]


def sign_permit(
    owner_key: bytes | str, coin_domain: eip712.Domain, spender: str, amount: int, nonce: int, deadline: int
) -> SignedPermit:
    """The key's owner allows `spender` `amount` micro-coins until `deadline` [s], with its current `nonce`."""
    permit = Permit(address_of(owner_key), spender, amount, nonce, deadline)
    signature = sign_digest(owner_key, eip712.digest(coin_domain, permit))
    return SignedPermit(permit, signature[64], signature[:32], signature[32:64])


class CoinClient(ContractClient):
    CONTRACT = CONTRACT

    @classmethod
    def deploy(
        cls, gateway: Gateway, owner: str, name: str = DEFAULT_NAME, symbol: str = DEFAULT_SYMBOL
    ) -> tuple[CoinClient, Receipt]:
        return cls._deploy(gateway, owner, [name, symbol])

    # -- the treasury ------------------------------------------------------------------------------------
    def mint(self, minter: str, to: str, amount: int, reference: bytes | None = None) -> Receipt:
        """Mint `amount` micro-coins to `to`; with `reference` (32 bytes), against that off-chain payment, once."""
        if reference is None:
            return self._tx("mint", [to, amount], minter)
        return self._tx("mint_with_reference", [to, amount, reference], minter)

    def set_minter(self, owner: str, minter: str, status: bool) -> Receipt:
        return self._tx("set_minter", [minter, status], owner)

    def transfer_ownership(self, owner: str, new_owner: str) -> Receipt:
        return self._tx("transfer_ownership", [new_owner], owner)

    # -- holders -----------------------------------------------------------------------------------------
    def transfer(self, sender: str, to: str, amount: int) -> Receipt:
        return self._tx("transfer", [to, amount], sender)

    def approve(self, owner: str, spender: str, amount: int) -> Receipt:
        return self._tx("approve", [spender, amount], owner)

    def transfer_from(self, spender: str, owner: str, to: str, amount: int) -> Receipt:
        return self._tx("transferFrom", [owner, to, amount], spender)

    def burn(self, holder: str, amount: int) -> Receipt:
        return self._tx("burn", [amount], holder)

    def burn_from(self, spender: str, owner: str, amount: int) -> Receipt:
        return self._tx("burn_from", [owner, amount], spender)

    def domain(self) -> eip712.Domain:
        return domain(self.name(), self.chain_id(), self.address)

    def sign_permit(self, owner_key: bytes | str, spender: str, amount: int, deadline: int) -> SignedPermit:
        """A permit from the key's account with its nonce on chain now."""
        return sign_permit(owner_key, self.domain(), spender, amount, self.nonce(address_of(owner_key)), deadline)

    def permit(self, sender: str, signed: SignedPermit) -> Receipt:
        """Submit a signed permit (anyone may: a relayer, the spender)."""
        return self._tx("permit", signed.as_args(), sender)

    # -- reads -------------------------------------------------------------------------------------------
    def balance_of(self, account: str) -> int:
        return int(self.view("balanceOf", account))

    def total_supply(self) -> int:
        return int(self.view("totalSupply"))

    def allowance(self, owner: str, spender: str) -> int:
        return int(self.view("allowance", owner, spender))

    def nonce(self, owner: str) -> int:
        return int(self.view("nonces", owner))

    def is_minter(self, account: str) -> bool:
        return bool(self.view("is_minter", account))

    def owner(self) -> str:
        return str(self.view("owner"))

    def reference_used(self, reference: bytes) -> bool:
        return bool(self.view("reference_used", reference))

    def name(self) -> str:
        return str(self.view("name"))

    def decimals(self) -> int:
        return int(self.view("decimals"))
