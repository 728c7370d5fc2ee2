"""`gridchain market verify`: 0 when a document holds, 1 listing violations (a changed allocation cell breaks
KKT; a changed payment breaks the entries and the digest), 2 on bad input; and `gridchain petcon demo` on the
embedded chain."""

from __future__ import annotations

import copy
import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from tests.market.petcon.test_lag import published_document

runner = CliRunner()


def _verify(tmp_path, document, *extra):
    path = tmp_path / "record.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return runner.invoke(app, ["market", "verify", str(path), *extra])


@pytest.fixture(scope="module")
def document():
    return published_document()


def test_a_published_document_verifies(tmp_path, document):
    r = _verify(tmp_path, document, "--json")
    assert r.exit_code == 0, r.stdout + r.stderr
    assert json.loads(r.stdout) == {"ok": True, "violations": [], "digest": document["digest"]}


def test_a_changed_allocation_cell_breaks_kkt(tmp_path, document):
    tampered = copy.deepcopy(document)
    tampered["record"]["c_kwh"][1][0] *= 0.999
    r = _verify(tmp_path, tampered)
    assert r.exit_code == 1
    assert "violation: stationarity[1,0]" in r.stdout and "violation: digest" in r.stdout


def test_a_changed_payment_breaks_the_digest(tmp_path, document):
    tampered = copy.deepcopy(document)
    tampered["entries"][0]["amount_micro"] -= 1
    r = _verify(tmp_path, tampered, "--json")
    assert r.exit_code == 1
    violations = json.loads(r.stdout)["violations"]
    assert any(v.startswith("entries[0].amount_micro: states") for v in violations)
    assert any(v.startswith("digest: states") for v in violations)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("not json", "error: RECORD: "),
        ({"kind": "other"}, "error: kind: "),
        ({"record": {"c_kwh": [1]}}, "error: record.c_min_kwh: missing"),
        ({"digest": "0x12"}, "error: digest: expected 32 bytes, got 1"),
        ({"buyers": []}, "error: buyers: expected a list of 3"),
    ],
)
def test_bad_input_exits_2_naming_the_field(tmp_path, document, change, message):
    r = _verify(tmp_path, change if isinstance(change, str) else document | change)
    assert r.exit_code == 2 and r.stderr.startswith(message), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_committee_without_rpc_url_is_bad_input(tmp_path, document):
    r = _verify(tmp_path, document, "--committee", "0x" + "ab" * 20)
    assert r.exit_code == 2 and "--committee: needs --rpc-url" in r.stderr


def test_petcon_demo_on_the_embedded_chain(tmp_path):
    args = ["petcon", "demo", "--buyers", "3", "--sellers", "3", "--seed", "1", "--rule", "two-thirds"]
    r = runner.invoke(app, [*args, "--out", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["matches_model"] and summary["verified"] and summary["outcome"] == "converged"
    assert summary["onchain"]["threshold"] == 2 and summary["onchain"]["signed"] == 3
    assert summary["gap_final"] < 1e-5
    paid = summary["settlement"]
    assert len(paid["phevs"]) == 6 and paid["totals"]["conserved"] and paid["totals"]["held_after_micro"] == 0
    short = paid["fell_short"]
    assert [r["penalty_micro"] > 0 for r in paid["phevs"]] == [
        k in (short["disconnected"], short["short"]) for k in range(6)
    ]
    assert [r["allocated_wh"] for r in paid["phevs"]] == [e["energy_wh"] for e in summary["document"]["entries"]]
    record = tmp_path / "petcon_demo_3b3s_s1_two-thirds_record.json"
    assert runner.invoke(app, ["market", "verify", str(record)]).exit_code == 0
    assert (tmp_path / "petcon_demo_3b3s_s1_two-thirds.png").read_bytes()[:4] == b"\x89PNG"
    text = runner.invoke(app, [*args, "--out", str(tmp_path)])
    shown = [line for line in text.stdout.splitlines() if not line.startswith(("wrote ", "check it: "))]
    assert text.exit_code == 0 and max(len(line) for line in shown) <= 80  # the file paths are the caller's
    assert "coins conserved" in text.stdout and text.stdout.count(" buyer ") == 3


def test_petcon_demo_bad_rule_exits_2(tmp_path):
    r = runner.invoke(app, ["petcon", "demo", "--rule", "majority", "--out", str(tmp_path)])
    assert r.exit_code == 2 and r.stderr.startswith("error: --rule: 'majority' is not one of")
