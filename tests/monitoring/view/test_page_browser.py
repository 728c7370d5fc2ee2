"""The Data access page of household 0 (a revoked grant, a breach on chain, an altered record) in a real browser
(Debian's chromium), the app served in this process on the month: the accessible basics hold on the populated
page (the highlighted rows keep their contrast), the alerts are announced, nothing leaves 127.0.0.1, no console
error, and the page fits a phone."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridchain.dashboard.app import create_app
from gridchain.net.server import LoopbackServer
from tests.monitoring.view.test_page import deployment, index
from tests.support.browser import PHONE, no_horizontal_overflow, open_browser, shoot, watch

pytestmark = pytest.mark.slow
AUDIT = (Path(__file__).resolve().parents[2] / "dashboard" / "audit.js").read_text()


def test_a_households_page_in_chromium(month, tmp_path):
    index(month, month.store.store)
    h = month.households[0]
    with LoopbackServer(create_app(deployment(month, tmp_path, month.store.store))) as server, open_browser() as b:
        context = b.new_context(viewport={"width": 1280, "height": 900})
        seen = watch(context)
        page = context.new_page()
        page.goto(f"{server.url}/data/{h}")
        assert page.evaluate(AUDIT) == []
        assert page.locator("[role=alert]").inner_text().startswith("2 breaches")
        assert page.locator("#accesses tr.alerted").count() >= 1
        assert page.locator("#grants td[data-field=status]").all_inner_texts().count("revoked") == 1
        shoot(page, "data-access")
        page.set_viewport_size(PHONE)
        assert no_horizontal_overflow(page)
        context.close()
        seen.assert_clean()
