"""A small V2V market for the dashboard's tests: a pilot written by `gridchain init` on anvil, its V2V contract
deployed by `gridchain deploy v2v`, six EVs admitted by the organisation (the owner account), and the EVs'
programs (gridchain.v2v.parties) driven in-process: one auction ended without a bid, one won, delivered in
increments against the consumer's receipts (one posted on chain) and settled, one still open for bids. The
indexer is stepped to the head after each step; the dashboard then reads it as a user's would."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.cli import app
from gridchain.config.accounts import account_key
from gridchain.config.file import load_config
from gridchain.config.store import config_store
from gridchain.index.indexer import Indexer, Target, abi_events
from gridchain.index.tables import SCHEMA
from gridchain.v2v.client import V2VClient
from gridchain.v2v.parties import ConsumerEV, ProviderEV
from tests.index.harness import catch_up
from tests.support.pilot import init_pilot

TWEI = 10**12
START_RATE = 300 * TWEI  # [wei/kWh]
INCREMENT = 2_000  # [Wh]
SETTLED_WH = 10_000  # the settled trade's energy [Wh]
OPEN_WH = 6_000  # the open auction's energy [Wh]
BIDDING_S = 600
OPEN_BIDDING_S = 86_400  # the open auction stays open through the tests


class V2VMarket:
    """The pilot's folder (`config`), the V2V client (owner account), consumers c1..c3 and providers p1..p3."""

    def __init__(self, node, folder: Path) -> None:
        self.config = init_pilot(folder, 0, rpc_url=node.url, edits={"dashboard.poll_s": "0.3"})
        r = CliRunner().invoke(app, ["deploy", "v2v", "--config", str(self.config)])
        assert r.exit_code == 0, r.output
        entry = json.loads((self.config.parent / "deployment.json").read_text())["contracts"]["v2v"]
        self.start_block = entry["block"]
        keys = node.keys[1:7]
        self.gateway = RpcGateway(node.url, [account_key(load_config(self.config), "owner", 31337), *keys])
        self.owner = self.gateway.accounts[0]
        self.client = V2VClient(self.gateway, entry["address"])
        for ev in self.gateway.accounts[1:]:
            self.client.add_ev(self.owner, ev, "")
        self.consumers = [ConsumerEV(self.client, k) for k in keys[:3]]
        self.providers = [ProviderEV(self.client, k, INCREMENT) for k in keys[3:]]
        self.store = config_store(load_config(self.config))
        self.store.migrate(SCHEMA)
        events = abi_events(self.client.artifact)
        target = Target("v2v", self.client.address, self.client.artifact, events, self.start_block)
        self.indexer = Indexer(self.store, self.gateway, [target])

    def build(self) -> None:
        """The three auctions: c3's without a bid, c1's won by p1 and settled, c2's open (p3 bid once)."""
        c1, c2, c3 = self.consumers
        p1, p2, p3 = self.providers
        c3.start_auction(4_000, 60, START_RATE)
        self.gateway.advance_time(60)
        assert c3.end_auction() is None  # nobody bid: the deposit is c3's pending return
        c1.start_auction(SETTLED_WH, BIDDING_S, START_RATE)
        for provider, rate in ((p1, 280), (p2, 250), (p1, 240)):
            provider.bid(c1.address, rate * TWEI)
        self.gateway.advance_time(BIDDING_S)
        token = c1.end_auction()
        assert token is not None
        self.deliver(c1, p1, token)
        p1.settle(token)  # p2's collateral and p1's first one stay pending
        c2.start_auction(OPEN_WH, OPEN_BIDDING_S, START_RATE)
        p3.bid(c2.address, 290 * TWEI)
        self.index()

    def deliver(self, consumer: ConsumerEV, provider: ProviderEV, token: bytes) -> None:
        """The whole amount in increments, each against the consumer's receipt; the second receipt posted."""
        hello = consumer.hello(token)
        proof = provider.authenticate(hello, self.gateway.now())
        assert consumer.check_proof(hello, proof) == provider.address
        k = 0
        while provider.sessions[token].delivered_wh < provider.sessions[token].amount_wh:
            delivered = provider.deliver(token, proof.session, self.gateway.now())
            provider.accept_receipt(consumer.receipt(token, delivered), proof.session, self.gateway.now())
            k += 1
            if k == 2:
                provider.post_receipt(token)

    def index(self) -> None:
        catch_up(self.indexer)

    def close(self) -> None:
        self.store.close()
