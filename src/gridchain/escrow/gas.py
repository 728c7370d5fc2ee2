"""Gas of the trade escrow (contracts/trade_escrow.vy): opening a trade and settling it, in ETH and in the coin.

On a fresh metering contract, coin and escrow: the buyer (a development account, whose key signs its vouchers and
resolutions) opens trades on one registered meter, whose owner (a fixed key) signs each offer. `open_*_first_trade`
is the escrow's first trade in that token (its held total and, for the coin, its coin balance go from zero);
`open_*_first_lock` the first trade in a fresh bitmap word of the meter (a zero word written), `open_*_later_lock`
a later trade in a word already holding bits: the steady state. `release_*_fresh_seller` settles a trade by 2 of 3
signatures (seller and arbiter; buyer and seller) paying everything to the seller's fresh address (for ETH the
25,000 new-account charge); `resolve_split` an arbiter's split, `claim_voucher` the seller's instalment claim,
`refund` a time-out. `open_coin_later_lock_unlimited_allowance`: the same with the buyer's allowance at 2**256 - 1,
which the coin does not decrement (one storage write fewer). `approve_eoa`: a role (the buyer, an account) agrees to
a release on chain (a fresh approvals word written), and `resolve_eth_signature_and_approval` settles it
with the seller's one signature (the approvals word read: fewer than two roles signed). Coin balances in the
escrow: `deposit_first` the buyer's first deposit for itself (its balance word written from zero), `deposit` a
top-up (the steady state; both with a finite allowance, as the opens above); `open_coin_balance_first_lock` and
`open_coin_balance_later_lock` open coin trades paid from that balance (no transfer: the issue's open <= 90,000),
`withdraw_coin` takes part of the balance back and `open_coin_balance_to_zero` spends the rest (its word cleared).
Every figure is a receipt's gasUsed under the report's hardfork.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from gridchain.chain.anvil import dev_keys
from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import Gateway
from gridchain.crypto.keys import address_of
from gridchain.escrow.client import EscrowClient
from gridchain.escrow.model import ETH, INTERVAL_S, Terms
from gridchain.experiments.gas_report import GasReportConfig

AMOUNT = 10**16  # [wei] or coin units
INTERVALS = 12  # three hours
ACCOUNTS = 4
TARGETS = {"open": 90_000, "release": 120_000}  # the acceptance


def key(name: str) -> bytes:
    return keccak(text=f"gridchain escrow gas key {name}")


def measure_functions(gateway: Gateway) -> dict[str, int]:
    deployer, buyer, claimant, relayer = gateway.accounts[:ACCOUNTS]
    buyer_key, claimant_key = dev_keys(3)[1], dev_keys(3)[2]
    owner_key, arbiter_key = key("meter owner"), key("arbiter")
    meter, arbiter = address_of(key("meter")), address_of(arbiter_key)
    # the metering contract and the coin through the gateway (the escrow uses their contracts, not their features)
    metering, coin = compile_contract("metering"), compile_contract("energy_coin")
    metering_at = gateway.deploy(metering, [0], deployer).contract_address
    coin_at = gateway.deploy(coin, ["gridchain energy coin", "GEC"], deployer).contract_address
    assert metering_at is not None and coin_at is not None
    gateway.transact(metering, metering_at, "register_meter", [meter, address_of(owner_key), 1, 1], deployer)
    escrow, deploy = EscrowClient.deploy(gateway, deployer, metering_at, coin_at)
    gateway.transact(coin, coin_at, "mint", [buyer, 100 * AMOUNT], deployer)
    gateway.transact(coin, coin_at, "approve", [escrow.address, 100 * AMOUNT], buyer)
    gas = {"deploy": deploy.gas_used}
    base = gateway.now() // INTERVAL_S // 256 * 256 + 256  # the next bitmap word
    count = iter(range(1000))

    def terms(token: str, word: int, slot: int, seller_key: bytes | None = None, seller: str = "") -> Terms:
        n = next(count)
        seller = seller or address_of(seller_key or key(f"seller {n}"))
        first = base + 256 * word + INTERVALS * slot
        return Terms(
            buyer, seller, arbiter, token, AMOUNT, meter, first, INTERVALS, 5_000, gateway.now() + 86_400,
            keccak(text=f"salt {n}"),
        )  # fmt: skip

    def open_(t: Terms) -> int:
        return escrow.open(t, escrow.sign_offer(owner_key, t)).gas_used

    trades = {}
    for token, name in ((ETH, "eth"), (coin_at, "coin")):
        word = 0 if token == ETH else 3
        first = terms(token, word, 0)
        gas[f"open_{name}_first_trade"] = open_(first)
        trades[name] = [
            terms(token, word + 1, 0, key(f"{name} seller a")),
            terms(token, word + 1, 1, key(f"{name} seller b")),
        ]
        gas[f"open_{name}_first_lock"] = open_(trades[name][0])
        gas[f"open_{name}_later_lock"] = open_(trades[name][1])
    gas["deposit_first"] = escrow.deposit(buyer, buyer, 10 * AMOUNT).gas_used
    gas["deposit"] = escrow.deposit(buyer, buyer, AMOUNT).gas_used
    gas["open_coin_balance_first_lock"] = open_(terms(coin_at, 5, 0))
    gas["open_coin_balance_later_lock"] = open_(terms(coin_at, 5, 1))
    gas["withdraw_coin"] = escrow.withdraw_coin(buyer, buyer, 8 * AMOUNT).gas_used
    gas["open_coin_balance_to_zero"] = open_(terms(coin_at, 5, 2))
    assert escrow.coin_balance(buyer) == 0
    gateway.transact(coin, coin_at, "approve", [escrow.address, 2**256 - 1], buyer)  # never written again (snekmate)
    gas["open_coin_later_lock_unlimited_allowance"] = open_(terms(coin_at, 4, 2))
    for name in ("eth", "coin"):
        t = trades[name][0]
        signatures = [escrow.sign_resolution(k, t, AMOUNT) for k in (key(f"{name} seller a"), arbiter_key)]
        gas[f"release_{name}_fresh_seller"] = escrow.resolve(relayer, t, AMOUNT, signatures).gas_used
    t = trades["eth"][1]
    signatures = [escrow.sign_resolution(k, t, AMOUNT) for k in (buyer_key, key("eth seller b"))]
    gas["release_eth_fresh_seller_buyer_signs"] = escrow.resolve(relayer, t, AMOUNT, signatures).gas_used
    t = trades["coin"][1]
    signatures = [escrow.sign_resolution(k, t, AMOUNT // 2) for k in (arbiter_key, buyer_key)]
    gas["resolve_split_coin"] = escrow.resolve(relayer, t, AMOUNT // 2, signatures).gas_used
    t = terms(ETH, 1, 2, seller=claimant)
    open_(t)
    gas["claim_voucher_eth"] = escrow.claim(t, AMOUNT // 3, escrow.sign_voucher(buyer_key, t, AMOUNT // 3)).gas_used
    assert claimant_key  # the claimant sends its own transaction (a development account)
    t = terms(ETH, 1, 3)
    open_(t)
    gateway.advance_time(86_400)
    gas["refund_eth"] = escrow.refund(relayer, t).gas_used
    t = terms(ETH, 1, 4, key("eth seller c"))
    open_(t)
    gas["approve_eoa"] = escrow.approve(buyer, t, AMOUNT).gas_used
    signature = escrow.sign_resolution(key("eth seller c"), t, AMOUNT)
    gas["resolve_eth_signature_and_approval"] = escrow.resolve(relayer, t, AMOUNT, [signature]).gas_used
    return gas


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def steps(config: GasReportConfig) -> int:
    return 1


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    gas = measure_functions(gateway())
    progress("trade escrow")
    return {"escrow": gas}


def targets(report: dict) -> dict[str, dict]:
    """The issue's targets: an open in a fresh bitmap word (the dearer case) per token (the coin paid with the call
    and from the buyer's balance), and a release to a fresh seller by 2 of 3 signatures per token."""
    gas, out = report["escrow"], {}
    for what, limit in TARGETS.items():
        for name in ("eth", "coin", "coin_balance") if what == "open" else ("eth", "coin"):
            figure = gas[f"open_{name}_first_lock" if what == "open" else f"release_{name}_fresh_seller"]
            out[f"escrow_{what}_{name}"] = {"gas": figure, "max": limit, "met": figure <= limit}
    return out


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    table = Table(title=f"Trade escrow ({where})")
    for col in ("function", "gas"):
        table.add_column(col, justify="right")
    for name, gas in report["escrow"].items():
        table.add_row(name, f"{gas:,}")
    console.print(table)
