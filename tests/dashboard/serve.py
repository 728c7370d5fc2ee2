"""The dashboard for the page tests: `gridchain dashboard` on a pilot's config as its own process (the user's
way), yielding its URL; stopped by SIGTERM (exit 0), or killed if the test failed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.support.processes import kill, read_banner, start, stop


@contextlib.contextmanager
def dashboard_process(config: Path) -> Iterator[str]:
    p = start("dashboard", "--listen", "127.0.0.1:0", "--json", config=config)
    try:
        yield read_banner(p)["url"]
        stop(p)
    finally:
        kill(p)
