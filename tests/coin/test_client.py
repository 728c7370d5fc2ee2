"""The coin's client over a chain gateway (the embedded chain), its gas section, and its [coin] settings."""

from __future__ import annotations

import pytest

from gridchain.chain.anvil import dev_keys
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import ChainRevert
from gridchain.coin import gas
from gridchain.coin.cli import DEPLOY
from gridchain.coin.cli.deploy import coin_settings
from gridchain.coin.client import CoinClient, payment_reference
from gridchain.coin.model import UNIT
from gridchain.config.file import Config
from gridchain.errors import InputError


@pytest.fixture(scope="module")
def chain():
    return BoaGateway(accounts=4)


def test_treasury_mints_a_holder_permits_a_spender_who_pays_and_the_payee_redeems(chain):
    treasury, holder, spender, relayer = chain.accounts
    coin, _ = CoinClient.deploy(chain, treasury, "Brooklyn energy coin", "BEC")
    assert (coin.name(), coin.decimals(), coin.owner(), coin.is_minter(treasury)) == (
        "Brooklyn energy coin",
        6,
        treasury,
        True,
    )
    ref = payment_reference("SEPA 2026-12-01 0001")
    minted = coin.mint(treasury, holder, 20 * UNIT, ref)
    assert minted.named("MintedAgainst")[0].args["reference"] == ref and coin.reference_used(ref)
    signed = coin.sign_permit(dev_keys(2)[1], spender, 5 * UNIT, chain.now() + 600)  # holder = dev account 1
    coin.permit(relayer, signed)
    coin.transfer_from(spender, holder, spender, 5 * UNIT)
    coin.transfer(holder, relayer, UNIT)
    coin.burn(spender, 5 * UNIT)
    assert [coin.balance_of(a) for a in chain.accounts] == [0, 14 * UNIT, 0, UNIT]
    assert coin.total_supply() == 15 * UNIT and coin.nonce(holder) == 1


def test_a_refused_call_raises_the_contract_reason(chain):
    treasury, holder, *_ = chain.accounts
    coin, _ = CoinClient.deploy(chain, treasury)
    with pytest.raises(ChainRevert, match="^erc20: access is denied$"):
        coin.mint(holder, holder, 1)
    coin.mint(treasury, holder, 1, payment_reference("p"))
    with pytest.raises(ChainRevert, match="^energy_coin: reference already used$"):
        coin.mint(treasury, holder, 1, payment_reference("p"))


def test_gas_section_measures_every_function_and_keeps_the_supply(chain):
    measured = gas.measure_functions(BoaGateway(accounts=6))
    assert set(measured) >= {"mint", "transfer", "approve", "permit", "transfer_from_after_permit", "burn"}
    assert measured["transfer"] < measured["transfer_new"] and measured["mint"] < measured["mint_first"]


def test_coin_settings_defaults_and_bad_values(tmp_path):
    assert "coin" in DEPLOY
    s = coin_settings(Config(tmp_path / "gridchain.toml", {}))
    assert s.deploy_settings() == {"name": "gridchain energy coin", "symbol": "GEC"}
    for coin, message in (
        ({"symbol": "TOOLONG"}, "coin.symbol: 'TOOLONG' must be 1 to 5 printable characters"),
        ({"name": ""}, "coin.name: '' must be 1 to 25 printable characters"),
        ({"decimals": 18}, "coin.decimals: unknown option"),
    ):
        with pytest.raises(InputError) as e:
            coin_settings(Config(tmp_path / "gridchain.toml", {"coin": coin}))
        assert str(e.value).startswith(message)


@pytest.mark.integration
def test_osaka_on_anvil_gives_prague_figures():
    """Osaka reprices nothing the coin uses; the permit's signature signs the chain's clock (its deadline), so its
    calldata's zero bytes may differ by a few (12 gas each)."""
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway

    prague = gas.measure_functions(BoaGateway(accounts=6))
    with start_anvil(hardfork="osaka", accounts=6) as node:
        osaka = gas.measure_functions(RpcGateway(node.url, node.keys))
    assert {k: v for k, v in osaka.items() if k != "permit"} == {k: v for k, v in prague.items() if k != "permit"}
    assert abs(osaka["permit"] - prague["permit"]) <= 4 * 12
