"""Accessible basics on every page of the dashboard, in chromium: the language is declared, every form control
has a label, every chart a text alternative, every text its WCAG AA contrast against what is behind it (4.5:1,
3:1 for large text), and the skip link leads to the content."""

from __future__ import annotations

import pytest

from gridchain.dashboard.pages import PAGES

pytestmark = pytest.mark.integration

AUDIT = """() => {
  const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
                       return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const rgba = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const behind = (el) => { for (let e = el; e; e = e.parentElement) { const c = rgba(getComputedStyle(e).backgroundColor);
                             if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3); } return [255, 255, 255]; };
  const problems = [];
  if (!document.documentElement.lang) problems.push("html: no lang");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const labelled = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest("label");
    if (!labelled) problems.push(`control without a label: ${el.outerHTML.slice(0, 80)}`);
  }
  for (const el of document.querySelectorAll(".chart")) {
    if (!el.getAttribute("aria-label")) problems.push(`chart without aria-label: ${el.id}`);
  }
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest(".chart, svg") || !el.offsetParent && getComputedStyle(el).position !== "fixed") continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const style = getComputedStyle(el);
    const fg = rgba(style.color).slice(0, 3), bg = behind(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < need) problems.push(`contrast ${ratio.toFixed(2)} < ${need}: ${el.tagName} "${el.textContent.trim().slice(0, 40)}"`);
  }
  return problems;
}"""


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
