"""Accessible basics on every page of the dashboard, in chromium: the language is declared, every form control
has a label, every chart a text alternative, every text its WCAG AA contrast against what is behind it (4.5:1,
3:1 for large text), and the skip link leads to the content."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridchain.dashboard.pages import PAGES

pytestmark = pytest.mark.integration

AUDIT = (Path(__file__).parent / "audit.js").read_text()  # a function expression: the problems found


@pytest.mark.parametrize("path", [page.PATH for page in PAGES])
def test_every_page_has_the_accessible_basics(dashboard, page, path):
    page.goto(dashboard + path)
    page.wait_for_load_state("networkidle")
    assert page.evaluate(AUDIT) == []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"


def test_the_audit_finds_what_it_looks_for(dashboard, page):
    """The audit above is not blind: faint text, an unlabelled field and an unlabelled chart are each reported."""
    page.goto(dashboard + PAGES[0].PATH)
    page.evaluate(
        """() => { const main = document.getElementById("main");
                   main.insertAdjacentHTML("beforeend", '<p style="color:#aaa">faint</p><input id="x">'
                     + '<div class="chart" id="bare"></div>'); }"""
    )
    problems = page.evaluate(AUDIT)
    assert any(p.startswith("contrast 2.3") and '"faint"' in p for p in problems), problems
    assert any(p.startswith("control without a label") for p in problems), problems
    assert "chart without aria-label: bare" in problems
