"""One owner action on each gridchain contract that has an owner, and the view that shows its effect: what a Safe's
first transactions do in the tests, the gas report and the docs (by contract name, as the deployment record and
`gridchain.chain.compiler` name them; no feature imported)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class OwnerAction:
    fn: str  # the owner-only function
    args: Callable[[str], list[Any]]  # its arguments, given a fresh subject account
    check: str  # a view of the subject...
    expect: Callable[[Any], bool]  # ...that holds after the action only


OWNER_ACTIONS = {
    "charging_coordinator": OwnerAction("set_member", lambda a: [a, True], "members", lambda v: v is True),
    "v2v_auction": OwnerAction("add_ev", lambda a: [a, "EV admitted by the Safe"], "admitted_at", lambda v: v > 0),
    "metering": OwnerAction("set_gateway", lambda a: [a, True], "is_gateway", lambda v: v is True),
    "energy_coin": OwnerAction("set_minter", lambda a: [a, True], "is_minter", lambda v: v is True),
    "lag_committee": OwnerAction("add_member", lambda a: [a], "is_member", lambda v: v is True),
}
"""contract -> the owner action a Safe performs on it. The call market has no owner (its parameters are fixed)."""

CONSTRUCTOR_ARGS = {
    "charging_coordinator": lambda now, accounts: [now, 3600, 500, 100_000],
    "v2v_auction": lambda now, accounts: [3600, 600],
    "metering": lambda now, accounts: [172_800],
    "energy_coin": lambda now, accounts: ["gridchain energy coin", "GEC"],
    "lag_committee": lambda now, accounts: [list(accounts[:3]), 2, 0],  # two-thirds of three
}
"""contract -> arguments for a deployment of it in a benchmark (the CLI's deployers take them from the config)."""
