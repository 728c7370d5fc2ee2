import pytest

from gridchain.chain.anvil import start_anvil
from tests.dashboard.serve import dashboard_process
from tests.dashboard.town import Town
from tests.support.browser import open_browser, watch


@pytest.fixture(scope="package")
def town(tmp_path_factory):
    """A pilot on anvil with three slots closed and indexed."""
    node = start_anvil(accounts=6)
    t = None
    try:
        t = Town(node, tmp_path_factory.mktemp("town"))
        for requests, capacity_w in ((5, 30_000), (8, 24_000), (3, None)):
            t.slot(requests, capacity_w)
        yield t
    finally:
        if t is not None:
            t.close()
        node.stop()


@pytest.fixture(scope="package")
def dashboard(town):
    """`gridchain dashboard` on the town's config, as its own process; its URL."""
    with dashboard_process(town.config) as url:
        yield url


@pytest.fixture(scope="package")
def browser():
    with open_browser() as b:
        yield b


@pytest.fixture
def page(browser):
    """A desktop-sized page; at the end of the test no page of its context may have logged a console error or an
    exception, or asked a host but 127.0.0.1 (but the errors a test expects: `page.expected_errors`, substrings)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    seen = watch(context)
    p = context.new_page()
    p.expected_errors = []
    yield p
    context.close()
    seen.errors = [e for e in seen.errors if not any(x in e for x in p.expected_errors)]
    seen.assert_clean()


@pytest.fixture(scope="package")
def market_day(tmp_path_factory):
    """The market demo's day on the embedded chain with one more interval only committed, indexed
    (tests/dashboard/market_day.py)."""
    from tests.dashboard.market_day import MarketDay

    day = MarketDay(tmp_path_factory.mktemp("market"))
    try:
        day.index()
        yield day
    finally:
        day.close()
