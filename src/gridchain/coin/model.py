"""Twin of contracts/energy_coin.vy: snekmate's ERC-20 with EIP-2612 permit and minter roles, and our minting
against an off-chain payment reference.

Every method takes the caller first and raises `CoinError` with the contract's exact revert reason where the
contract reverts (snekmate's "erc20: ...", "ownable: ...", "ecdsa: ..." and our "energy_coin: ..."), checking
in the contract's order, and then changes nothing. The supply's overflow (2**256) reverts without a reason, as
Vyper's checked addition does: `SUPPLY_OVERFLOW` (""). Amounts are micro-coins (6 decimals). Addresses are
kept lower-case. Permit signatures are checked with our EIP-712 (`gridchain.crypto.eip712`) and key recovery
(`gridchain.crypto.keys`), as ecrecover would: v must be 27 or 28, r and s in 1..n-1, s at most n/2
(snekmate's malleability check comes first).

Invariant: total_supply == sum(balances.values()) (`check_invariant`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gridchain.crypto import eip712
from gridchain.crypto.keys import SECP256K1_N, ecrecover
from gridchain.errors import ContractRevert

DECIMALS = 6
UNIT = 10**DECIMALS  # micro-coins per coin
MAX_UINT256 = 2**256 - 1
ZERO = "0x" + "00" * 20
ZERO32 = b"\x00" * 32
EIP712_VERSION = "1"
SUPPLY_OVERFLOW = ""  # Vyper's checked addition reverts without a reason
MALLEABILITY_THRESHOLD = SECP256K1_N // 2


class CoinError(ContractRevert):
    """A call the contract would revert, with the contract's reason."""


def _fail(ok: bool, reason: str) -> None:
    if not ok:
        raise CoinError(reason)


@dataclass(frozen=True)
class Permit(eip712.TypedStruct):
    """EIP-2612's signed approval, as snekmate's `permit` hashes it."""

    TYPE = "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"

    owner: str
    spender: str
    value: int
    nonce: int
    deadline: int


def domain(name: str, chain_id: int, contract: str) -> eip712.Domain:
    """The coin's EIP-712 domain: its token name, version "1" (snekmate's `eip712_domain_separator`)."""
    return eip712.Domain(name, EIP712_VERSION, chain_id, contract)


@dataclass
class CoinModel:
    """The coin's state: what its public getters show."""

    owner: str
    name: str = "gridchain energy coin"
    symbol: str = "GEC"
    chain_id: int = 1
    address: str = ZERO  # the contract's, for the permit domain
    total_supply: int = 0
    balances: dict[str, int] = field(default_factory=dict)
    allowances: dict[tuple[str, str], int] = field(default_factory=dict)
    nonces: dict[str, int] = field(default_factory=dict)
    minters: set[str] = field(default_factory=set)
    references: set[bytes] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.owner = self.owner.lower()
        self.minters.add(self.owner)  # snekmate: the deployer is a minter

    # -- views -------------------------------------------------------------------------------------------
    def balance_of(self, account: str) -> int:
        return self.balances.get(account.lower(), 0)

    def allowance(self, owner: str, spender: str) -> int:
        return self.allowances.get((owner.lower(), spender.lower()), 0)

    def nonce(self, owner: str) -> int:
        return self.nonces.get(owner.lower(), 0)

    def is_minter(self, account: str) -> bool:
        return account.lower() in self.minters

    def domain(self) -> eip712.Domain:
        return domain(self.name, self.chain_id, self.address)

    def check_invariant(self) -> None:
        assert self.total_supply == sum(self.balances.values()), "total supply != sum of balances"

    # -- ERC-20 ------------------------------------------------------------------------------------------
    def transfer(self, sender: str, to: str, amount: int) -> bool:
        self._transfer(sender.lower(), to.lower(), amount)
        return True

    def approve(self, sender: str, spender: str, amount: int) -> bool:
        self._approve(sender.lower(), spender.lower(), amount)
        return True

    def transfer_from(self, sender: str, owner: str, to: str, amount: int) -> bool:
        owner, to = owner.lower(), to.lower()
        self._check_spend(owner, sender.lower(), amount)
        self._check_transfer(owner, to, amount)
        self._spend_allowance(owner, sender.lower(), amount)
        self._transfer(owner, to, amount)
        return True

    def burn(self, sender: str, amount: int) -> None:
        self._burn(sender.lower(), amount)

    def burn_from(self, sender: str, owner: str, amount: int) -> None:
        owner = owner.lower()
        self._check_spend(owner, sender.lower(), amount)
        _fail(owner != ZERO, "erc20: burn from the zero address")
        _fail(self.balance_of(owner) >= amount, "erc20: burn amount exceeds balance")
        self._spend_allowance(owner, sender.lower(), amount)
        self._burn(owner, amount)

    # -- issuance ----------------------------------------------------------------------------------------
    def mint(self, sender: str, to: str, amount: int) -> None:
        _fail(self.is_minter(sender), "erc20: access is denied")
        self._mint(to.lower(), amount)

    def mint_with_reference(self, sender: str, to: str, amount: int, reference: bytes) -> None:
        _fail(self.is_minter(sender), "erc20: access is denied")
        _fail(amount > 0, "energy_coin: amount is zero")
        _fail(reference != ZERO32, "energy_coin: reference is zero")
        _fail(reference not in self.references, "energy_coin: reference already used")
        self._mint(to.lower(), amount)
        self.references.add(reference)

    def set_minter(self, sender: str, minter: str, status: bool) -> None:
        sender, minter = sender.lower(), minter.lower()
        self._check_owner(sender)
        _fail(minter != ZERO, "erc20: minter is the zero address")
        _fail(minter != sender, "erc20: minter is owner address")
        (self.minters.add if status else self.minters.discard)(minter)

    # -- ownership (snekmate's erc20 moves the minter role with it) --------------------------------------
    def transfer_ownership(self, sender: str, new_owner: str) -> None:
        sender, new_owner = sender.lower(), new_owner.lower()
        self._check_owner(sender)
        _fail(new_owner != ZERO, "erc20: new owner is the zero address")
        self.minters.discard(sender)
        self.owner = new_owner
        self.minters.add(new_owner)

    def renounce_ownership(self, sender: str) -> None:
        self._check_owner(sender.lower())
        self.minters.discard(sender.lower())
        self.owner = ZERO

    # -- EIP-2612 ----------------------------------------------------------------------------------------
    def permit(
        self, sender: str, now: int, owner: str, spender: str, amount: int, deadline: int, v: int, r: int, s: int
    ) -> None:
        """`now`: the block's timestamp [s]. `sender` plays no part (anyone may submit a permit)."""
        owner, spender = owner.lower(), spender.lower()
        _fail(now <= deadline, "erc20: expired deadline")
        digest = eip712.digest(self.domain(), Permit(owner, spender, amount, self.nonce(owner), deadline))
        _fail(s <= MALLEABILITY_THRESHOLD, "ecdsa: invalid signature `s` value")
        signer = ecrecover(digest, v, r, s)
        _fail(signer != ZERO, "ecdsa: invalid signature")
        _fail(signer == owner, "erc20: invalid signature")
        _fail(spender != ZERO, "erc20: approve to the zero address")  # owner != 0: it signed
        self.nonces[owner] = self.nonce(owner) + 1
        self._approve(owner, spender, amount)

    # -- snekmate's internals, in its order --------------------------------------------------------------
    def _check_owner(self, sender: str) -> None:
        _fail(sender == self.owner, "ownable: caller is not the owner")

    def _check_spend(self, owner: str, spender: str, amount: int) -> int:
        """Raise what `_spend_allowance` would; the allowance left after it."""
        current = self.allowance(owner, spender)
        if current == MAX_UINT256:
            return current
        _fail(current >= amount, "erc20: insufficient allowance")
        _fail(owner != ZERO, "erc20: approve from the zero address")  # re-approving what is left
        return current - amount

    def _spend_allowance(self, owner: str, spender: str, amount: int) -> None:
        left = self._check_spend(owner, spender, amount)
        if self.allowance(owner, spender) != MAX_UINT256:
            self._approve(owner, spender, left)

    def _check_transfer(self, owner: str, to: str, amount: int) -> None:
        _fail(owner != ZERO, "erc20: transfer from the zero address")
        _fail(to != ZERO, "erc20: transfer to the zero address")
        _fail(self.balance_of(owner) >= amount, "erc20: transfer amount exceeds balance")

    def _transfer(self, owner: str, to: str, amount: int) -> None:
        self._check_transfer(owner, to, amount)
        self.balances[owner] = self.balance_of(owner) - amount
        self.balances[to] = self.balance_of(to) + amount

    def _mint(self, to: str, amount: int) -> None:
        _fail(to != ZERO, "erc20: mint to the zero address")
        _fail(self.total_supply + amount <= MAX_UINT256, SUPPLY_OVERFLOW)
        self.total_supply += amount
        self.balances[to] = self.balance_of(to) + amount

    def _burn(self, owner: str, amount: int) -> None:
        _fail(owner != ZERO, "erc20: burn from the zero address")
        _fail(self.balance_of(owner) >= amount, "erc20: burn amount exceeds balance")
        self.balances[owner] = self.balance_of(owner) - amount
        self.total_supply -= amount

    def _approve(self, owner: str, spender: str, amount: int) -> None:
        _fail(owner != ZERO, "erc20: approve from the zero address")
        _fail(spender != ZERO, "erc20: approve to the zero address")
        self.allowances[(owner, spender)] = amount
