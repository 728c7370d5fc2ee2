import pytest

from gridchain.chain.anvil import start_anvil
from tests.dashboard.town import Town
from tests.support.browser import open_browser
from tests.support.processes import kill, read_banner, start, stop


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
    p = start("dashboard", "--listen", "127.0.0.1:0", "--json", config=town.config)
    try:
        banner = read_banner(p)
        yield banner["url"]
        stop(p)
    finally:
        kill(p)


@pytest.fixture(scope="package")
def browser():
    with open_browser() as b:
        yield b
