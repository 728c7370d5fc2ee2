import pytest

from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import ChainRevert
from gridchain.coordination.model.coordinator import (
    CoordinatorModel,
    close_calldata,
    paged_calldata,
)
from gridchain.coordination.parties.keeper import Keeper, pending
from gridchain.coordination.parties.verifier import verify


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
        for s in [
            town.client.submit_request(m, d, soc, t)[0]
            for m, d, soc, t in [
                (town.members[0], 70_000, 100, 3),
                (town.members[1], 60_000, 200, 2),
                (town.members[2], 20_000, 0, 1),
            ]
        ]:
            model.submit_request(
                s.sender,
                model.slot_end(s.slot) - 1,
                s.request & (2**64 - 1),
                (s.request >> 64) & 0xFFFF,
                (s.request >> 80) & 0xFFFFFFFF,
            )
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


def test_a_keeper_whose_last_close_was_dropped_takes_its_nonce_from_the_chain_again(town, monkeypatch):
    forgotten, dropped = [], []
    monkeypatch.setattr(town.gateway, "forget_nonce", forgotten.append)
    keeper = Keeper(town.client, town.keeper_account, on_dropped=lambda slot, tx: dropped.append((slot, tx)))
    town.next_slot()
    first = keeper.close_next()
    town.next_slot()
    keeper.close_next()
    assert forgotten == dropped == []  # its closes are on the chain: the nonce it counted is right
    gone = keeper.last_tx
    monkeypatch.setattr(town.gateway, "known", lambda tx: tx != gone)  # a reorganisation dropped the last close
    town.next_slot()
    assert keeper.close_next().named("SlotClosed")[0].args["slot"] == 2
    assert forgotten == [town.keeper_account] and dropped == [(2, gone)] and gone != first.tx_hash
    town.next_slot()
    keeper.close_next()
    assert forgotten == [town.keeper_account]  # once per dropped close


def test_pages_large_slots_and_resumes_after_a_paged_close(town):
    model = town.model()
    keeper = Keeper(town.client, town.keeper_account, page=3)  # any slot with more than 3 requests is paged
    for slot in range(3):
        for s in [
            town.client.submit_request(
                town.members[i % 4], 15_000 + 4_000 * i, (211 * i + slot) % 1000, 1 + (i + slot) % 4
            )[0]
            for i in range(7)
        ]:
            w = s.request
            model.submit_request(
                s.sender, model.slot_end(s.slot) - 1, w & (2**64 - 1), (w >> 64) & 0xFFFF, (w >> 80) & 0xFFFFFFFF
            )
        town.next_slot()
        receipt = keeper.close_next()
        assert town.client.close_input(receipt.tx_hash) is None  # closed by finish_close
        assert receipt.named("SlotClosed")[0].args == model.close_slot(model.slot_end(slot), slot).event()
    # a fresh keeper rebuilds the carry-over of a paged close from the chain alone
    from gridchain.coordination.parties.keeper import pending

    assert pending(town.client, 3) == model.pending(3)


from tests.support.attackers import FIXTURES  # noqa: E402


def twin(town) -> CoordinatorModel:
    """The coordinator's twin with the town's members at the default limit (one request per slot each)."""
    return CoordinatorModel(int(town.client.view("START_TIME")), 3600, 500, 100_000, town.owner, set(town.members))


def hostile(town, name: str):
    """Deploy tests/support/fixtures/<name>.vy on the town's chain, pointed at its coordinator."""
    artifact = compile_contract(name, directory=FIXTURES)
    return artifact, town.gateway.deploy(artifact, [town.client.address], town.owner).contract_address


def test_hole1_a_paged_close_run_by_a_contract_does_not_stop_the_keeper(town):
    """Another keeper closes slot 0 in pages inside one transaction to its own contract. The SlotClosed event's
    transaction then calls no coordinator function: the keeper must still find what slot 0 carried over (from
    slot 0's pending set) and close the next slots."""
    model = twin(town)
    for member, (d, soc, t) in zip(town.members, [(70_000, 100, 3), (60_000, 200, 2), (20_000, 0, 1)]):
        sub, _ = town.client.submit_request(member, d, soc, t)
        model.submit_request(member, model.slot_end(0) - 1, d, soc, t)
    town.next_slot()
    artifact, closer = hostile(town, "paged_closer")
    paged = paged_calldata(model.pending(0), 500, 2)
    town.gateway.transact(
        artifact,
        closer,
        "close_in_pages",
        [0, paged.n, paged.sorted_hash, paged.sorted_pages, paged.pending_pages, True],
        town.members[3],
    )
    model.close_slot(model.slot_end(0), 0)
    assert model.carried[1]  # something was carried: the keeper must know what
    town.fill(2)
    town.next_slot()
    try:
        receipts = Keeper(town.client, town.keeper_account).close_due()
    except Exception as e:  # noqa: BLE001 - any failure here is the harm
        pytest.fail(f"the keeper stopped after a close it did not send: {e!r}")
    assert [r.named("SlotClosed")[0].args["slot"] for r in receipts] == [1]
    for slot in (0, 1):
        assert verify(town.client, slot).ok, verify(town.client, slot).mismatches


def test_hole1_a_decoy_close_input_cannot_mislead_the_keeper(town):
    """A relay contract closes slot 0 with the right calldata, but its own transaction input looks like the
    coordinator's `close_slot` with other requests. A keeper that trusted it would compute a wrong carry-over
    and could never close slot 1; the verifier would report a mismatch that is not there."""
    model = twin(town)
    for member, (d, soc, t) in zip(town.members, [(70_000, 100, 3), (60_000, 200, 2), (50_000, 0, 2)]):
        town.client.submit_request(member, d, soc, t)
        model.submit_request(member, model.slot_end(0) - 1, d, soc, t)
    town.next_slot()
    artifact, relay = hostile(town, "close_relay")
    requests, positions = close_calldata(model.pending(0), 500)
    town.gateway.transact(artifact, relay, "stage", [requests, positions], town.members[3])
    decoy = [w + 1 for w in requests]  # other demands: another carry-over
    town.gateway.transact(artifact, relay, "close_slot", [0, decoy, positions], town.members[3])
    model.close_slot(model.slot_end(0), 0)
    assert model.carried[1]
    town.next_slot()
    try:
        receipts = Keeper(town.client, town.keeper_account).close_due()
    except ChainRevert as e:
        pytest.fail(f"the keeper read the decoy: {e.reason}")
    assert [r.named("SlotClosed")[0].args["slot"] for r in receipts] == [1]
    assert verify(town.client, 0).ok, verify(town.client, 0).mismatches


def test_another_keepers_paged_close_in_progress_is_no_obstacle(town):
    """A stranger begins a paged close and leaves it; a keeper with pages of 3 closes the slot at once."""
    model = town.model()
    for i in range(7):
        sub, _ = town.client.submit_request(town.members[i % 4], 10_000 + i, 100 * i, 1 + i % 3)
        model.submit_request(sub.sender, model.slot_end(0) - 1, 10_000 + i, 100 * i, 1 + i % 3)
    town.next_slot()
    paged = paged_calldata(model.pending(0), 500, 3)
    town.client._tx("begin_close", [0, paged.n, paged.sorted_hash], town.members[0])
    town.client._tx("close_sorted_page", [paged.sorted_pages[0]], town.members[0])  # and no more
    assert town.client.paging(town.members[0]) is not None
    receipt = Keeper(town.client, town.keeper_account, page=3).close_next()
    assert receipt.named("SlotClosed")[0].args == model.close_slot(model.slot_end(0), 0).event()
    assert town.client.paging(town.members[0]) is None  # void once the slot is closed


def test_keeper_begins_again_when_the_capacity_changes_under_its_paged_close(town, monkeypatch):
    model = town.model()
    for i in range(5):
        sub, _ = town.client.submit_request(town.members[i % 4], 30_000 + i, 100 * i, 2)
        model.submit_request(sub.sender, model.slot_end(0) - 1, 30_000 + i, 100 * i, 2)
    town.next_slot()
    real_finish = town.client.close_in_pages
    posted = []

    def post_meanwhile(sender, slot, paged):  # the utility posts while the keeper pages (first attempt only)
        if not posted:
            posted.append(town.client.post_capacity(town.owner, slot, 90_000))
            model.post_capacity(town.owner, slot, 90_000)
        return real_finish(sender, slot, paged)

    monkeypatch.setattr(town.client, "close_in_pages", post_meanwhile)
    keeper = Keeper(town.client, town.keeper_account, page=2, sleep=lambda s: None)
    receipt = keeper.close_next()
    assert posted and receipt.named("SlotClosed")[0].args == model.close_slot(model.slot_end(0), 0).event()
