"""The indexer on the embedded chain and on both store backends: each log stored once with its block and the
contract's cursor, in bounded ranges, below the confirmations; a restart resumes; a failed step writes nothing."""

import json

import pytest
from sqlalchemy import func, select

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.errors import InputError
from gridchain.index import tables
from gridchain.index.indexer import Indexer, Target
from gridchain.index.reader import IndexReader
from tests.index.harness import catch_up, chain_view, index_view, indexer, post, posting_contract, target
from tests.support.counting import CountingGateway


@pytest.fixture
def chain():
    gateway = BoaGateway(accounts=2)
    client, deployed = posting_contract(gateway)
    return client, deployed


def count(store, table):
    return store.read(lambda c: c.execute(select(func.count()).select_from(table)).scalar_one())


def test_bounded_steps_store_each_event_once_with_its_block_and_cursor(index_store, chain):
    client, deployed = chain
    post(client, 7)
    counting = CountingGateway(client.gateway)
    idx = Indexer(index_store, counting, [target(client, deployed)], max_range=3)
    results = catch_up(idx)
    head = client.gateway.block_number()
    assert sorted(counting.blocks_read()) == list(range(deployed, head + 1))  # no gap, no overlap
    assert all(hi - lo + 1 <= 3 for lo, hi in counting.ranges)
    assert index_view(index_store, client) == chain_view(client, deployed)
    assert sum(r.new_events for r in results) == 8  # the deployment's and seven postings
    checkpoint = IndexReader(index_store).checkpoint("coordinator")
    assert (checkpoint.block, checkpoint.hash) == (head, client.gateway.block_hash(head))
    stored = index_store.read(lambda c: c.execute(select(tables.blocks)).all())
    assert all(client.gateway.header(b.number).hash == b.hash for b in stored)
    assert {b.number for b in stored} >= {e.block for e in index_view(index_store, client)} | {head}


def test_a_restarted_indexer_resumes_from_its_cursor(index_store, chain):
    client, deployed = chain
    post(client, 3)
    catch_up(indexer(index_store, client, deployed))
    later = post(client, 2, first=3)
    counting = CountingGateway(client.gateway)
    again = Indexer(index_store, counting, [target(client, deployed)])
    assert [r.new_events for r in catch_up(again)] == [2]
    assert counting.ranges == [(later[0], later[-1])]
    assert index_view(index_store, client) == chain_view(client, deployed)
    assert count(index_store, tables.events) == 6


def test_confirmations_hold_back_the_newest_blocks(index_store, chain):
    client, deployed = chain
    blocks = post(client, 4)
    idx = indexer(index_store, client, deployed, confirmations=2)
    catch_up(idx)
    assert [e.block for e in index_view(index_store, client)][1:] == blocks[:2]
    assert idx.cursors()["coordinator"][0] == client.gateway.block_number() - 2


def test_a_step_that_fails_while_writing_writes_nothing(index_store, chain, monkeypatch):
    client, deployed = chain
    post(client, 3)
    idx = indexer(index_store, client, deployed)
    idx.prepare()

    def crash(connection):
        raise RuntimeError("killed inside the transaction")

    monkeypatch.setattr("gridchain.index.indexer._prune", crash)  # after the events, blocks and cursor
    with pytest.raises(RuntimeError, match="killed"):
        idx.step()
    assert count(index_store, tables.events) == count(index_store, tables.blocks) == 0
    assert idx.cursors() == {"coordinator": (deployed - 1, None)}
    monkeypatch.undo()
    catch_up(idx)
    assert index_view(index_store, client) == chain_view(client, deployed)


def test_event_arguments_are_json_with_big_integers_as_strings(index_store, chain):
    client, deployed = chain
    client.post_capacity(client.gateway.accounts[0], 5, 2**60)
    catch_up(indexer(index_store, client, deployed))
    posted = IndexReader(index_store).events("coordinator", ["CapacityPosted"])
    assert [e.args for e in posted] == [{"slot": 5, "capacity_w": str(2**60)}]
    assert json.loads(posted[0].args_json)["capacity_w"] == str(2**60)
    assert posted[0].event(client.artifact).args["capacity_w"] == 2**60


def test_the_reader_filters_by_name_and_block_range(index_store, chain):
    client, deployed = chain
    blocks = post(client, 4)
    catch_up(indexer(index_store, client, deployed))
    reader = IndexReader(index_store)
    assert [e.block for e in reader.events("coordinator", ["CapacityPosted"], blocks[1], blocks[2])] == blocks[1:3]
    assert reader.counts()["coordinator"]["CapacityPosted"] == 4
    assert reader.events("v2v") == [] and reader.checkpoint("v2v") is None


def test_a_contract_read_at_another_address_is_refused(index_store, chain):
    client, deployed = chain
    catch_up(indexer(index_store, client, deployed))
    other, _ = posting_contract(client.gateway)
    moved = Target("coordinator", other.address, other.artifact, ("CapacityPosted",), deployed)
    with pytest.raises(InputError, match="deployment.coordinator: the index read"):
        Indexer(index_store, client.gateway, [moved]).prepare()


def test_max_range_must_be_positive(index_store, chain):
    client, deployed = chain
    with pytest.raises(ValueError, match="max_range must be at least 1"):
        indexer(index_store, client, deployed, max_range=0)
