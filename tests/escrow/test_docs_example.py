"""docs/escrow.md's worked example: the demo's transcript on the page is what the command prints now (the embedded
chain's clock is moved to the same start, the keys come from the seed, so bytes, signatures and gas repeat), and
the page's story matches the run. To refresh the page: run the command in an empty folder and paste its stdout."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from gridchain.cli import app

PAGE = Path(__file__).resolve().parents[2] / "docs" / "escrow.md"
COMMAND = ["escrow", "demo", "--meters", "3", "--seed", "0"]


def test_the_page_shows_the_demos_transcript(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, COMMAND)
    assert r.exit_code == 0, r.stderr
    block = "$ gridchain " + " ".join(COMMAND) + "\n" + r.stdout
    page = PAGE.read_text(encoding="utf-8")
    assert block in page, f"docs/escrow.md lacks (or has a stale copy of):\n{block}"
    assert "escrow holds 0 wei and 0 coin units at the end, 0 credited: conserved" in r.stdout
    assert (tmp_path / "results/escrow/escrow_demo_m3_s0.png").exists()
    assert "the meter recorded 2,591 of the agreed 3,000 Wh" in page and "d: metered 2,591 of 3,000 Wh" in r.stdout
