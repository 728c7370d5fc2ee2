"""The read API: the coordinator's history taken from the index (`IndexedLog`) gives verify exactly what the node
gives, without a log request; a reorganisation below what it read is reported as `EventLog` reports it."""

import pytest

from gridchain.chain.events import ChainReorganized
from gridchain.coordination.client import HISTORY, CoordinatorClient
from gridchain.coordination.parties.keeper import Keeper
from gridchain.coordination.parties.verifier import fetch_records, verify
from gridchain.index.reader import IndexedLog, IndexReader
from tests.coordination.conftest import Town
from tests.index.harness import catch_up, indexer
from tests.support.counting import CountingGateway


@pytest.fixture
def town():
    """Two slots closed by the keeper on the embedded chain."""
    town = Town(members=2)
    keeper = Keeper(town.client, town.keeper_account)
    for _ in range(2):
        town.fill(3)
        town.next_slot()
        keeper.close_due()
    return town


def from_index(store, town, gateway=None):
    gateway = gateway or town.gateway
    client = CoordinatorClient(gateway, town.client.address, town.client.artifact)
    client.log = IndexedLog(IndexReader(store), "coordinator", client.artifact, HISTORY, gateway)
    return client


def test_verify_reads_the_same_history_from_the_index_without_a_log_request(index_store, town):
    catch_up(indexer(index_store, town.client, 1))
    counting = CountingGateway(town.gateway)
    client = from_index(index_store, town, counting)
    assert all(verify(client, slot).ok for slot in range(2))
    assert counting.ranges == []  # no eth_getLogs: the events came from the store
    node = CoordinatorClient(town.gateway, town.client.address, town.client.artifact, from_block=1)
    assert fetch_records(client) == fetch_records(node)


def test_the_indexed_log_reads_only_up_to_the_checkpoint_and_then_what_is_new(index_store, town):
    idx = indexer(index_store, town.client, 1)
    catch_up(idx)
    client = from_index(index_store, town, town.gateway)
    before = len(client.log.sync())
    town.fill(2)
    assert client.log.sync() == []  # not indexed yet
    catch_up(idx)
    assert [e.name for e in client.log.sync()] == ["RequestSubmitted"] * 2
    assert len(client.log.events) == before + 2


class Reorganised:
    """A gateway on which every block has another hash than before."""

    def __init__(self, gateway):
        self._gateway = gateway

    def __getattr__(self, name):
        return getattr(self._gateway, name)

    def block_hash(self, number):
        return "0x" + "ee" * 32


def test_a_block_read_that_the_chain_replaced_is_reported(index_store, town):
    catch_up(indexer(index_store, town.client, 1))
    log = IndexedLog(IndexReader(index_store), "coordinator", town.client.artifact, HISTORY, town.gateway)
    log.sync()
    log.gateway = Reorganised(town.gateway)
    with pytest.raises(ChainReorganized, match=f"block {log.checkpoint} was reorganised"):
        log.sync()
