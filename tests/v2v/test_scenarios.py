"""One whole V2V trade (sim/v2v_trade.py): on the embedded chain, and over JSON-RPC on anvil."""

import pytest

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.v2v import scenarios as v2v_trade
from gridchain.v2v.model import cost
from gridchain.v2v.scenarios import PROVIDERS, TradeConfig


def check_trade(result, config: TradeConfig, gas_is_free: bool) -> None:
    placed = [b for b in result.bids if b["placed"]]
    rates = [b["rate_wei_per_kwh"] for b in placed]
    assert rates == sorted(rates, reverse=True) and len(set(rates)) == len(rates)  # each bid strictly lower
    assert rates[0] < config.start_rate_wei_per_kwh and placed[-1]["provider"] == result.winner
    assert [a["ok"] for a in result.authentication] == [True, True, False, False]
    assert "token already used" in result.authentication[2]["detail"]
    assert "not the one on chain" in result.authentication[3]["detail"]
    delivered = [d["delivered_wh"] for d in result.deliveries]
    assert delivered == list(range(config.increment_wh, config.amount_wh + 1, config.increment_wh))
    assert all(d["receipted_wh"] == d["delivered_wh"] for d in result.deliveries)
    s = result.settlement
    price = cost(rates[-1], config.amount_wh)
    assert s["delivered_wh"] == config.amount_wh and s["rate_wei_per_kwh"] == rates[-1]
    assert s["to_provider_wei"] == price + s["collateral_wei"] and s["to_consumer_wei"] == s["deposit_wei"] - price
    assert result.contract_balance_after_wei == 0  # every deposit and collateral went back out
    if gas_is_free:  # the balance changes are exactly the payments
        changes = {a: b["change"] for a, b in result.balances.items()}
        assert changes[result.consumer] == -price and changes[result.winner] == price
        assert all(changes[p] == 0 for p in result.providers if p != result.winner)


def test_a_whole_trade_on_the_embedded_chain():
    gateway = BoaGateway(accounts=2 + PROVIDERS)
    config = TradeConfig(seed=0)
    result = v2v_trade.run(gateway, v2v_trade.dev_keys_for(gateway), config)
    check_trade(result, config, gas_is_free=True)
    assert result.gas["settle"] <= 60_000


def test_the_same_seed_gives_the_same_auction():
    runs = []
    for _ in range(2):
        gateway = BoaGateway(accounts=2 + PROVIDERS)
        runs.append(v2v_trade.run(gateway, v2v_trade.dev_keys_for(gateway), TradeConfig(seed=4)))
    assert runs[0].bids == runs[1].bids and runs[0].winner == runs[1].winner


@pytest.mark.integration
def test_a_whole_trade_over_json_rpc_on_anvil():
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway

    config = TradeConfig(seed=1, amount_wh=10_000)
    with start_anvil(accounts=2 + PROVIDERS) as node:
        result = v2v_trade.run(RpcGateway(node.url, node.keys), node.keys, config)
    check_trade(result, config, gas_is_free=False)
    # on a node every account also pays gas: the consumer lost the price and its fees, nobody gained more
    changes = {a: b["change"] for a, b in result.balances.items()}
    price = cost(result.settlement["rate_wei_per_kwh"], config.amount_wh)
    assert changes[result.consumer] < -price and 0 < changes[result.winner] < price
