"""The keeper daemon's loop: closes what is due with one log line each, waits for the next slot's end, backs
off after failures, stops on its event."""

import threading

from gridchain.coordination.parties.keeper import Keeper
from gridchain.coordination.parties.keeper_loop import MAX_BACKOFF_S, KeeperLoop

from .conftest import SLOT


def loop_of(town, **kw):
    lines = []
    return KeeperLoop(Keeper(town.client, town.keeper_account, **kw), lines.append, poll_s=2.0), lines


def test_a_round_closes_every_due_slot_and_logs_each(town):
    for _ in range(3):
        town.fill(2)
        town.next_slot()
    loop, lines = loop_of(town)
    wait = loop.round()
    assert [line["slot"] for line in lines] == [0, 1, 2] and town.client.next_slot_to_close == 3
    for line in lines:
        assert line["event"] == "closed" and line["requests"] >= 2 and line["gas"] > 21_000
        assert line["tx"].startswith("0x") and line["transactions"] == 1
    assert wait == 2.0  # the next slot ends in an hour: look again after poll_s


def test_a_paged_close_logs_the_gas_of_all_its_transactions(town):
    town.fill(5)
    town.next_slot()
    loop, lines = loop_of(town, page=2)
    loop.round()
    assert lines[0]["transactions"] > 2 and lines[0]["requests"] == 5


def test_the_wait_ends_at_the_next_slot_end_plus_the_margin(town):
    loop, _ = loop_of(town)
    loop.poll_s, loop.margin_s = 10_000.0, 1.0
    left = town.client.slot_end(0) - town.gateway.now()
    assert 0 < left <= SLOT and loop.round() == left + 1.0


def test_failures_back_off_and_are_logged(town, monkeypatch):
    town.fill(1)
    town.next_slot()
    loop, lines = loop_of(town, retries=0)
    real = town.client.close_slot
    monkeypatch.setattr(town.client, "close_slot", lambda *a: (_ for _ in ()).throw(ConnectionError("node gone")))
    waits = [loop.round() for _ in range(6)]
    assert waits == [2.0, 4.0, 8.0, 16.0, MAX_BACKOFF_S, MAX_BACKOFF_S] and MAX_BACKOFF_S == 30.0
    error = {"event": "error", "loop": "keeper", "error": "ConnectionError: node gone", "attempt": 1, "retry_in_s": 2.0}
    assert lines[0] == error and [line["attempt"] for line in lines] == [1, 2, 3, 4, 5, 6]
    monkeypatch.setattr(town.client, "close_slot", real)
    assert loop.round() == 2.0 and lines[-1] == {"event": "recovered", "loop": "keeper", "after_errors": 6}
    assert lines[-2]["event"] == "closed" and loop.loop.consecutive_errors == 0 and loop.loop.errors == 6


def test_stop_ends_the_run_and_interrupts_a_backoff(town):
    loop, _ = loop_of(town)
    loop.poll_s = 3600.0
    runner = threading.Thread(target=loop.run)
    runner.start()
    loop.stop.set()
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert loop.keeper.sleep == loop.stop.wait  # a retry's backoff waits on the same event
