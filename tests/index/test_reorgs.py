"""Reorganisations under the indexer, on anvil (`evm_snapshot`/`evm_revert`, `anvil_reorg`) and both store
backends: after every one the index holds exactly the chain's events (a fresh `read_events`), none twice."""

import random

import pytest
from sqlalchemy import func, select

from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.coordination.client import CoordinatorClient
from gridchain.index import tables
from gridchain.index.indexer import ChainMoved
from tests.index.harness import catch_up, chain_view, index_view, indexer, post, posting_contract
from tests.support.processes import rpc

pytestmark = pytest.mark.integration


def fresh_poster(anvil, client):
    """The contract through a new gateway: after a revert the old one's cached nonces run ahead of the chain."""
    return CoordinatorClient(RpcGateway(anvil.url, anvil.keys), client.address, client.artifact)


def assert_same_view(store, client, deployed, to_block=None):
    view = index_view(store, client)
    assert view == chain_view(client, deployed, to_block)
    stored = store.read(lambda c: c.execute(select(func.count()).select_from(tables.events)).scalar_one())
    assert stored == len(view)  # nothing stored twice, nothing left over from the replaced blocks


@pytest.fixture
def deployed(anvil):
    client, block = posting_contract(RpcGateway(anvil.url, anvil.keys))
    return client, block


@pytest.mark.parametrize("longer", [False, True], ids=["shorter", "longer"])
def test_a_reverted_branch_is_rolled_back_and_the_new_one_read(anvil, index_store, deployed, longer):
    client, start = deployed
    idx = indexer(index_store, client, start)
    catch_up(idx)
    snapshot = rpc(anvil.url, "evm_snapshot")
    post(client, 3)
    catch_up(idx)
    read_to = client.gateway.block_number()
    rpc(anvil.url, "evm_revert", [snapshot])
    post(fresh_poster(anvil, client), 5 if longer else 2, first=10, capacity=7_000)
    results = catch_up(idx)
    reorg = results[0].reorg
    assert reorg is not None and (reorg.from_block, reorg.to_block, reorg.events_dropped) == (read_to, start, 3)
    assert_same_view(index_store, client, start)
    posted = [e.args["capacity_w"] for e in index_view(index_store, client) if e.name == "CapacityPosted"]
    assert posted == list(range(7_000, 7_005 if longer else 7_002))


def test_anvil_reorg_replaced_blocks_are_rolled_back(anvil, index_store, deployed):
    client, start = deployed
    post(client, 4)
    idx = indexer(index_store, client, start)
    catch_up(idx)
    rpc(anvil.url, "anvil_reorg", [2, []])  # the last two blocks replaced by empty ones
    assert idx.step().reorg.events_dropped == 2
    catch_up(idx)
    assert_same_view(index_store, client, start)
    post(fresh_poster(anvil, client), 1, first=20)
    catch_up(idx)
    assert_same_view(index_store, client, start)


def test_a_reorg_above_the_confirmations_never_reaches_the_index(anvil, index_store, deployed):
    client, start = deployed
    post(client, 4)
    idx = indexer(index_store, client, start, confirmations=2)
    catch_up(idx)
    rpc(anvil.url, "anvil_reorg", [2, []])
    results = catch_up(idx)
    assert all(r.reorg is None for r in results)
    assert_same_view(index_store, client, start, client.gateway.block_number() - 2)


class ReorgWhileReading:
    """A gateway that has anvil replace the newest block during the first log request it forwards."""

    def __init__(self, gateway, url):
        self._gateway, self._url, self.fired = gateway, url, False

    def __getattr__(self, name):
        return getattr(self._gateway, name)

    def logs(self, *args):
        found = self._gateway.logs(*args)
        if not self.fired:
            self.fired = True
            rpc(self._url, "anvil_reorg", [1, []])
        return found


def test_a_reorg_during_a_read_writes_nothing_and_the_next_step_reads_again(anvil, index_store, deployed):
    client, start = deployed
    post(client, 3)
    idx = indexer(index_store, client, start)
    idx.gateway = ReorgWhileReading(client.gateway, anvil.url)
    with pytest.raises(ChainMoved, match="replaced while its logs were read"):
        idx.step()
    assert idx.cursors() == {"coordinator": (start - 1, None)}
    catch_up(idx)
    assert_same_view(index_store, client, start)


def test_seeded_rounds_of_reorgs_keep_the_index_equal_to_the_chain(anvil, index_store, deployed):
    client, start = deployed
    idx = indexer(index_store, client, start, max_range=2)
    poster, rng = client, random.Random(17)
    for round_ in range(6):
        post(poster, rng.randint(1, 4), first=100 * round_, capacity=rng.randint(1, 10**6))
        catch_up(idx)
        assert_same_view(index_store, client, start)
        if rng.random() < 0.5:
            snapshot = rpc(anvil.url, "evm_snapshot")
            post(poster, rng.randint(1, 3), first=100 * round_ + 50)
            catch_up(idx) if rng.random() < 0.7 else None
            rpc(anvil.url, "evm_revert", [snapshot])
        else:
            rpc(anvil.url, "anvil_reorg", [rng.randint(1, 3), []])
        poster = fresh_poster(anvil, client)
        catch_up(idx)
        assert_same_view(index_store, client, start)
