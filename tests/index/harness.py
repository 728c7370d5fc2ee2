"""A contract that logs an event per transaction, an indexer over it, and the index's view beside the chain's."""

from __future__ import annotations

from gridchain.chain.events import read_events
from gridchain.coordination.client import CoordinatorClient
from gridchain.index.indexer import Indexer, Target, abi_events
from gridchain.index.reader import IndexReader


def posting_contract(gateway):
    """A coordinator whose owner posts capacities: one CapacityPosted log per transaction (a block each)."""
    owner = gateway.accounts[0]
    client, receipt = CoordinatorClient.deploy(gateway, owner, gateway.now(), 3600, 500, 1_000)
    return client, receipt.block


def post(client, count, first=0, capacity=1_000):
    owner = client.gateway.accounts[0]
    return [client.post_capacity(owner, first + i, capacity + i).block for i in range(count)]


def target(client, start_block):
    return Target("coordinator", client.address, client.artifact, abi_events(client.artifact), start_block)


def indexer(store, client, start_block, **options):
    return Indexer(store, client.gateway, [target(client, start_block)], **options)


def catch_up(idx, limit=200):
    """Steps until the indexer is caught up; the results."""
    results = []
    for _ in range(limit):
        results.append(idx.step())
        if results[-1].caught_up:
            return results
    raise AssertionError("the indexer did not catch up")


def index_view(store, client):
    """The index's coordinator events, decoded as a gateway decodes them."""
    return [e.event(client.artifact) for e in IndexReader(store).events("coordinator")]


def chain_view(client, start_block, to_block=None):
    """The chain's events, read afresh (up to `to_block`)."""
    events = read_events(client.gateway, client.artifact, client.address, abi_events(client.artifact), start_block)
    return [e for e in events if to_block is None or e.block <= to_block]
