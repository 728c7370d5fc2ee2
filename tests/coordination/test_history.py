"""The coordinator's history is read once per process: the keeper's steps and a verification of many slots
ask the node only for blocks they have not read, and the keeper extends its carry-over instead of recomputing it."""

import pytest

from gridchain.chain.events import ChainReorganized
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.parties.keeper import Keeper, carried_into, pending
from gridchain.coordination.parties.verifier import verify, verify_range
from tests.support.counting import CountingGateway


def counted(town):
    """A second client of the town's coordinator whose reads are counted."""
    gateway = CountingGateway(town.gateway)
    return gateway, CoordinatorClient(gateway, town.client.address)


def assert_each_block_once(gateway, upto):
    assert sorted(gateway.blocks_read()) == list(range(0, upto + 1))


def test_each_keeper_step_reads_only_new_blocks(town):
    gateway, client = counted(town)
    keeper = Keeper(client, town.keeper_account)
    for slot in range(5):
        town.fill(3)
        town.next_slot()
        before = gateway.block_number()
        assert keeper.close_next().named("SlotClosed")[0].args["slot"] == slot
        assert gateway.ranges[-1][1] == before  # the step read up to the head it found...
        assert_each_block_once(gateway, before)  # ...and no block twice
    assert keeper.carry.rebuilds == 1 and gateway.transactions == []  # extended, never recomputed


def test_the_carry_over_follows_closes_by_other_keepers(town):
    """Two keepers take turns; each extends its carry-over over the other's closes and stays right."""
    model = town.model()
    mine = Keeper(CoordinatorClient(town.gateway, town.client.address), town.keeper_account)
    other = Keeper(town.client, town.members[0])
    for slot in range(6):
        for member, (d, soc, t) in zip(town.members, [(70_000, 100 + slot, 3), (60_000, 200, 2), (40_000, 0, 1)]):
            sub, _ = town.client.submit_request(member, d, soc, t)
            model.submit_request(member, model.slot_end(slot) - 1, d, soc, t)
        town.next_slot()
        assert mine.pending(slot) == model.pending(slot) == pending(town.client, slot)
        keeper = mine if slot % 2 == 0 else other
        event = keeper.close_next().named("SlotClosed")[0].args
        assert event == model.close_slot(model.slot_end(slot), slot).event()
    assert any(model.carried.get(s) for s in range(1, 6)) and mine.carry.rebuilds == 1


def test_a_fresh_keeper_reads_one_close_transaction(town):
    first = Keeper(town.client, town.keeper_account)
    for _ in range(4):
        town.fill(4)
        town.next_slot()
        first.close_next()
    gateway, client = counted(town)
    fresh = Keeper(client, town.members[1])
    assert fresh.pending(4) == pending(town.client, 4)
    assert len(set(gateway.transactions)) == 1  # the calldata of slot 3's close: nothing before it
    assert fresh.carry.into(4) == carried_into(town.client, 4)


def test_the_keeper_reads_afresh_after_a_reorganisation(town, monkeypatch):
    town.fill(3)
    town.next_slot()
    gateway, client = counted(town)
    keeper = Keeper(client, town.keeper_account, sleep=lambda s: None)
    client.sync()
    real_sync, raised = client.sync, []

    def reorganised():
        if not raised:
            raised.append(1)
            raise ChainReorganized(3, "0xaa", "0xbb")
        return real_sync()

    monkeypatch.setattr(client, "sync", reorganised)
    assert keeper.close_next().named("SlotClosed")[0].args["slot"] == 0
    assert raised and gateway.ranges[0][0] == gateway.ranges[1][0] == 0  # read again from the start


def test_the_keeper_gives_up_on_a_chain_that_keeps_reorganising(town, monkeypatch):
    town.fill(1)
    town.next_slot()

    def reorganised():
        raise ChainReorganized(1, "0xaa", None)

    monkeypatch.setattr(town.client, "sync", reorganised)
    with pytest.raises(ChainReorganized):
        Keeper(town.client, town.keeper_account, retries=1, sleep=lambda s: None).close_next()


def test_verifying_100_slots_reads_the_history_once(town):
    keeper = Keeper(town.client, town.keeper_account)
    for slot in range(100):
        town.fill(1 + slot % 3)
        if slot % 10 == 0:
            town.client.post_capacity(town.owner, slot, 60_000 + slot)
        town.next_slot()
        keeper.close_next()
    gateway, client = counted(town)
    verdicts = verify_range(client, 0, 99)
    assert [v.slot for v in verdicts] == list(range(100)) and all(v.ok for v in verdicts)
    head = gateway.block_number()
    assert_each_block_once(gateway, head)
    assert len(gateway.ranges) == 1  # 100 slots, one log request (the default range covers the history)
    closes = len(gateway.transactions)
    assert closes == len(set(gateway.transactions)) * 2 <= 200  # each close's transaction: its target, its input
    assert [v.slot for v in verify_range(client, 40, 49)] == list(range(40, 50))
    assert verify(client, 99).ok
    assert len(gateway.ranges) == 1 and len(gateway.transactions) == closes  # nothing read again


def test_a_range_reaching_past_the_last_close_reports_those_slots_unclosed(town):
    town.fill(2)
    town.next_slot()
    Keeper(town.client, town.keeper_account).close_due()
    verdicts = verify_range(town.client, 0, 2)
    assert [v.ok for v in verdicts] == [True, False, False]
    assert [v.result is None for v in verdicts] == [False, True, True]
