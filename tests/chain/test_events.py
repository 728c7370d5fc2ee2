"""The checkpointed event log: each block read once, in bounded ranges, below the confirmations, reorgs detected."""

import pytest

from gridchain.chain.anvil import _rpc
from gridchain.chain.compiler import compile_contract
from gridchain.chain.events import ChainReorganized, EventLog
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.coordination.client import CoordinatorClient
from tests.support.counting import CountingGateway

NAMES = ("CapacityPosted", "RequestSubmitted")


def posting_contract(gateway):
    """A coordinator whose owner posts capacities: one CapacityPosted log per transaction (one block each
    on the embedded chain and on anvil without interval mining)."""
    owner = gateway.accounts[0]
    client, receipt = CoordinatorClient.deploy(gateway, owner, gateway.now(), 3600, 500, 1_000)
    return client, owner, receipt.block


def post(client, owner, count, first=0):
    return [client.post_capacity(owner, first + i, 1_000 + i).block for i in range(count)]


def test_bounded_ranges_cover_every_block_exactly_once(gateway):
    client, owner, deployed = posting_contract(gateway)
    blocks = post(client, owner, 7)
    counting = CountingGateway(gateway)
    log = EventLog(counting, client.artifact, client.address, NAMES, start_block=deployed, max_range=3)
    new = log.sync()
    head = gateway.block_number()
    assert sorted(counting.blocks_read()) == list(range(deployed, head + 1))  # no gap, no overlap
    assert all(hi - lo + 1 <= 3 for lo, hi in counting.ranges)
    assert [e.block for e in new] == blocks and [e.args["capacity_w"] for e in new] == list(range(1_000, 1_007))
    assert new == gateway.events(client.artifact, client.address, "CapacityPosted", deployed)
    assert log.checkpoint == head and all(e.block_hash.startswith("0x") and len(e.block_hash) == 66 for e in new)


def test_a_second_sync_reads_only_new_blocks(gateway):
    client, owner, deployed = posting_contract(gateway)
    post(client, owner, 2)
    counting = CountingGateway(gateway)
    log = EventLog(counting, client.artifact, client.address, NAMES, start_block=deployed)
    assert len(log.sync()) == 2
    first_head = log.checkpoint
    assert counting.ranges == [(deployed, first_head)]
    assert log.sync() == [] and len(counting.ranges) == 1  # nothing mined: nothing asked
    later = post(client, owner, 3, first=2)
    new = log.sync()
    assert counting.ranges[1:] == [(first_head + 1, gateway.block_number())]
    assert [e.block for e in new] == later and len(log.events) == 5


def test_confirmations_hold_back_the_newest_blocks(gateway):
    client, owner, deployed = posting_contract(gateway)
    blocks = post(client, owner, 4)
    log = EventLog(gateway, client.artifact, client.address, NAMES, start_block=deployed, confirmations=2)
    assert [e.block for e in log.sync()] == blocks[:2]
    assert log.checkpoint == gateway.block_number() - 2
    post(client, owner, 2, first=4)
    assert [e.block for e in log.sync()] == blocks[2:]


def test_max_range_must_be_positive():
    artifact = compile_contract("charging_coordinator")
    with pytest.raises(ValueError, match="max_range must be at least 1"):
        EventLog(None, artifact, "0x" + "11" * 20, NAMES, max_range=0)


def test_the_coordinator_client_reads_each_block_once(gateway):
    client, owner, deployed = posting_contract(gateway)
    post(client, owner, 3)
    counting = CountingGateway(gateway)
    reader = CoordinatorClient(counting, client.address, from_block=deployed, max_log_range=2)
    assert len(reader.postings()) == 3
    reader.submissions(), reader.closes(), reader.expiries(), reader.submissions(0)
    post(client, owner, 1, first=3)
    assert len(reader.postings()) == 4 and reader.closed(0) is None
    assert sorted(counting.blocks_read()) == list(range(deployed, gateway.block_number() + 1))


@pytest.mark.integration
def test_a_reorganisation_below_the_checkpoint_is_detected(anvil):
    gateway = RpcGateway(anvil.url, anvil.keys)
    client, owner, deployed = posting_contract(gateway)
    post(client, owner, 3)
    log = EventLog(gateway, client.artifact, client.address, NAMES, start_block=deployed)
    assert len(log.sync()) == 3
    read_hash = log.checkpoint_hash
    _rpc(anvil.url, "anvil_reorg", [2, []])  # the last two blocks replaced by empty ones
    assert gateway.block_hash(log.checkpoint) != read_hash
    with pytest.raises(ChainReorganized, match=f"block {log.checkpoint} was reorganised"):
        log.sync()
    fresh = EventLog(gateway, client.artifact, client.address, NAMES, start_block=deployed)
    assert len(fresh.sync()) == 1  # the two postings in the replaced blocks are gone from the chain
