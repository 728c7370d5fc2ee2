"""A market day for the dashboard's Market page, on the embedded chain: the market demo's day
(`scenarios.run`, 4 traders, 2 intervals, both cleared), then one more interval with a commitment and no reveal
(not cleared: still committing). The market's events are indexed into a SQLite store and a deployment record
names the market (address, block, code hash, as `gridchain deploy market` writes them), so the dashboard reads
it as it reads a pilot's: the node's views through the gateway, the history from the index."""

from __future__ import annotations

from pathlib import Path

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.events import read_events
from gridchain.chain.locked import LockedGateway
from gridchain.config.file import Config
from gridchain.config.record import DeploymentRecord, code_hash
from gridchain.dashboard.deployment import Deployment
from gridchain.dashboard.pages.market_intervals import EVENTS
from gridchain.dashboard.settings import DashboardSettings
from gridchain.index.indexer import Indexer, Target, abi_events
from gridchain.index.reader import IndexReader
from gridchain.index.tables import SCHEMA
from gridchain.market import scenarios
from gridchain.market.client import CallMarketClient
from gridchain.market.model import SELL, Order
from gridchain.store.engine import Store, open_store
from tests.index.harness import catch_up

CONFIG = scenarios.DemoConfig(traders=4, intervals=2)
CHAIN_ID = 31337


class MarketDay:
    """The chain (`gateway`, locked), the market's client, the day's result, and a store holding the market's index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        chain = BoaGateway(accounts=CONFIG.traders + 1)
        self.start_block = chain.block_number()
        self.day = scenarios.run(chain, CONFIG)
        self.gateway = LockedGateway(chain)  # shared with a server's threads from here on: one call at a time
        self.client = CallMarketClient(self.gateway, self.day.market)
        self.pending = self._commit_only()
        self.store = open_store(f"sqlite:///{folder / 'index.db'}")

    def _commit_only(self) -> int:
        """One trader commits to the next interval that still takes commits, nobody reveals; its number."""
        p = self.client.params()
        k = (self.gateway.now() + p.gate_s + p.reveal_s) // p.interval_s + 2
        trader = self.day.traders[0]
        self.client.commit(trader, k, Order(trader.lower(), 150_000, 500, 0, SELL))
        return k

    def events(self, names=EVENTS) -> list:
        """The market's events as the node logged them (not the index)."""
        return read_events(self.gateway, self.client.artifact, self.client.address, names, self.start_block)

    def index(self, client: CallMarketClient | None = None, store: Store | None = None) -> None:
        """The market's events (or `client`'s market's) into the store (or `store`), up to the chain's head."""
        c, store = client or self.client, store or self.store
        store.migrate(SCHEMA)
        target = Target("market", c.address, c.artifact, abi_events(c.artifact), self.start_block)
        catch_up(Indexer(store, self.gateway, [target]))

    def deployment(
        self, record: bool = True, store: Store | None = None, poll_s: float = 2.0, market: str | None = None
    ) -> Deployment:
        """What `gridchain dashboard` would open on this day: a record naming the market (or `market`, or none),
        the day's index (or `store`)."""
        contracts = {}
        if record:
            address = market or self.client.address
            contracts["market"] = {
                "contract": "call_market",
                "address": address,
                "block": self.start_block,
                "code_hash": code_hash(self.gateway.code(address)),
            }
        data = {"chain_id": CHAIN_ID, "contracts": contracts}
        settings = DashboardSettings(("127.0.0.1", 0), poll_s, self.folder / "results")
        config = Config(self.folder / "gridchain.toml", {})
        return Deployment(
            config,
            settings,
            self.gateway,
            CHAIN_ID,
            "http://127.0.0.1:1",
            DeploymentRecord(self.folder / "deployment.json", data),
            store or self.store,
            IndexReader(store or self.store),
        )

    def close(self) -> None:
        self.store.close()
