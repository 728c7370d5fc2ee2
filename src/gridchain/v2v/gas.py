"""Gas of the V2V reverse auction (contracts/v2v_auction.vy) against the paper's Table II.

One trade as the paper measures it: the organisation deploys and admits six EVs, pauses and resumes, removes
one; a consumer asks for 20 kWh (the minimum collateral of a bid: its deposit, the default), five providers
underbid each other, the consumer ends the auction, the winner posts a receipt and settles. Every figure is a
receipt's gasUsed. `place_bid` is an outbidding bid (the common case: the replaced collateral becomes
withdrawable), the largest of the four; the first bid of an auction, which replaces nobody, is reported
apart. `change_status` is the larger of pause and resume. Beyond the paper's functions: a second auction that
the consumer does not end, ended by its winner GRACE after the closing time (`end_auction_by_anyone`) and
expired by a stranger (`expire`); a third settled with a receipt for half the amount, so that half the
collateral goes to the consumer (`settle_partial`); an outbid provider's `withdraw`.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_account import Account
from rich.console import Console
from rich.table import Table

from gridchain.chain.anvil import dev_keys
from gridchain.chain.gateway import Gateway
from gridchain.experiments.gas_report import GasReportConfig
from gridchain.v2v.client import V2VClient, sign_receipt

# Abou El Houda et al., Table II (Solidity on Ropsten, 2020); end_connection is their closing call
PAPER = {
    "deploy": 2_302_980,
    "add_ev": 76_821,
    "remove_ev": 33_469,
    "start_auction": 121_350,
    "place_bid": 165_107,
    "end_auction": 29_167,
    "end_connection": 21_136,
    "change_status": 30_163,
}
PAPER_TRADE_5_BIDS = 997_188  # start, five bids, end, as the issue totals the paper's figures
TARGETS = {"settle_max": 60_000, "trade_5_bids_max": PAPER_TRADE_5_BIDS // 2}
VALIDITY_S, GRACE_S = 3600, 1800
AMOUNT_WH, START_RATE = 20_000, 300 * 10**12  # 20 kWh at 0.0003 ETH (300 Twei) per kWh
BIDS = 5


def measure_trade(gateway: Gateway) -> dict[str, int]:
    """On a fresh contract; the gateway's accounts are anvil's development accounts (the embedded chain uses
    the same), whose keys sign the consumer's receipts."""
    keys = {Account.from_key(k).address: k for k in dev_keys(BIDS + 3)}
    owner, consumer, *rest = gateway.accounts
    providers, extra = rest[:BIDS], rest[BIDS]
    client, deploy = V2VClient.deploy(gateway, owner, VALIDITY_S, GRACE_S)
    gas = {"deploy": deploy.gas_used}
    gas["add_ev"] = max(client.add_ev(owner, ev, "EV 40 kWh, 11 kW").gas_used for ev in [consumer, *providers, extra])
    gas["remove_ev"] = client.remove_ev(owner, extra).gas_used
    gas["change_status"] = max(client.change_status(owner, active).gas_used for active in (False, True))
    gas["start_auction"] = client.start_auction(
        consumer, AMOUNT_WH, 600, START_RATE, client.cost(START_RATE, AMOUNT_WH)
    ).gas_used
    bids, rate = [], START_RATE
    for provider in providers:
        rate -= 10 * 10**12
        bids.append(client.place_bid(provider, consumer, rate, client.required_collateral(consumer, rate)).gas_used)
    gas["place_bid_first"], gas["place_bid"], gas["place_bid_all5"] = bids[0], max(bids[1:]), sum(bids)
    gateway.advance_time(600)
    token, ended = client.end_auction(consumer)
    assert token is not None
    gas["end_auction"] = ended.gas_used
    winner, chain_id = providers[-1], client.chain_id()
    half = sign_receipt(keys[consumer], chain_id, client.address, token, AMOUNT_WH // 2)
    gas["post_receipt"] = client.post_receipt(winner, consumer, half).gas_used
    whole = sign_receipt(keys[consumer], chain_id, client.address, token, AMOUNT_WH)
    gas["settle"] = client.settle(winner, consumer, whole).gas_used
    gas["trade_5_bids"] = gas["start_auction"] + sum(bids) + gas["end_auction"] + gas["settle"]
    assert client.balance() == sum(client.pending_returns(p) for p in providers[:-1])  # only the outbid collateral

    deposit = client.cost(START_RATE, AMOUNT_WH)
    client.start_auction(consumer, AMOUNT_WH, 600, START_RATE, deposit)
    client.place_bid(winner, consumer, rate, client.required_collateral(consumer, rate))
    gateway.advance_time(600 + GRACE_S)
    gas["end_auction_by_anyone"] = client.end_auction(consumer, winner)[1].gas_used
    gateway.advance_time(VALIDITY_S + GRACE_S)
    gas["expire"] = client.expire(extra, consumer).gas_used

    client.start_auction(consumer, AMOUNT_WH, 600, START_RATE, deposit)
    client.place_bid(winner, consumer, rate, client.required_collateral(consumer, rate))
    gateway.advance_time(600)
    token, _ = client.end_auction(consumer)
    assert token is not None
    half = sign_receipt(keys[consumer], chain_id, client.address, token, AMOUNT_WH // 2)
    gas["settle_partial"] = client.settle(winner, consumer, half).gas_used
    gas["withdraw"] = client.withdraw(providers[0]).gas_used
    return gas


def check(gas: dict[str, int]) -> dict[str, dict]:
    """Each Table II function at or below the paper's figure; settle and the whole trade against the issue's."""
    out = {
        name: {"gas": gas[name], "max": PAPER[name], "met": gas[name] <= PAPER[name]}
        for name in ("deploy", "add_ev", "remove_ev", "start_auction", "place_bid", "end_auction", "change_status")
    }
    out["settle"] = {"gas": gas["settle"], "max": TARGETS["settle_max"], "met": gas["settle"] <= TARGETS["settle_max"]}
    out["trade_5_bids"] = {
        "gas": gas["trade_5_bids"],
        "max": TARGETS["trade_5_bids_max"],
        "met": gas["trade_5_bids"] <= TARGETS["trade_5_bids_max"],
    }
    return {f"v2v.{k}": v for k, v in out.items()}


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def steps(config: GasReportConfig) -> int:
    return 1


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    gas = measure_trade(gateway())
    progress("v2v auction")
    return {"v2v": gas, "v2v_paper": PAPER}


def targets(report: dict) -> dict[str, dict]:
    return check(report["v2v"]) if "v2v" in report else {}


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    v2v = Table(title=f"V2V auction against the paper's Table II ({where})")
    for col in ("function", "gridchain", "paper"):
        v2v.add_column(col, justify="right")
    for name, gas in report["v2v"].items():
        paper = report["v2v_paper"].get(name, report["v2v_paper"]["end_connection"] if name == "settle" else None)
        v2v.add_row(name, f"{gas:,}", f"{paper:,}" if paper else "-")
    console.print(v2v)
