"""The energy coin's harness: contracts/energy_coin.vy deployed with its twin (gridchain.coin.model), every call going
to both through `Mirrored.mirror` (tests/support/mirrored.py); after each success `check` compares everything
observable for the accounts it knows (balances, allowances, nonces, minter roles, owner, supply, references)
and the invariant: the supply equals the sum of the balances, on both sides."""

from __future__ import annotations

import copy

import boa
from eth_abi import encode

from gridchain.coin.client import sign_permit
from gridchain.coin.model import SUPPLY_OVERFLOW, ZERO, CoinError, CoinModel
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import Mirrored
from tests.support.mirrored import refused as _refused

CONTRACT = CONTRACTS / "energy_coin.vy"
NAME, SYMBOL = "gridchain energy coin", "GEC"
EVENTS = ("Transfer", "Approval", "RoleMinterChanged", "OwnershipTransferred", "MintedAgainst")


def deployer():
    return load(CONTRACT)


def deploy(name: str = NAME, symbol: str = SYMBOL):
    """The coin deployed from boa's default account: the init code run directly and the contract taken `at` its
    address, which skips boa's per-deployment source map (a tenth of the time: the machines deploy per example)."""
    d = deployer()
    address, _ = boa.env.deploy_code(bytecode=d.compiler_data.bytecode + encode(["string", "string"], [name, symbol]))
    return d.at(address)


def refused(reason: str, call, *args, **kwargs) -> None:
    """`call` is refused by both sides with exactly `reason` (snekmate's or ours)."""
    with _refused(reason, CoinError):
        call(*args, **kwargs)


class Coin(Mirrored):
    """A deployed energy_coin with its CoinModel twin and holders with keys (to sign permits)."""

    ERROR = CoinError
    EVENTS = EVENTS

    def __init__(self, holders: int = 3):
        self.owner = str(boa.env.eoa)
        self.c = deploy()
        self.address = str(self.c.address)
        self.chain_id = self.c.eip712Domain()[3]
        self.model = CoinModel(self.owner, NAME, SYMBOL, self.chain_id, self.address)
        self.init_accounts()
        self.events: dict[str, list[dict]] = {}
        self.track(self.owner)
        self.holders = [self.new_account() for _ in range(holders)]
        self.keys = {h.address.lower(): bytes(h.key) for h in self.holders}
        self.known = {self.owner.lower(), self.address.lower(), *self.keys}

    # -- calls (sender first, as the model's) -------------------------------------------------------------
    def _call(self, sender, model_fn: str, chain_fn: str, *args):
        sender = str(sender)
        touched = {sender.lower(), *(a.lower() for a in args if isinstance(a, str) and a.startswith("0x"))}
        self.known |= touched
        if model_fn.startswith("mint"):
            self._overflow(sender, model_fn, chain_fn, *args)
        result, out = self.mirror(
            sender, lambda: getattr(self.model, model_fn)(sender, *args), lambda: getattr(self.c, chain_fn)(*args)
        )
        self.check(touched | {self.model.owner})
        return out

    def mint(self, sender, to, amount):
        return self._call(sender, "mint", "mint", str(to), amount)

    def mint_with_reference(self, sender, to, amount, reference: bytes):
        return self._call(sender, "mint_with_reference", "mint_with_reference", str(to), amount, reference)

    def transfer(self, sender, to, amount):
        return self._call(sender, "transfer", "transfer", str(to), amount)

    def approve(self, sender, spender, amount):
        return self._call(sender, "approve", "approve", str(spender), amount)

    def transfer_from(self, sender, owner, to, amount):
        return self._call(sender, "transfer_from", "transferFrom", str(owner), str(to), amount)

    def burn(self, sender, amount):
        return self._call(sender, "burn", "burn", amount)

    def burn_from(self, sender, owner, amount):
        return self._call(sender, "burn_from", "burn_from", str(owner), amount)

    def set_minter(self, sender, minter, status: bool):
        return self._call(sender, "set_minter", "set_minter", str(minter), status)

    def transfer_ownership(self, sender, new_owner):
        return self._call(sender, "transfer_ownership", "transfer_ownership", str(new_owner))

    def renounce_ownership(self, sender):
        return self._call(sender, "renounce_ownership", "renounce_ownership")

    def permit(self, sender, owner, spender, amount, deadline, v, r: bytes, s: bytes):
        sender, owner, spender = str(sender), str(owner), str(spender)
        touched = {sender.lower(), owner.lower(), spender.lower()}
        self.known |= touched
        ri, si = int.from_bytes(r, "big"), int.from_bytes(s, "big")
        self.mirror(
            sender,
            lambda: self.model.permit(sender, self.now, owner, spender, amount, deadline, v, ri, si),
            lambda: self.c.permit(owner, spender, amount, deadline, v, r, s),
        )
        self.check(touched)

    def sign(self, holder: str, spender, amount: int, deadline: int, nonce: int | None = None, domain=None):
        """A permit signed by `holder`'s key (its current nonce unless told; the coin's domain unless told)."""
        nonce = self.model.nonce(holder) if nonce is None else nonce
        return sign_permit(
            self.keys[holder.lower()], domain or self.model.domain(), str(spender), amount, nonce, deadline
        )

    def new_holder(self):
        account = self.new_account()
        self.keys[account.address.lower()] = bytes(account.key)
        self.known.add(account.address.lower())
        self.holders.append(account)
        return account

    def _overflow(self, sender: str, model_fn: str, chain_fn: str, *args) -> None:
        """A mint that overflows the supply reverts without a reason (Vyper's checked addition), which `mirror`
        cannot match by reason: check it here, on a copy of the model, against boa's `safeadd` check."""
        try:
            getattr(copy.deepcopy(self.model), model_fn)(sender, *args)
        except CoinError as e:
            if e.reason != SUPPLY_OVERFLOW:
                return  # `mirror` checks it
            with boa.env.prank(self.track(sender)), boa.reverts(compiler="safeadd"):
                getattr(self.c, chain_fn)(*args)
            raise

    # -- comparing -----------------------------------------------------------------------------------------
    def check(self, accounts: set[str] | None = None) -> None:
        """Chain and twin agree on `accounts` (after a call: those it named, its sender and the owner; a view
        call costs a millisecond), or on every known account and the invariant (None: at the end of a test)."""
        c, m = self.c, self.model
        accounts = (self.known if accounts is None else accounts) - {ZERO}
        assert c.totalSupply() == m.total_supply
        assert str(c.owner()).lower() == m.owner
        for a in accounts:
            assert c.balanceOf(a) == m.balance_of(a), a
            assert c.nonces(a) == m.nonce(a), a
            assert c.is_minter(a) == m.is_minter(a), a
        for owner, spender in m.allowances:
            if owner in accounts or spender in accounts:
                assert c.allowance(owner, spender) == m.allowance(owner, spender), (owner, spender)
        m.check_invariant()
        if accounts == self.known - {ZERO}:
            assert all(c.reference_used(reference) for reference in m.references)
            assert sum(c.balanceOf(a) for a in accounts) == c.totalSupply()  # every holder is known
