"""Attackers as first-class test fixtures: funded attacker accounts (with keys, to sign) and hostile contracts.

An attack test asks for `attacker` (one funded account with a key), `attackers` (a factory of more) or
`hostile` (deploys a contract from tests/support/fixtures/ by file name, with constructor arguments), so that
adding an attack takes a few lines. Each contract's attack suite lives in tests/<feature>/test_attacks_contract.py
and names every test after the hole it shows (`test_hole<N>_...`, N as in docs/security.md and issue 14).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import boa
from eth_account import Account
from eth_account.signers.local import LocalAccount

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FUNDS = 10**21  # [wei] what an attacker starts with


@dataclass(frozen=True)
class Attacker:
    """A funded externally owned account whose key the test holds (it can sign typed data and transactions)."""

    account: LocalAccount

    @property
    def address(self) -> str:
        return self.account.address

    @property
    def key(self) -> bytes:
        return bytes(self.account.key)

    def balance(self) -> int:
        return boa.env.get_balance(self.address)


def new_attacker(funds: int = FUNDS) -> Attacker:
    account = Account.create()
    boa.env.set_balance(account.address, funds)
    return Attacker(account)


def hostile_contract(name: str, *args, **kwargs):
    """Deploy tests/support/fixtures/<name>.vy (compiled once per process) with constructor `args`."""
    from tests.support.deployers import load

    return load(FIXTURES / f"{name}.vy").deploy(*args, **kwargs)
