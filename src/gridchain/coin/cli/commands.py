"""`gridchain coin mint|balance|transfer` against the recorded coin, as the [accounts] the config names.

Amounts are coins as decimal text (`12.5`), at most 6 decimals: the command converts them to micro-coins exactly
and refuses anything else naming `--amount`. A receiver is an address or an [accounts] name.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import typer

from gridchain.checks import parse_address
from gridchain.coin.cli.deploy import OWNER
from gridchain.coin.client import CoinClient, payment_reference
from gridchain.coin.model import DECIMALS, MAX_UINT256, UNIT
from gridchain.config.file import config_path, load_config
from gridchain.errors import InputError
from gridchain.ui.config_options import CONFIG
from gridchain.ui.console import emit
from gridchain.ui.errors import bad_input_exits

JSON = typer.Option(False, "--json", help="Print the result as one JSON object.")
AMOUNT = typer.Option(..., "--amount", help="Coins, as decimal text with at most 6 decimals (e.g. 12.5).")


def parse_coins(field: str, text: str) -> int:
    """`text` coins as micro-coins: a positive decimal with at most 6 decimals, within uint256."""
    try:
        coins = Decimal(text)
    except InvalidOperation:
        raise InputError(field, f"{text[:40]!r} is not a number of coins") from None
    micro = coins * UNIT
    if not coins.is_finite() or micro != micro.to_integral_value():
        raise InputError(field, f"{text[:40]!r} has more than {DECIMALS} decimals (the coin's smallest unit)")
    if not 0 < micro <= MAX_UINT256:
        raise InputError(field, f"{text[:40]!r} is not a positive amount of coins")
    return int(micro)


def show_coins(micro: int) -> str:
    return f"{Decimal(micro) / UNIT:f} coins"


@dataclass
class Coin:
    client: CoinClient
    network: object

    def address(self, name: str) -> str:
        return self.network.address(name)  # type: ignore[attr-defined]


def open_coin(config_file: Path | None, accounts: list[str]) -> tuple[Coin, object]:
    """Connect as `accounts` ([accounts] names) and find the recorded coin (its code checked on chain)."""
    from gridchain.config.network import connect
    from gridchain.config.record import checked_address, load_record

    config = load_config(config_path(config_file))
    network = connect(config, accounts)
    address = checked_address(load_record(config, network.settings.chain_id), "coin", network.gateway.code)
    return Coin(CoinClient(network.gateway, address), network), config


def receiver(config, field: str, value: str) -> str:
    """An address, or the address of an [accounts] name."""
    if value.startswith("0x"):
        return parse_address(field, value)
    from gridchain.config.accounts import account_address

    if value not in config.section("accounts").table:
        raise InputError(field, f"{value!r} is neither an address nor an [accounts] name")
    return account_address(config, value)


@contextlib.contextmanager
def refusals():
    """A transaction the coin reverts is one line naming the contract's reason (exit 2)."""
    from gridchain.chain.gateway import ChainRevert

    try:
        yield
    except ChainRevert as e:
        raise InputError("coin", e.reason or str(e)) from None


@bad_input_exits
def mint(
    to: str = typer.Option(..., "--to", help="The receiver: an address or an [accounts] name."),
    amount: str = AMOUNT,
    reference: str = typer.Option(None, "--reference", help="The off-chain payment's id (minted against once)."),
    account: str = typer.Option(OWNER, "--account", help="The minting [accounts] name (the treasury)."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Mint coins against money paid in (the treasury; a minter only).

    Example: gridchain coin mint --to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --amount 25 --reference SEPA-0001
    """
    micro = parse_coins("--amount", amount)
    if reference is not None and not reference.strip():
        raise InputError("--reference", "is empty")
    coin, config = open_coin(config_file, [account])
    to_address = receiver(config, "--to", to)
    ref = payment_reference(reference) if reference is not None else None
    with refusals():
        receipt = coin.client.mint(coin.address(account), to_address, micro, ref)
    emit(
        as_json,
        {"to": to_address, "amount": micro, "reference": ref.hex() if ref else None, "tx": receipt.tx_hash},
        [f"minted {show_coins(micro)} to {to_address}" + (f" against {reference!r}" if ref else "")],
    )


@bad_input_exits
def balance(
    who: str = typer.Argument(..., help="An address or an [accounts] name."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """A holder's balance and the coin's total supply.

    Example: gridchain coin balance owner
    """
    coin, config = open_coin(config_file, [])
    address = receiver(config, "WHO", who)
    held, supply = coin.client.balance_of(address), coin.client.total_supply()
    emit(
        as_json,
        {"address": address, "balance": held, "total_supply": supply},
        [f"{address}: {show_coins(held)} (supply {show_coins(supply)})"],
    )


@bad_input_exits
def transfer(
    to: str = typer.Option(..., "--to", help="The receiver: an address or an [accounts] name."),
    amount: str = AMOUNT,
    account: str = typer.Option(..., "--account", help="The paying [accounts] name."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Send coins from one of the config's accounts.

    Example: gridchain coin transfer --account owner --to host --amount 3.25
    """
    micro = parse_coins("--amount", amount)
    coin, config = open_coin(config_file, [account])
    to_address = receiver(config, "--to", to)
    if to_address.lower() == coin.client.address.lower():
        raise InputError("--to", "is the coin's own address: coins sent there are locked forever")
    with refusals():
        receipt = coin.client.transfer(coin.address(account), to_address, micro)
    emit(
        as_json,
        {"from": coin.address(account), "to": to_address, "amount": micro, "tx": receipt.tx_hash},
        [f"sent {show_coins(micro)} from {account} to {to_address}"],
    )
