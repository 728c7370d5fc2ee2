"""Reorganisations under the keeper, on anvil (`anvil_reorg`, `evm_snapshot`/`evm_revert`), with the indexer
running alongside: a close the keeper sent is dropped from the canonical chain, the keeper notices (the
coordinator's next slot to close went back) and closes the slot again from the same account; after every
reorganisation each slot is closed exactly once on the chain, every slot verifies, and the index equals the
chain (no event counted twice or missed)."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from gridchain.chain.anvil import start_anvil
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.parties.keeper import Keeper
from gridchain.coordination.parties.keeper_loop import KeeperLoop
from gridchain.coordination.parties.verifier import verify_range
from gridchain.index.tables import SCHEMA
from gridchain.store.engine import open_store
from tests.index.harness import catch_up, chain_view, index_view, indexer
from tests.support.processes import rpc

pytestmark = pytest.mark.integration

SLOT_S = 600
RECEIPT_S = 10  # a close stuck in the pool (a nonce ahead of the chain's) fails the test in seconds, not minutes


@pytest.fixture(scope="module")
def anvil():
    node = start_anvil(accounts=6)
    yield node
    node.stop()


class Town:
    """A coordinator on anvil, its members, a keeper (its loop, logging into `lines`) and an indexer over it."""

    def __init__(self, anvil, folder, seed: int = 17) -> None:
        self.url = anvil.url
        self.gateway = RpcGateway(anvil.url, anvil.keys, timeout=RECEIPT_S)
        owner, keeper, *self.members = self.gateway.accounts
        self.client, receipt = CoordinatorClient.deploy(self.gateway, owner, self.gateway.now(), SLOT_S, 500, 40_000)
        self.start = receipt.block
        for m in self.members:
            self.client.set_member(owner, m)
            self.client.set_request_limit(owner, m, 4)
        self.lines: list[dict] = []  # the keeper: a gateway and a client of its own, as its own process has
        own = CoordinatorClient(RpcGateway(anvil.url, anvil.keys, timeout=RECEIPT_S), self.client.address)
        self.loop = KeeperLoop(Keeper(own, keeper), self.lines.append)
        self.store = open_store(f"sqlite:///{folder}/index.db")
        self.store.migrate(SCHEMA)
        self.indexer = indexer(self.store, self.client, self.start)
        self.rng = random.Random(seed)

    def fill(self, count: int) -> None:
        """`count` random requests into the current slot."""
        for _ in range(count):
            member = self.rng.choice(self.members)
            self.client.submit_request(member, self.rng.randint(5_000, 30_000), self.rng.randint(0, 999), 2)

    def reorganised(self) -> None:
        """After a reorganisation: the members' nonces counted past dropped transactions are read again."""
        for m in self.members:
            self.gateway.forget_nonce(m)

    def end_slot(self) -> None:
        """Move the chain's clock to the end of the current slot."""
        now = self.gateway.now()
        slot = (now - int(self.client.view("START_TIME"))) // SLOT_S
        self.gateway.advance_time(self.client.slot_end(slot) - now)

    def keep(self) -> list[int]:
        """One round of the keeper's loop; the slots it closed (a failed round fails the test)."""
        before = len(self.lines)
        self.loop.round()
        new = self.lines[before:]
        assert all(line["event"] in ("closed", "dropped") for line in new), new
        return [line["slot"] for line in new if line["event"] == "closed"]

    def dropped(self) -> list[int]:
        """The slots the keeper closed again after a reorganisation dropped its last close."""
        return [line["slot"] for line in self.lines if line["event"] == "dropped"]

    def closes(self) -> Counter:
        """SlotClosed events per slot, read afresh from the chain."""
        fresh = CoordinatorClient(self.gateway, self.client.address, self.client.artifact, self.start)
        return Counter(e.args["slot"] for e in fresh.closes())

    def check(self) -> None:
        """Every slot below the next to close closed exactly once, verified; the index equal to the chain."""
        upto = self.client.next_slot_to_close
        closes = self.closes()
        assert closes == Counter(range(upto)), closes
        fresh = CoordinatorClient(self.gateway, self.client.address, self.client.artifact, self.start)
        verdicts = verify_range(fresh, 0, upto - 1)
        assert [v.slot for v in verdicts if v.ok] == list(range(upto)), [v.mismatches for v in verdicts]
        self.index_equals_chain()

    def index_equals_chain(self) -> None:
        """The indexer, caught up, holds exactly the chain's events: none twice, none missed, none left over."""
        catch_up(self.indexer)
        view = index_view(self.store, self.client)
        assert view == chain_view(self.client, self.start)
        assert len({(e.block, e.log_index) for e in view}) == len(view)


@pytest.fixture
def town(anvil, tmp_path):
    t = Town(anvil, tmp_path)
    yield t
    t.store.close()


def test_a_close_dropped_by_anvil_reorg_is_sent_again(town):
    town.fill(3)
    town.end_slot()
    assert town.keep() == [0]
    catch_up(town.indexer)
    rpc(town.url, "anvil_reorg", [2, []])  # the close's block and the one of the clock's move: empty ones
    assert town.client.next_slot_to_close == 0
    town.end_slot()
    assert town.keep() == [0] and town.dropped() == [0]
    town.check()


def test_a_close_undone_by_a_revert_to_a_snapshot_is_sent_again(town):
    town.fill(2)
    town.end_slot()
    town.keep()
    snapshot = rpc(town.url, "evm_snapshot")
    town.fill(3)
    town.end_slot()
    assert town.keep() == [1]
    catch_up(town.indexer)
    rpc(town.url, "evm_revert", [snapshot])
    town.reorganised()
    assert town.client.next_slot_to_close == 1
    town.fill(1)
    town.end_slot()
    assert town.keep() == [1] and town.dropped() == [1]
    town.check()


def test_seeded_rounds_of_reorgs_close_every_slot_once_and_keep_the_index_equal_to_the_chain(town):
    rng, kinds = random.Random(17), Counter()
    for _ in range(6):
        snapshot = rpc(town.url, "evm_snapshot") if rng.random() < 0.5 else None
        town.fill(rng.randint(0, 4))
        town.end_slot()
        assert town.keep()
        if rng.random() < 0.6:
            catch_up(town.indexer)  # the index has read the close that is about to be dropped
        if snapshot is not None:
            rpc(town.url, "evm_revert", [snapshot])
        else:
            rpc(town.url, "anvil_reorg", [rng.randint(1, 4), []])
        kinds["revert" if snapshot is not None else "anvil_reorg"] += 1
        town.reorganised()
        town.index_equals_chain()  # the close is gone from the index too
        town.fill(rng.randint(0, 2))
        town.end_slot()
        town.keep()
        town.check()
    assert kinds["revert"] and kinds["anvil_reorg"], kinds
    assert len(town.dropped()) >= 3, town.lines  # the keeper really closed again after its close was dropped
