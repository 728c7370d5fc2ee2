"""docs/monitoring.md's worked example: the transcript on the page is what `gridchain monitoring demo --seed 0`
prints now, but for its gas lines (the day keys and nonces are random, so calldata's zero bytes and with them the
gas move by a few dozen: those lines are compared by their shape). To refresh: paste the command's stdout."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from gridchain.cli import app

PAGE = Path(__file__).resolve().parents[2] / "docs" / "monitoring.md"
COMMAND = ["monitoring", "demo", "--seed", "0"]


def _shape(text: str) -> str:
    """Gas lines with their numbers replaced: the rest stays byte for byte."""
    return "\n".join(re.sub(r"[0-9][0-9,]*", "N", line) if "gas" in line else line for line in text.splitlines())


def test_the_page_shows_the_demos_transcript(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(app, COMMAND, env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.stderr
    block = "$ gridchain " + " ".join(COMMAND) + "\n" + r.stdout
    page = PAGE.read_text(encoding="utf-8")
    assert _shape(block) in _shape(page), f"docs/monitoring.md lacks (or has a stale copy of):\n{block}"
    assert (tmp_path / "results/monitoring/monitoring_seed0_4h.png").exists()
    assert "false positives 0, false negatives 0" in r.stdout
    assert all(len(line) <= 80 for line in r.stdout.splitlines())
