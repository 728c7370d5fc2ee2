import pytest

from gridchain.actors.keeper import Keeper, pending
from gridchain.chain.gateway import ChainRevert


def test_nothing_due_before_the_slot_ends(town):
    town.fill(3)
    keeper = Keeper(town.client, town.keeper_account)
    assert keeper.close_next() is None and keeper.close_due() == []
    assert town.client.next_slot_to_close == 0


def test_closes_every_ended_slot_in_order(town):
    for _ in range(3):
        town.fill(6)
        town.next_slot()
    receipts = Keeper(town.client, town.keeper_account).close_due()
    assert [r.named("SlotClosed")[0].args["slot"] for r in receipts] == [0, 1, 2]
    assert town.client.next_slot_to_close == 3


def test_pending_equals_the_model_across_carry_over(town):
    model = town.model()
    keeper = Keeper(town.client, town.keeper_account)
    for slot in range(4):
        for s in [town.client.submit_request(m, d, soc, t)[0] for m, d, soc, t in [
                (town.members[0], 70_000, 100, 3), (town.members[1], 60_000, 200, 2), (town.members[2], 20_000, 0, 1)]]:
            model.submit_request(s.sender, model.slot_end(s.slot) - 1, s.request & (2**64 - 1), (s.request >> 64) & 0xFFFF,
                                 (s.request >> 80) & 0xFFFFFFFF)  # fmt: skip
        town.next_slot()
        assert pending(town.client, slot) == model.pending(slot)
        event = keeper.close_next().named("SlotClosed")[0].args
        assert event == model.close_slot(model.slot_end(slot), slot).event()
    assert any(model.carried.get(s) for s in range(1, 5))  # carry-over really happened


def test_a_restarted_keeper_resumes_without_closing_twice(town):
    town.fill(4)
    town.next_slot()
    town.fill(4)
    town.next_slot()
    first = Keeper(town.client, town.keeper_account)
    assert first.close_next() is not None  # slot 0, then the keeper "crashes"
    second = Keeper(town.client, town.members[0])  # a fresh keeper, any account, no local state
    assert [r.named("SlotClosed")[0].args["slot"] for r in second.close_due()] == [1]
    assert first.close_due() == []  # the old one wakes up: nothing left, nothing closed twice


def test_racing_keepers(town, monkeypatch):
    town.fill(2)
    town.next_slot()
    a = Keeper(town.client, town.keeper_account)
    b = Keeper(town.client, town.members[0])
    real_close = town.client.close_slot

    def close_first_by_a(sender, slot, requests, order):  # a wins the race while b is about to send
        monkeypatch.setattr(town.client, "close_slot", real_close)
        a.close_next()
        return real_close(sender, slot, requests, order)

    monkeypatch.setattr(town.client, "close_slot", close_first_by_a)
    assert b.close_next() is None  # "slot already closed" is not an error for a keeper
    assert town.client.next_slot_to_close == 1


def test_retries_transport_failures(town, monkeypatch):
    town.fill(2)
    town.next_slot()
    real_close, calls, sleeps = town.client.close_slot, [], []

    def flaky(*args):
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("node went away")
        return real_close(*args)

    monkeypatch.setattr(town.client, "close_slot", flaky)
    keeper = Keeper(town.client, town.keeper_account, retries=3, backoff_s=0.1, sleep=sleeps.append)
    assert keeper.close_next() is not None
    assert len(calls) == 3 and sleeps == [0.1, 0.2]


def test_gives_up_after_retries(town, monkeypatch):
    town.fill(1)
    town.next_slot()

    def broken(*args):
        raise ConnectionError("down")

    monkeypatch.setattr(town.client, "close_slot", broken)
    with pytest.raises(ConnectionError):
        Keeper(town.client, town.keeper_account, retries=2, sleep=lambda s: None).close_next()
    assert town.client.next_slot_to_close == 0


def test_a_real_revert_is_not_retried(town, monkeypatch):
    town.fill(1)
    town.next_slot()
    calls = []

    def refused(*args):
        calls.append(1)
        raise ChainRevert("coordinator: order not sorted")

    monkeypatch.setattr(town.client, "close_slot", refused)
    with pytest.raises(ChainRevert):
        Keeper(town.client, town.keeper_account, retries=3, sleep=lambda s: None).close_next()
    assert calls == [1]


def test_pages_large_slots_and_resumes_after_a_paged_close(town):
    model = town.model()
    keeper = Keeper(town.client, town.keeper_account, page=3)  # any slot with more than 3 requests is paged
    for slot in range(3):
        for s in [town.client.submit_request(town.members[i % 4], 15_000 + 4_000 * i, (211 * i + slot) % 1000,
                                             1 + (i + slot) % 4)[0] for i in range(7)]:  # fmt: skip
            w = s.request
            model.submit_request(s.sender, model.slot_end(s.slot) - 1, w & (2**64 - 1), (w >> 64) & 0xFFFF,
                                 (w >> 80) & 0xFFFFFFFF)  # fmt: skip
        town.next_slot()
        receipt = keeper.close_next()
        assert town.client.close_input(receipt.tx_hash) is None  # closed by finish_close
        assert receipt.named("SlotClosed")[0].args == model.close_slot(model.slot_end(slot), slot).event()
    # a fresh keeper rebuilds the carry-over of a paged close from the chain alone
    from gridchain.actors.keeper import pending

    assert pending(town.client, 3) == model.pending(3)
