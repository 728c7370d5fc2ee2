"""Browser tests: Playwright (Python) driving Debian's chromium headless (no browser is downloaded).

`open_browser()` launches /usr/bin/chromium with the flags a closed network needs; `watch(page)` records what a
page must never do: console errors, uncaught exceptions, and any request to a host other than 127.0.0.1 (those
are aborted, so nothing leaves the machine); `shoot(page, name)` writes screenshots at desktop and phone width
into results/dashboard/ (the README shows one).
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
SHOTS = Path(__file__).resolve().parents[2] / "results" / "dashboard"
LOCAL = ("127.0.0.1",)
HARMLESS = ("data", "blob", "about")  # URL schemes that reach no host


@contextlib.contextmanager
def open_browser() -> Iterator[object]:
    """A headless chromium from Debian's package (`make setup` installs it)."""
    from playwright.sync_api import sync_playwright

    if shutil.which(CHROMIUM) is None:
        raise AssertionError(
            f"{CHROMIUM} is missing: `make setup` installs Debian's chromium (apt-get install chromium)"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watch:
    """What a page did that it must not: console errors, uncaught exceptions, requests off 127.0.0.1."""

    errors: list[str] = field(default_factory=list)
    off_host: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.off_host == [], self.off_host


def watch(context) -> Watch:
    """Record every page's console errors and exceptions in `context`, and abort (and record) every request
    that would leave 127.0.0.1."""
    seen = Watch()

    def route(r) -> None:
        url = r.request.url
        parts = urlsplit(url)
        seen.requests.append(url)
        if parts.scheme in HARMLESS or parts.hostname in LOCAL:
            r.continue_()
        else:
            seen.off_host.append(url)
            r.abort()

    def page(p) -> None:
        p.on("console", lambda m: seen.errors.append(f"console: {m.text}") if m.type == "error" else None)
        p.on("pageerror", lambda e: seen.errors.append(f"exception: {e}"))

    context.route("**/*", route)
    context.on("page", page)
    return seen


def shoot(page, name: str) -> list[Path]:
    """Full-page screenshots of `page` at desktop and phone width: results/dashboard/<name>-desktop|phone.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    out = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(300)  # plotly redraws on resize (responsive charts)
        path = SHOTS / f"{name}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        out.append(path)
    page.set_viewport_size(DESKTOP)
    return out


def no_horizontal_overflow(page) -> bool:
    """The page fits its width (at 360 px: nothing but scroll regions wider than the screen)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
