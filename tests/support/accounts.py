"""Funded accounts that a harness follows (what each started with and what it sent) and the chain's clock."""

from __future__ import annotations

import boa
from eth_account import Account
from eth_utils import to_checksum_address


class Accounts:
    """A harness's funded accounts, whose balances it follows (`initial`, `sent`), and the chain's clock.

    Accounts are keyed by their checksum address, whatever form a test names them in (a boa address, lower
    case as a twin keeps them, or checksum)."""

    FUNDS = 10**21  # [wei] what a new account starts with, unless told

    def init_accounts(self) -> None:
        self.accounts: list[str] = []
        self.initial: dict[str, int] = {}
        self.sent: dict[str, int] = {}

    def track(self, address, balance: int | None = None) -> str:
        """Follow `address` from now on (its balance now is what it started with), after setting its balance to
        `balance` if given. Returns its checksum address, the key of `initial` and `sent`."""
        address = to_checksum_address(str(address))
        if balance is not None:
            boa.env.set_balance(address, balance)
        if address not in self.initial:
            self.accounts.append(address)
            self.initial[address] = boa.env.get_balance(address)
            self.sent[address] = 0
        return address

    def new_account(self, balance: int | None = None):
        """A new account with a key (to sign), funded with `balance` (FUNDS by default) and followed."""
        account = Account.create()
        self.track(account.address, self.FUNDS if balance is None else balance)
        return account

    @property
    def now(self) -> int:
        return boa.env.evm.patch.timestamp

    def travel_to(self, t: int) -> None:
        assert t >= self.now
        if t > self.now:
            boa.env.time_travel(seconds=t - self.now)
