"""The experiments page in a real browser (Debian's chromium): every result page draws each of its charts with
plotly, logs no error, asks nothing of a host but 127.0.0.1, fits a phone's width, and is photographed at
desktop and phone width. The dashboard runs in this process on the docs/figures outputs: no node needed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from gridchain.net.server import LoopbackServer
from tests.dashboard.pages import stand_in
from tests.support.browser import PHONE, no_horizontal_overflow, shoot, watch

FIGURES = Path(__file__).resolve().parents[2] / "docs" / "figures"
PAGES = {  # file -> screenshot name
    "grid_rural2_200ev_1d_s0.json": "experiments-grid",
    "fig2_runs80_seed0_lam2-4-6-8-10-12-14-16.json": "experiments-fig2",
    "gas_osaka_anvil_seed0.json": "experiments-gas-osaka",
    "gas_prague_embedded_seed0.json": "experiments-gas-prague",
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The dashboard's app on copies of the figures' JSON, served by uvicorn on a free port; its URL."""
    from gridchain.dashboard.app import create_app

    results = tmp_path_factory.mktemp("experiments")
    for name in PAGES:
        shutil.copy(FIGURES / name, results / name)
    with LoopbackServer(create_app(stand_in(results))) as server:
        yield server.url


def test_every_result_page_draws_its_charts_cleanly(served, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    seen = watch(context)
    page = context.new_page()
    try:
        page.goto(served + "/experiments")
        assert page.locator("#results tbody tr").count() == len(PAGES)
        shoot(page, "experiments")
        for name, shot in PAGES.items():
            page.goto(f"{served}/experiments/{name}")
            charts = page.locator(".chart[data-chart]")
            assert charts.count() >= 3, name
            for i in range(charts.count()):
                chart = charts.nth(i)
                chart.locator(".main-svg").first.wait_for(timeout=10_000)  # plotly drew it
                assert chart.get_attribute("aria-label"), name
            page.set_viewport_size(PHONE)
            page.wait_for_timeout(300)  # plotly redraws on resize
            assert no_horizontal_overflow(page), name
            shoot(page, shot)
    finally:
        context.close()
    seen.assert_clean()  # no console error, no exception, no request off 127.0.0.1
    assert any(url.endswith("/vendor/plotly.min.js") for url in seen.requests)
