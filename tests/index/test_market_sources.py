"""The energy coin, the call market and the LAG committee are in the indexer's registry (`gridchain.cli.INDEX`),
and a market day, a coin's mints and transfers and an attestation come out of the index exactly as the chain
logged them (on the embedded chain, both store backends)."""

from __future__ import annotations

from eth_utils import keccak

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.events import read_events
from gridchain.cli import INDEX
from gridchain.coin.client import CoinClient
from gridchain.committee.client import CommitteeClient, kind_of
from gridchain.committee.model import TWO_THIRDS
from gridchain.crypto.keys import address_of
from gridchain.index.indexer import Indexer, Target, abi_events
from gridchain.index.reader import IndexReader
from gridchain.market import scenarios
from gridchain.market.client import CallMarketClient
from tests.index.harness import catch_up


def test_the_registry_names_the_new_contracts():
    assert {name: INDEX[name].contract for name in ("coin", "market", "committee")} == {
        "coin": "energy_coin",
        "market": "call_market",
        "committee": "lag_committee",
    }


def _target(name, client, start_block):
    return Target(name, client.address, client.artifact, abi_events(client.artifact), start_block)


def test_a_market_day_and_an_attestation_are_indexed_as_logged(index_store):
    gateway = BoaGateway(accounts=5)
    start = gateway.block_number()
    day = scenarios.run(gateway, scenarios.DemoConfig(traders=4, intervals=2))
    market = CallMarketClient(gateway, day.market)
    coin = CoinClient(gateway, day.coin)
    lag_keys = [keccak(text=f"lag {i}") for i in range(3)]
    committee, _ = CommitteeClient.deploy(gateway, gateway.accounts[0], [address_of(k) for k in lag_keys], TWO_THIRDS)
    digest = keccak(text="a result")
    kind = kind_of("petcon.result")
    committee.attest(gateway.accounts[0], kind, 1, digest, [committee.sign(k, kind, 1, digest) for k in lag_keys[:2]])
    targets = [_target("market", market, start), _target("coin", coin, start), _target("committee", committee, start)]
    catch_up(Indexer(index_store, gateway, targets, max_range=50))
    reader = IndexReader(index_store)
    for t in targets:
        logged = read_events(gateway, t.artifact, t.address, t.events, t.start_block)
        assert [e.event(t.artifact) for e in reader.events(t.name)] == logged
    names = {t.name: [e.event(t.artifact).name for e in reader.events(t.name)] for t in targets}
    assert names["market"].count("Cleared") == 2 and "Revealed" in names["market"]
    assert "Transfer" in names["coin"] and names["committee"].count("Attested") == 1
