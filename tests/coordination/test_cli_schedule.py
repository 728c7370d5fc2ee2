import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gridchain.cli import app

runner = CliRunner()

SLOT = {
    "capacity_w": 100,
    "requests": [
        {"id": "a", "demand_w": 80, "soc_pm": 0, "tcc": 1},
        {"id": "b", "demand_w": 50, "soc_pm": 500, "tcc": 1},
        {"id": "c", "demand_w": 20, "soc_pm": 900, "tcc": 3},
    ],
}


def run(args, stdin=None):
    return runner.invoke(app, args, input=stdin)


def test_one_slot_from_stdin():
    r = run(["schedule"], json.dumps(SLOT))
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert [(a["id"], a["granted_w"], a["status"]) for a in out["allocations"]] == [
        ("a", 30, "partial"),
        ("b", 50, "scheduled"),
        ("c", 20, "scheduled"),
    ]
    assert out["unused_w"] == 0


def test_array_from_file_keeps_order(tmp_path):
    f = tmp_path / "slots.json"
    f.write_text(json.dumps([SLOT, {"capacity_w": 7, "requests": []}]))
    r = run(["schedule", "--input", str(f), "--policy", "fcfs"])
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert isinstance(out, list) and len(out) == 2
    assert out[0]["policy"] == "fcfs" and out[1]["unused_w"] == 7 and out[1]["allocations"] == []


@pytest.mark.parametrize("policy", ["greedy", "fcfs", "optimal"])
def test_every_policy(policy):
    r = run(["schedule", "-p", policy], json.dumps(SLOT))
    assert r.exit_code == 0 and json.loads(r.stdout)["policy"] == policy


@pytest.mark.parametrize(
    "stdin, message",
    [
        ("{not json", "error: stdin: malformed JSON at line 1, column 2"),
        ("", "error: stdin: malformed JSON at line 1, column 1: Expecting value"),
        (json.dumps(SLOT | {"capacity_w": "lots"}), 'error: capacity_w: "lots" is not an integer'),
        (json.dumps(SLOT | {"capacity_w": -5}), "error: capacity_w: -5 is outside 0..18446744073709551615"),
        (json.dumps({"requests": []}), "error: capacity_w: missing"),
        (
            json.dumps(SLOT | {"requests": SLOT["requests"] + [SLOT["requests"][0]]}),
            'error: requests[3].id: "a" is already the id of requests[0]',
        ),
        (
            json.dumps({"capacity_w": 1, "requests": [{"id": "x", "demand_w": 1, "soc_pm": 1200, "tcc": 1}]}),
            "error: requests[0].soc_pm: 1200 is outside 0..999",
        ),
        (json.dumps([SLOT, {"capacity_w": 1}]), "error: [1].requests: missing"),
        (json.dumps(SLOT | {"extra": 1}), "error: extra: unknown field"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_output(stdin, message):
    r = run(["schedule"], stdin)
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.startswith(message)
    assert r.stderr.count("\n") == 1


def test_missing_file():
    r = run(["schedule", "--input", "/no/such/file.json"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == "error: --input: cannot read '/no/such/file.json': No such file or directory\n"


def test_unknown_policy_is_a_usage_error():
    r = run(["schedule", "--policy", "random"], json.dumps(SLOT))
    assert r.exit_code == 2 and r.stdout == ""
    assert "random" in r.stderr


def test_real_entry_point_prints_no_traceback():
    bad = json.dumps({"capacity_w": 1, "requests": [{"id": "x", "demand_w": 1, "soc_pm": 1200, "tcc": 1}]})
    p = subprocess.run(
        [sys.executable, "-m", "gridchain", "schedule"], input=bad, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr == "error: requests[0].soc_pm: 1200 is outside 0..999\n"
    good = subprocess.run(
        [sys.executable, "-m", "gridchain", "schedule"],
        input=json.dumps(SLOT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert good.returncode == 0 and json.loads(good.stdout)["unused_w"] == 0
