"""The supervised loop, on a fake clock and a fake wait (no real sleeps): backoff doubling to its cap, the normal
interval back after a success, one log line per failure, its state, and stop() in a real thread."""

import threading

import pytest

from gridchain.net.loops import Loop, backoff_s


class Script:
    """A step that fails or succeeds as scripted (an exception or a wait), then stops the loop."""

    def __init__(self, outcomes):
        self.outcomes, self.calls = list(outcomes), 0

    def __call__(self):
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def scripted(outcomes, interval_s=2.0, **kw):
    """A loop over `outcomes` on a fake clock advanced by each wait; stops once they are used up."""
    script, now, waits, lines = Script(outcomes), [1000.0], [], []

    def wait(seconds):
        waits.append(seconds)
        now[0] += seconds
        return not script.outcomes

    loop = Loop(
        "test", script, interval_s, clock=lambda: now[0], wait=wait, log=lambda e, **f: lines.append((e, f)), **kw
    )
    return loop, waits, lines


def test_backoff_doubles_from_the_interval_and_is_capped():
    assert [backoff_s(2.0, n) for n in range(1, 7)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff_s(60.0, 1) == 30.0 and backoff_s(0.5, 1000) == 30.0  # never longer than the cap, no overflow


def test_failures_back_off_then_a_success_brings_the_interval_back():
    gone = ConnectionError("node gone")
    loop, waits, lines = scripted([None, gone, gone, gone, None, gone, None], max_backoff_s=5.0)
    loop.run()
    assert waits == [2.0, 2.0, 4.0, 5.0, 2.0, 2.0, 2.0]
    assert not loop.alive and loop.steps == 3 and loop.errors == 4 and loop.consecutive_errors == 0
    errors = [f for e, f in lines if e == "error"]
    assert errors[0] == {"loop": "test", "error": "ConnectionError: node gone", "attempt": 1, "retry_in_s": 2.0}
    assert [f["attempt"] for f in errors] == [1, 2, 3, 1] and [f["retry_in_s"] for f in errors] == [2.0, 4.0, 5.0, 2.0]
    assert [f for e, f in lines if e == "recovered"] == [
        {"loop": "test", "after_errors": 3},
        {"loop": "test", "after_errors": 1},
    ]


def test_a_step_chooses_its_wait():
    loop, waits, _ = scripted([7.5, -3.0, None])
    loop.run()
    assert waits == [7.5, 0.0, 2.0]


def test_state_shows_how_long_it_has_been_failing():
    loop, _, _ = scripted([None, RuntimeError("x" * 900), RuntimeError("again")])
    loop.started = 1000.0
    loop.once()  # a success at 1000
    loop.clock = lambda: 1003.0
    loop.once()
    loop.clock = lambda: 1010.0
    loop.once()
    state = loop.state()
    assert state["steps"] == 1 and state["errors"] == 2 and state["consecutive_errors"] == 2
    assert state["last_success"] == 1000.0 and state["failing_for_s"] == 10.0
    assert state["last_error"] == "RuntimeError: again"
    loop.step = lambda: None
    loop.once()
    assert loop.failing_for() == 0.0 and loop.state()["last_error"] == "RuntimeError: again"  # kept, for the record


def test_a_loop_failing_from_its_start_counts_from_its_start():
    loop, _, _ = scripted([RuntimeError("no node"), RuntimeError("no node")])
    loop.started = 1000.0
    loop.once()
    assert loop.last_success is None and loop.failing_for() == 0.0  # the fake clock has not moved
    loop.clock = lambda: 1004.0
    assert loop.failing_for() == 4.0


def test_base_exceptions_end_the_loop():
    loop, _, _ = scripted([KeyboardInterrupt(), None])
    with pytest.raises(KeyboardInterrupt):
        loop.run()
    assert not loop.alive


def test_stop_waits_for_the_current_step_in_a_real_thread():
    entered, release, done = threading.Event(), threading.Event(), []

    def step():
        entered.set()
        release.wait(10)
        done.append(1)

    loop = Loop("slow", step, 3600.0, log=lambda e, **f: None).start()
    assert loop.alive and entered.wait(10)
    stopper = threading.Thread(target=loop.stop)
    stopper.start()
    stopper.join(0.05)
    assert stopper.is_alive()  # still waiting for the step
    release.set()
    stopper.join(10)
    assert not stopper.is_alive() and done == [1] and not loop.alive  # the hour's wait ended at once


def test_errors_go_to_stderr_as_json_by_default(capsys):
    loop = Loop("plain", lambda: 1 / 0, 1.0, wait=lambda s: True)
    loop.run()
    import json

    line = json.loads(capsys.readouterr().err)
    assert line["service"] == "plain" and line["event"] == "error" and line["error"].startswith("ZeroDivisionError")
