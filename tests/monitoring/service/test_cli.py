"""`gridchain monitor`: its help says what it reads, writes and where a household sees the alerts; a bad
--poll-s is named; its core prints one JSON line per round (--once --json) and, as a daemon, backs off on errors
and stops when asked."""

from __future__ import annotations

import json
import threading

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.monitoring.cli.monitor import MAX_BACKOFF_S, MonitorLoop, round_lines, run
from gridchain.monitoring.store import AccessStore
from gridchain.store.engine import open_store
from tests.monitoring.service.world import World


def test_help_says_what_it_reads_writes_and_where_households_see_alerts():
    out = " ".join(CliRunner().invoke(app, ["monitor", "--help"]).output.replace("│", " ").split())
    for words in ("Reads:", "Attested", "Writes:", "Breach event", "notice to the household", "gridchain data alerts",
                  "--once", "--json", "--poll-s", "--config", "One monitor per store"):  # fmt: skip
        assert words in out, words


@pytest.mark.parametrize("value", ["0", "-1", "1e9"])
def test_a_bad_poll_is_named(value, tmp_path):
    result = CliRunner().invoke(app, ["monitor", "--poll-s", value, "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 2 and "--poll-s" in result.output


@pytest.fixture
def world(tmp_path):
    path = tmp_path / "gridchain.db"
    store = open_store(f"sqlite:///{path}")
    w = World(AccessStore.open(store))
    w.honest(), w.breach()
    w.attest()
    yield w
    store.close()


def test_once_json_prints_one_round(world, capsys):
    run(world.service(), once=True, as_json=True, poll_s=1.0)
    (line,) = capsys.readouterr().out.splitlines()
    out = json.loads(line)
    assert out["event"] == "round" and out["new_roots"] == 1 and out["alerts"] == {"reported": 1}
    assert out["new_alerts"][0]["kind"] == "another purpose" and out["lag"] == 0
    run(world.service(), once=True, as_json=False, poll_s=1.0)
    text = capsys.readouterr().out.splitlines()
    assert text[0].startswith("round at ") and "new alerts: none" in text[0]
    assert all(len(x) <= 80 for x in text)


def test_round_lines_fit_80_columns(world):
    alert = {"id": 1, "kind": "another purpose", "seq": 3, "household": world.house.address, "state": "reported"}
    summary = world.service().round() | {"new_alerts": [alert]}
    summary["alerts"], summary["settled"] = {"reported": 1}, {"sent again: reported": 1}
    lines = round_lines(summary)
    assert len(lines) == 3 and all(len(x) <= 80 for x in lines) and "1 reported" in lines[0]


class Flaky:
    """Fails `n` rounds, then answers; stops the loop after `rounds` good ones."""

    def __init__(self, n: int, stop: threading.Event, rounds: int = 2) -> None:
        self.n, self.stop, self.rounds, self.calls = n, stop, rounds, 0

    def round(self) -> dict:
        self.calls += 1
        if self.calls <= self.n:
            raise ConnectionError("node unreachable")
        if self.calls - self.n >= self.rounds:
            self.stop.set()
        return {"event": "round", "n": self.calls}


def test_the_loop_backs_off_on_errors_then_recovers_and_stops():
    stop = threading.Event()
    lines: list[dict] = []
    loop = MonitorLoop(Flaky(3, stop), lines.append, poll_s=0.001, stop=stop)
    loop.run()
    errors = [x for x in lines if x["event"] == "error"]
    assert [x["retry_in_s"] for x in errors] == [0.001, 0.002, 0.004]
    assert "ConnectionError" in errors[0]["error"] and loop.failures == 0
    assert [x["n"] for x in lines if x["event"] == "round"] == [4, 5]
    many = MonitorLoop(Flaky(10**6, stop), lines.append, poll_s=30.0)
    for _ in range(5):
        wait = many.round()
    assert wait == MAX_BACKOFF_S


def test_the_daemon_stops_between_rounds(world):
    stop = threading.Event()
    lines: list[dict] = []
    t = threading.Thread(target=lambda: MonitorLoop(world.service(), lines.append, 0.01, stop).run())
    t.start()
    while len(lines) < 3:
        stop.wait(0.01)
    stop.set()
    t.join(10)
    assert not t.is_alive() and all(x["event"] == "round" for x in lines)


class Broken:
    def round(self) -> dict:
        raise ConnectionError("node unreachable")


def test_once_that_fails_prints_its_error_and_exits_1(capsys):
    import typer

    with pytest.raises(typer.Exit) as e:
        run(Broken(), once=True, as_json=True, poll_s=1.0)
    assert e.value.exit_code == 1
    out = json.loads(capsys.readouterr().out)
    assert out["event"] == "error" and "ConnectionError" in out["error"]
