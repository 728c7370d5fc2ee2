"""JSON log lines: time, service and event first, one line per event, on the stream asked for."""

import io
import json
import threading

import pytest

from gridchain.net.logs import EventLog, log_event


def test_one_line_with_time_service_and_event_first():
    out = io.StringIO()
    entry = log_event("closed", service="keeper", stream=out, slot=3, tx="0xab")
    line = out.getvalue()
    assert line.endswith("\n") and line.count("\n") == 1 and json.loads(line) == entry
    assert list(entry) == ["time", "service", "event", "slot", "tx"] and entry["time"] > 1.7e9


def test_an_event_log_follows_the_stream_it_names(capsys):
    EventLog("utility", "stdout")("started", port=1)
    EventLog("relayer")("relayed", slot=2)
    out, err = capsys.readouterr()
    assert json.loads(out)["service"] == "utility" and json.loads(err)["event"] == "relayed"
    with pytest.raises(ValueError):
        EventLog("x", "stdlog")


def test_entries_keep_their_keys_and_cannot_overwrite_the_first_three(capsys):
    log = EventLog("utility", "stdout").entry("action")
    log({"action": "post_capacity", "slot": 4, "time": "forged", "service": "forged"})
    line = json.loads(capsys.readouterr().out)
    assert line["event"] == line["action"] == "post_capacity" and line["slot"] == 4
    assert line["service"] == "utility" and isinstance(line["time"], float)


def test_lines_from_threads_never_interleave():
    out = io.StringIO()
    threads = [threading.Thread(target=lambda: [log_event("e", stream=out, pad="x" * 500) for _ in range(50)])]
    threads *= 1
    threads += [threading.Thread(target=lambda: [log_event("f", stream=out, pad="y" * 500) for _ in range(50)])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = out.getvalue().splitlines()
    assert len(lines) == 100 and all(json.loads(line)["event"] in "ef" for line in lines)
