"""The EV owner's and the host's money: `gridchain metering deposit` and `withdraw`."""

from __future__ import annotations

from pathlib import Path

import typer

from gridchain.errors import InputError
from gridchain.metering.cli.chain import contract_refusals, emit, eth, open_metering, read_config
from gridchain.metering.cli.config import EV_OWNER, HOST, MAX_WEI
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

JSON = typer.Option(False, "--json", help="Print the result as one JSON object.")


def _check_amount(amount_wei: int) -> int:
    if not 0 < amount_wei <= MAX_WEI:
        raise InputError("--amount-wei", f"{amount_wei} is outside 1..{MAX_WEI}")
    return amount_wei


@bad_input_exits
def deposit(
    amount_wei: int = typer.Option(..., "--amount-wei", help="What to add to the escrow (wei)."),
    account: str = typer.Option(EV_OWNER, "--account", help="The paying accounts.name (an EV's owner)."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Prepay the escrow that the EVs registered to this account pay their roaming sessions from.

    Example: gridchain metering deposit --amount-wei 50000000000000000 --config pilot/gridchain.toml
    """
    _check_amount(amount_wei)
    d = open_metering(read_config(config_file), [account])
    with contract_refusals():
        d.client.deposit(d.address(account), amount_wei)
    escrow = d.client.escrow(d.address(account))
    emit(
        as_json,
        {"account": d.address(account), "deposited_wei": amount_wei, "escrow_wei": escrow},
        [f"{account} deposited {eth(amount_wei)}", f"  escrow of {d.address(account)}: {eth(escrow)}"],
    )


@bad_input_exits
def withdraw(
    amount_wei: int = typer.Option(
        None, "--amount-wei", help="Ask to withdraw this much escrow (wei) (starts the notice). Omit to collect."
    ),
    credit: bool = typer.Option(False, "--credit", help="Collect a host's earnings instead of escrow."),
    account: str = typer.Option(None, "--account", help="The accounts.name. Default: ev_owner, host with --credit."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Withdraw escrow (after a notice) or, with --credit, a host's earnings.

    Escrow: `--amount-wei N` asks for N (available after metering.notice_s), then without it collects what is
    due. A host's earnings from settled sessions: `--credit` (no notice).

    Example: gridchain metering withdraw --credit --config pilot/gridchain.toml
    """
    if credit and amount_wei is not None:
        raise InputError("--amount-wei", "not with --credit (a host's credit is withdrawn whole)")
    if amount_wei is not None:
        _check_amount(amount_wei)
    name = account or (HOST if credit else EV_OWNER)
    d = open_metering(read_config(config_file), [name])
    sender = d.address(name)
    balance = d.network.gateway.balance
    before = balance(sender)
    with contract_refusals():
        if credit:
            amount, what = d.client.credit(sender), "credit withdrawn"
            receipt = d.client.withdraw_credit(sender)
        elif amount_wei is not None:
            receipt = d.client.request_withdrawal(sender, amount_wei)
            amount, at = d.client.withdrawal_notice(sender)
            what = f"withdrawal requested, available at {at} (unix s)"
        else:
            amount, what = d.client.withdrawal_notice(sender)[0], "escrow withdrawn"
            receipt = d.client.withdraw_escrow(sender)
    emit(
        as_json,
        {
            "account": sender,
            "action": what,
            "amount_wei": amount,
            "tx": receipt.tx_hash,
            "balance_change_wei": balance(sender) - before,
        },
        [f"{name} {sender}", f"  {what}: {eth(amount)}"],
    )
