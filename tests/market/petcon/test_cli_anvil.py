"""`gridchain petcon demo --rpc-url` against anvil (the auction attested and settled on a node: the pseudonyms and
the LAG sign their own transactions, their gas funded by a development account), then `gridchain market verify
RECORD --rpc-url URL --committee ADDR` against the same node: 0 for the record, 1 for a tampered one."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app

runner = CliRunner()


@pytest.mark.integration
@pytest.mark.slow
def test_demo_on_anvil_settles_and_market_verify_reads_the_committee(tmp_path):
    from gridchain.chain.anvil import start_anvil

    args = ["petcon", "demo", "--buyers", "3", "--sellers", "3", "--seed", "1", "--lags", "2", "--json"]
    with start_anvil(accounts=2) as node:
        r = runner.invoke(app, [*args, "--rpc-url", node.url, "--out", str(tmp_path)])
        assert r.exit_code == 0, r.stderr
        summary = json.loads(r.stdout)
        assert summary["chain"] == "rpc" and summary["verified"]
        totals = summary["settlement"]["totals"]
        assert totals["conserved"] and totals["held_after_micro"] == 0 and totals["penalties_micro"] > 0
        record = tmp_path / "petcon_demo_3b3s_s1_unanimous_record.json"
        committee = summary["onchain"]["committee"]
        check = ["market", "verify", str(record), "--rpc-url", node.url, "--committee", committee, "--json"]
        ok = runner.invoke(app, check)
        assert ok.exit_code == 0, ok.stdout + ok.stderr
        assert json.loads(ok.stdout)["ok"]
        document = json.loads(record.read_text())
        document["entries"][0]["amount_micro"] -= 1
        document["digest"] = "0x" + "00" * 32  # even a consistent-looking digest is not the attested one
        tampered = tmp_path / "tampered.json"
        tampered.write_text(json.dumps(document))
        bad = runner.invoke(app, [*check[:2], str(tampered), *check[3:]])
        assert bad.exit_code == 1
        assert any(v.startswith("attested: the committee holds") for v in json.loads(bad.stdout)["violations"])
