"""The fault suite's index invariant on its own (fast, part of `make test`): an index equal to the chain passes, and
an event missed, one that is not on the chain or a checkpoint off the chain each count as a loss naming it."""

import pytest
from sqlalchemy import delete, insert, update

from gridchain.chain.anvil import start_anvil
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.index import tables
from gridchain.index.reader import IndexReader
from gridchain.index.tables import SCHEMA
from gridchain.store.engine import open_store
from tests.faults.invariants import INDEX, _index_equals_chain
from tests.index.harness import catch_up, indexer, post, posting_contract

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def indexed(tmp_path_factory):
    """A contract with a few events on anvil, indexed into SQLite: (store, rpc url)."""
    node = start_anvil(accounts=1)
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('index')}/index.db")
    try:
        client, start = posting_contract(RpcGateway(node.url, node.keys))
        post(client, 3)
        store.migrate(SCHEMA)
        catch_up(indexer(store, client, start))
        yield store, node.url
    finally:
        store.close()
        node.stop()


def losses(store, url):
    reader = IndexReader(store)
    return [loss for c in reader.checkpoints() for loss in _index_equals_chain(reader, url, c)]


def test_an_index_equal_to_the_chain_loses_nothing(indexed):
    assert losses(*indexed) == []


def test_a_missed_event_and_one_the_chain_does_not_have_are_losses(indexed):
    store, url = indexed
    first = IndexReader(store).events("coordinator")[0]
    row = {c.name: getattr(first, c.name) for c in tables.events.columns if c.name != "args"}
    block = tables.events.c.block == first.block
    store.atomic(lambda c: c.execute(delete(tables.events).where(block, tables.events.c.log_index == first.log_index)))
    try:
        (missed,) = losses(store, url)
        assert missed.invariant == INDEX and "missed" in missed.detail and str(first.block) in missed.detail
        store.atomic(
            lambda c: c.execute(insert(tables.events).values(row | {"args": first.args_json, "log_index": 99}))
        )
        assert [x.detail.split(": ")[1].split(" [")[0] for x in losses(store, url)] == ["missed", "not on the chain"]
    finally:
        store.atomic(
            lambda c: c.execute(
                delete(tables.events).where(block, tables.events.c.log_index.in_([99, first.log_index]))
            )
        )
        store.atomic(lambda c: c.execute(insert(tables.events).values(row | {"args": first.args_json})))
    assert losses(store, url) == []


def test_a_checkpoint_off_the_chain_is_a_loss(indexed):
    store, url = indexed
    checkpoint = IndexReader(store).checkpoint("coordinator")
    moved = update(tables.cursors).where(tables.cursors.c.contract == "coordinator")
    store.atomic(lambda c: c.execute(moved.values(hash="0x" + "11" * 32)))
    try:
        (off,) = losses(store, url)
        assert off.invariant == INDEX and "is not the chain's" in off.detail
    finally:
        store.atomic(lambda c: c.execute(moved.values(hash=checkpoint.hash)))
