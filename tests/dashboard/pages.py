"""Shared by the dashboard's page tests: an app on a stand-in deployment (no node, no store) for pages that read
files only, and the tables of a served page parsed into rows of (text, exact value)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from fastapi.testclient import TestClient

from gridchain.config.file import Config
from gridchain.dashboard.app import create_app
from gridchain.dashboard.deployment import Deployment
from gridchain.dashboard.settings import DashboardSettings


def stand_in(results: Path) -> Deployment:
    """A deployment whose chain, record and store are absent: pages that need them fail, pages that read the
    results folder work."""
    settings = DashboardSettings(("127.0.0.1", 0), 2.0, results)
    config = Config(results / "gridchain.toml", {})  # an empty configuration: every section at its defaults
    return Deployment(config, settings, None, 31337, "http://127.0.0.1:1", None, None, None)


def file_client(results: Path) -> TestClient:
    """The dashboard's app on a stand-in deployment (see `stand_in`), called in-process."""
    return TestClient(create_app(stand_in(results)))


class Tables(HTMLParser):
    """Every <table> of a page by its data-table (or id) attribute: its header (the <thead> row's texts) and body
    rows, each cell (text, data-value as float or None); and every element's attributes by id."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, dict] = {}
        self.ids: dict[str, dict] = {}
        self._table: dict | None = None
        self._in_head = False
        self._row: list | None = None
        self._cell: list | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] = a
        if tag == "table":
            self._table = {"head": [], "rows": []}
            self.tables[a.get("data-table") or a.get("id")] = self._table
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            value = a.get("data-value")
            self._cell = ["", float(value) if value is not None else None]

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[0] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append((self._cell[0].strip(), self._cell[1]))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._in_head:
                self._table["head"] = [text for text, _ in self._row]
            else:
                self._table["rows"].append(self._row)
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table":
            self._table = None

    def column(self, table: str, head: str) -> list[float | None]:
        """The exact values of one column of a table, by its header."""
        t = self.tables[table]
        i = t["head"].index(head)
        return [row[i][1] for row in t["rows"]]

    def row_names(self, table: str) -> list[str]:
        return [row[0][0] for row in self.tables[table]["rows"]]
