"""`gridchain schedule` on its fast path: compact JSON equal to the reference's, the same errors, few imports."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.coordination.cli.schedule_run import plain_arguments
from gridchain.coordination.model import get_policy
from gridchain.coordination.model.table import SlotTable
from gridchain.coordination.model.validate import load_json, load_tables, parse_slots, parse_tables
from gridchain.errors import InputError

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]

SLOT = {
    "capacity_w": 100,
    "beta1_pm": 300,
    "requests": [
        {"id": "a", "demand_w": 80, "soc_pm": 0, "tcc": 1},
        {"id": "b", "demand_w": 50, "soc_pm": 500, "tcc": 1, "arrival": 0},
        {"id": "c\u00e9", "demand_w": 20, "soc_pm": 900, "tcc": 3},
        {"id": "d", "demand_w": 2**64 - 1, "soc_pm": 10, "tcc": 2, "arrival": 2**64 - 1},
    ],
}
LLF = {**SLOT, "requests": [SLOT["requests"][0] | {"remaining_w": 200}, *SLOT["requests"][1:]]}


def reference(obj: object, policy: str) -> object:
    slots, is_array = parse_slots(obj)
    out = [
        get_policy(policy).reference(s) if policy in ("greedy", "fcfs") else get_policy(policy).schedule(s)
        for s in slots
    ]
    dicts = [s.to_dict() for s in out]
    return dicts if is_array else dicts[0]


@pytest.mark.parametrize("policy", ["greedy", "fcfs", "optimal", "edf", "llf"])
@pytest.mark.parametrize("obj", [SLOT, [SLOT, LLF, {"capacity_w": 3, "requests": []}]])
def test_one_compact_line_equal_to_the_reference(policy, obj):
    r = runner.invoke(app, ["schedule", "-p", policy], input=json.dumps(obj))
    assert r.exit_code == 0, r.stderr
    assert r.stdout == json.dumps(reference(obj, policy)) + "\n"


def test_indent_for_people():
    r = runner.invoke(app, ["schedule", "--indent", "2"], input=json.dumps(SLOT))
    assert r.exit_code == 0, r.stderr
    assert r.stdout == json.dumps(reference(SLOT, "greedy"), indent=2) + "\n"


def test_parse_tables_equals_parse_slots_also_when_it_leaves_the_work_to_it():
    for obj in (SLOT, LLF, [SLOT, LLF]):
        tables, is_array = parse_tables(load_json(json.dumps(obj)))
        slots, was_array = parse_slots(obj)
        assert is_array == was_array and [t.to_slot() for t in tables] == slots
        assert all(isinstance(t, SlotTable) for t in tables)


def outcome(parse, text: str) -> object:
    try:
        tables, is_array = parse(text)
    except InputError as e:
        return str(e)
    return [t.to_slot() for t in tables], is_array


REQ = '{"id": "a", "demand_w": 5, "soc_pm": 100, "tcc": 2}'


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(SLOT),
        json.dumps([SLOT, LLF]),
        f'{{"capacity_w": 10, "requests": [{REQ[:-1]}, "tcc": 3}}]}}',  # a duplicate the fast path would accept
        f'{{"capacity_w": 10, "requests": [{REQ}], "capacity_w": 3}}',
        f'[{{"capacity_w": 10, "requests": [{REQ}], "requests": []}}]',
        '{"capacity_w": 10, "requests": [' + REQ.replace('"a"', '"a:b"') + "]}",  # a colon in a string: strict way
        f'{{"capacity_w": 10, "requests": [{REQ}, {REQ}]}}',
        f'{{"capacity_w": 10, "requests": [{REQ[:-1]}, "soc_pm": NaN}}]}}',
        f'{{"capacity_w": 10, "capacity_w": 1, "requests": [{REQ}}}',  # the duplicate comes before the syntax error
        '{"capacity_w": 1e400, "requests": []}',
    ],
)
def test_load_tables_parses_and_refuses_as_load_json_then_parse_tables(text):
    assert outcome(load_tables, text) == outcome(lambda t: parse_tables(load_json(t)), text)


@pytest.mark.parametrize(
    "args, expected",
    [
        ([], {"input": None, "policy": "greedy", "indent": None}),
        (["-i", "f.json", "--policy", "fcfs", "--json"], {"input": Path("f.json"), "policy": "fcfs"}),
        (["--input", "f.json", "--indent", "4", "-p", "llf"], {"input": Path("f.json"), "indent": 4, "policy": "llf"}),
    ],
)
def test_plain_arguments(args, expected):
    got = plain_arguments(args)
    assert got is not None and {k: got[k] for k in expected} == expected


@pytest.mark.parametrize(
    "args",
    [
        ["-p", "best"],
        ["-p"],
        ["--indent", "-1"],
        ["--indent", "x"],
        ["-i", "a", "-i", "b"],
        ["--help"],
        ["-x"],
        ["--input=f.json"],
        ["-i", "--json"],
        ["--json", "--json"],
    ],
)
def test_anything_else_is_left_to_typer(args):
    assert plain_arguments(args) is None


def run_process(args: list[str], stdin: str) -> subprocess.CompletedProcess:
    """`gridchain schedule` as the console script runs it, reporting which heavy packages it imported."""
    code = (  # the command ends by os._exit: the report runs before it, or at the end of an ordinary exit
        "import os, sys\n"
        f"sys.argv = ['gridchain', 'schedule', *{args!r}]\n"
        "def report():\n"
        "    heavy = ('web3', 'boa', 'pandapower', 'rich', 'eth_utils', 'pydantic', 'gridchain.chain', 'typer')\n"
        "    print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr, flush=True)\n"
        "hard_exit = os._exit\n"
        "os._exit = lambda code: (report(), hard_exit(code))\n"
        "from gridchain.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    report()\n    raise\nelse:\n    report()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], input=stdin, capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_the_process_imports_nothing_heavy_and_prints_what_the_root_app_prints():
    r = run_process(["-p", "fcfs"], json.dumps([SLOT, LLF]))
    assert r.returncode == 0, r.stderr
    assert r.stderr == "[]\n"
    assert r.stdout == runner.invoke(app, ["schedule", "-p", "fcfs"], input=json.dumps([SLOT, LLF])).stdout


def test_the_process_reports_bad_input_as_the_root_app_does():
    bad = [SLOT, {"capacity_w": 1, "requests": [{"id": "x", "demand_w": 1, "soc_pm": 1200, "tcc": 1}]}]
    r = run_process([], json.dumps(bad))
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.splitlines()[0] == "error: [1].requests[0].soc_pm: 1200 is outside 0..999"


def test_the_process_leaves_odd_arguments_to_typer():
    r = run_process(["--policy", "best"], json.dumps(SLOT))
    assert r.returncode == 2
    assert "best" in r.stderr


@pytest.mark.parametrize("told, expected", [(None, "1"), ("2", "2")])
def test_the_process_starts_numpy_without_openblas_threads_unless_told(told, expected):
    code = (
        "import os, sys\n"
        "sys.argv = ['gridchain', 'schedule']\n"
        "hard_exit = os._exit\n"
        "os._exit = lambda code: (print(os.environ.get('OPENBLAS_NUM_THREADS'), file=sys.stderr), hard_exit(code))\n"
        "from gridchain.cli import main\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if told is not None:
        env["OPENBLAS_NUM_THREADS"] = told
    r = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(SLOT), capture_output=True, text=True, cwd=ROOT, env=env
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == f"{expected}\n"
