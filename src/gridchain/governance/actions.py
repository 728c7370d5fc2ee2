"""One owner action on each gridchain contract that has an owner, and the view that shows its effect: what a Safe's
first transactions do in the tests, the gas report and the docs (by contract name, as the deployment record and
`gridchain.chain.compiler` name them; no feature imported)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from gridchain.crypto.keys import address_of

ZERO = "0x" + "00" * 20
SETTLEMENT_COMMUNITY = 7  # the community of the settlement these actions deploy (its meters are registered in it)
DAY_S = 86_400


def settlement_meter(subject: str) -> str:
    """The meter (a fixed test key's address) a settlement owner action binds to `subject`."""
    return address_of(keccak(text=f"gridchain governance meter of {subject.lower()}"))


@dataclass(frozen=True)
class OwnerAction:
    fn: str  # the owner-only function
    args: Callable[[str], list[Any]]  # its arguments, given a fresh subject account
    check: str  # a view of the subject...
    expect: Callable[[Any], bool]  # ...that holds after the action only
    check_args: Callable[[str], list[Any]] = lambda a: [a]  # the view's arguments
    before: tuple[str, str, Callable[[str], list[Any]]] | None = None
    """(contract, fn, args): an owner action on another gridchain contract the action needs first, by its owner."""
    needs: tuple[str, ...] = field(default=())  # the contracts its constructor takes (CONSTRUCTOR_ARGS' addresses)


OWNER_ACTIONS = {
    "charging_coordinator": OwnerAction("set_member", lambda a: [a, True], "members", lambda v: v is True),
    "v2v_auction": OwnerAction("add_ev", lambda a: [a, "EV admitted by the Safe"], "admitted_at", lambda v: v > 0),
    "metering": OwnerAction("set_gateway", lambda a: [a, True], "is_gateway", lambda v: v is True),
    "energy_coin": OwnerAction("set_minter", lambda a: [a, True], "is_minter", lambda v: v is True),
    "lag_committee": OwnerAction("add_member", lambda a: [a], "is_member", lambda v: v is True),
    "access_log": OwnerAction("set_nodes", lambda a: [[a], 1], "is_node", lambda v: v is True),  # rotation
    "market_settlement": OwnerAction(
        "set_meter",
        lambda a: [a, 0, settlement_meter(a)],  # the subject's consumption meter
        "meter_of",
        lambda v: str(v) != ZERO,
        check_args=lambda a: [a, 0],
        before=("metering", "register_meter", lambda a: [settlement_meter(a), a, SETTLEMENT_COMMUNITY, 0]),
        needs=("energy_coin", "metering", "call_market"),
    ),
}
"""contract -> the owner action a Safe performs on it. The call market has no owner (its parameters are fixed)."""

CALL_MARKET_ARGS = [900, 300, 300, 96, 1, 0, 0]  # interval, reveal, gate [s], horizon, zones, fees, rule (uniform)


def settlement_args(addresses: dict[str, str], house: str, horizon: int) -> list[Any]:
    """A settlement's constructor arguments over deployed coin, metering and call market (`horizon`: the market's
    HORIZON; the shortest notice allowed)."""
    notice_s = horizon * 900 + 2 * DAY_S
    coin, metering, market = (addresses[n] for n in ("energy_coin", "metering", "call_market"))
    return [coin, metering, market, SETTLEMENT_COMMUNITY, house, 300_000, notice_s]


CONSTRUCTOR_ARGS: dict[str, Callable[[int, list[str], dict[str, str]], list[Any]]] = {
    "charging_coordinator": lambda now, accounts, deployed: [now, 3600, 500, 100_000],
    "v2v_auction": lambda now, accounts, deployed: [3600, 600],
    "metering": lambda now, accounts, deployed: [172_800],
    "energy_coin": lambda now, accounts, deployed: ["gridchain energy coin", "GEC"],
    "lag_committee": lambda now, accounts, deployed: [list(accounts[:3]), 2, 0],  # two-thirds of three
    "access_log": lambda now, accounts, deployed: [list(accounts[:3]), 2],  # 2 of 3 consensus nodes
    "call_market": lambda now, accounts, deployed: CALL_MARKET_ARGS,
    "market_settlement": lambda now, accounts, deployed: settlement_args(deployed, accounts[0], CALL_MARKET_ARGS[3]),
}
"""contract -> arguments for a deployment of it in a benchmark (`deployed`: the addresses of those deployed before
it, by contract name; the CLI's deployers take theirs from the config)."""
