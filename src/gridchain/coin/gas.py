"""Gas of the energy coin (contracts/energy_coin.vy): what settling in it costs the markets.

A fresh coin; the treasury (the owner) mints to a holder for the first time (`mint_first`: its balance and the
supply go from zero, the dearest writes) and again (`mint`), and against a payment reference
(`mint_with_reference`: the reference's flag is a new word). The holder transfers to a new account
(`transfer_new`) and to one that holds coins (`transfer`), approves a spender (`approve`); a relayer submits
the holder's signed permit (`permit`, the holder's first: its nonce word is new) and the spender moves coins
with it (`transfer_from_after_permit`); the holder burns what it redeems (`burn`) and the treasury burns with
an allowance (`burn_from`). Every figure is a receipt's gasUsed under the report's hardfork.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from gridchain.chain.anvil import dev_keys
from gridchain.chain.gateway import Gateway
from gridchain.coin.client import CoinClient, payment_reference
from gridchain.coin.model import UNIT
from gridchain.experiments.gas_report import GasReportConfig

AMOUNT = 100 * UNIT  # 100 coins [micro-coins]


def measure_functions(gateway: Gateway) -> dict[str, int]:
    """On a fresh coin; the gateway's accounts are anvil's development accounts, whose keys sign the permit."""
    treasury, holder, payee, spender, relayer = gateway.accounts[:5]
    holder_key = dev_keys(2)[1]
    coin, deploy = CoinClient.deploy(gateway, treasury)
    gas = {"deploy": deploy.gas_used}
    gas["mint_first"] = coin.mint(treasury, holder, AMOUNT).gas_used
    gas["mint"] = coin.mint(treasury, holder, AMOUNT).gas_used
    gas["mint_with_reference"] = coin.mint(treasury, holder, AMOUNT, payment_reference("IBAN transfer 1")).gas_used
    gas["transfer_new"] = coin.transfer(holder, payee, AMOUNT // 10).gas_used
    gas["transfer"] = coin.transfer(holder, payee, AMOUNT // 10).gas_used
    gas["approve"] = coin.approve(holder, treasury, AMOUNT).gas_used
    signed = coin.sign_permit(holder_key, spender, AMOUNT, gateway.now() + 3600)
    gas["permit"] = coin.permit(relayer, signed).gas_used
    gas["transfer_from_after_permit"] = coin.transfer_from(spender, holder, payee, AMOUNT // 2).gas_used
    gas["burn"] = coin.burn(holder, AMOUNT // 10).gas_used
    gas["burn_from"] = coin.burn_from(treasury, holder, AMOUNT // 10).gas_used
    assert coin.total_supply() == sum(coin.balance_of(a) for a in (treasury, holder, payee, spender, relayer))
    return gas


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def steps(config: GasReportConfig) -> int:
    return 1


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    gas = measure_functions(gateway())
    progress("energy coin")
    return {"coin": gas}


def targets(report: dict) -> dict[str, dict]:
    return {}


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    table = Table(title=f"Energy coin ({where})")
    for col in ("function", "gas"):
        table.add_column(col, justify="right")
    for name, gas in report["coin"].items():
        table.add_row(name, f"{gas:,}")
    console.print(table)
