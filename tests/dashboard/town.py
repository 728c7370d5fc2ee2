"""A small pilot for the dashboard's tests: a deployment written by `gridchain init` on anvil, its coordinator
deployed by `gridchain deploy`, members submitting requests and a keeper closing slots in-process (the chain's
clock moved to each slot's end), the indexer stepped to the head. The dashboard then reads it as a user's would."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.cli import app
from gridchain.config.accounts import account_key
from gridchain.config.file import load_config
from gridchain.config.store import config_store
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.parties.keeper import Keeper
from gridchain.index.indexer import Indexer, Target, abi_events
from gridchain.index.tables import SCHEMA
from tests.index.harness import catch_up
from tests.support.pilot import init_pilot

SLOT_S = 600


class Town:
    """The pilot's folder (`config`), the coordinator's client (owner and dev accounts as members), a keeper."""

    def __init__(self, node, folder: Path, seed: int = 18, limit: int = 8) -> None:
        edits = {"dashboard.poll_s": "0.3"}
        self.config = init_pilot(folder, 2, rpc_url=node.url, slot_length_s=SLOT_S, edits=edits)
        r = CliRunner().invoke(app, ["deploy", "coordinator", "--config", str(self.config)])
        assert r.exit_code == 0, r.output
        entry = json.loads((self.config.parent / "deployment.json").read_text())["contracts"]["coordinator"]
        self.start_block = entry["block"]
        owner_key = account_key(load_config(self.config), "owner", 31337)
        self.gateway = RpcGateway(node.url, [owner_key, *node.keys[1:]])
        self.owner, keeper, *self.members = self.gateway.accounts
        self.client = CoordinatorClient(self.gateway, entry["address"], None, self.start_block)
        for m in self.members:
            self.client.set_member(self.owner, m)
            self.client.set_request_limit(self.owner, m, limit)
        self.keeper = Keeper(self.client, keeper)
        self.rng = random.Random(seed)
        self.store = config_store(load_config(self.config))
        self.store.migrate(SCHEMA)
        events = abi_events(self.client.artifact)
        target = Target("coordinator", self.client.address, self.client.artifact, events, self.start_block)
        self.indexer = Indexer(self.store, self.gateway, [target])

    def slot(self, requests: int, capacity_w: int | None = None, index: bool = True) -> int:
        """`requests` random requests into the current slot, its capacity posted (if given), the slot closed at
        its end and the index caught up (unless not `index`); the slot's number."""
        now = self.gateway.now()
        slot = (now - int(self.client.view("START_TIME"))) // SLOT_S
        if capacity_w is not None:
            self.client.post_capacity(self.owner, slot, capacity_w)
        for _ in range(requests):
            member = self.rng.choice(self.members)
            self.client.submit_request(member, self.rng.randint(3_000, 22_000), self.rng.randint(0, 999), 2)
        self.gateway.advance_time(self.client.slot_end(slot) - now)
        closed = self.keeper.close_due()
        assert closed, "the keeper closed nothing"
        if index:
            self.index()
        return slot

    def reorganised(self) -> None:
        """After `evm_revert`: nonces, the client's history and the keeper's carry-over read afresh."""
        for account in self.gateway.accounts:
            self.gateway.forget_nonce(account)
        self.client.reset_history()
        self.keeper = Keeper(self.client, self.keeper.account)

    def index(self) -> None:
        catch_up(self.indexer)

    def close(self) -> None:
        self.store.close()
