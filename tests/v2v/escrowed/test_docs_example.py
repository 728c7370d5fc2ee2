"""docs/escrow.md's worked example of the V2V auction through the escrow: the transcript on the page is what
`gridchain v2v escrow-demo --seed 0` prints now (the embedded chain's clock moved to the same start, every key from
the seed, so bytes and gas repeat), and the page's prose matches the run. To refresh: paste the command's stdout."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gridchain.cli import app

PAGE = Path(__file__).resolve().parents[3] / "docs" / "escrow.md"
COMMAND = ["v2v", "escrow-demo", "--seed", "0"]


def test_the_page_shows_the_demos_transcript(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, COMMAND)
    assert r.exit_code == 0, r.stderr
    block = "$ gridchain " + " ".join(COMMAND) + "\n" + r.stdout
    page = PAGE.read_text(encoding="utf-8")
    assert block in page, f"docs/escrow.md lacks (or has a stale copy of):\n{block}"
    assert (tmp_path / "results/v2v/v2v_escrow_p4_coin_s0.png").exists()
    assert "gas: open 121,740, claim 71,378" in r.stdout and "The coin open costs 121,740 gas" in page
    assert "metered 5,281 of 10,000 Wh" in r.stdout and "the winner delivered 5,281 Wh" in page
    assert "open 126,528, resolve 85,682" in r.stdout and "| resolve (arbiter + consumer) | 85,682 |" in page
