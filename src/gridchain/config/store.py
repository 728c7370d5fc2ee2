"""`[store]`: where a deployment keeps its state, one database for all its parties.

    [store]
    url = "sqlite:///state/gridchain.db"    # the default; a relative path is relative to gridchain.toml
    # url = "postgresql://gridchain@db.example:5432/gridchain"

`$GRIDCHAIN_STORE_URL`, when set, takes the place of `store.url` (so a PostgreSQL password need not be written
in the file).
"""

from __future__ import annotations

import os
from pathlib import Path

from gridchain.config.file import Config
from gridchain.store.engine import Store, open_store

STORE_ENV = "GRIDCHAIN_STORE_URL"
DEFAULT_URL = "sqlite:///state/gridchain.db"
SQLITE = "sqlite:///"


def store_url(config: Config) -> tuple[str, str]:
    """The store's URL and what named it (`store.url` or the environment variable), relative SQLite paths
    resolved against the config file's folder."""
    section = config.section("store", required=False)
    url = section.str("url", DEFAULT_URL)
    section.done()
    field = "store.url"
    if os.environ.get(STORE_ENV):
        url, field = os.environ[STORE_ENV], STORE_ENV
    if url.startswith(SQLITE) and not url.startswith(SQLITE + "/"):
        url = SQLITE + str((config.dir / Path(url.removeprefix(SQLITE)).expanduser()).resolve())
    return url, field


def config_store(config: Config) -> Store:
    """The deployment's store (not migrated: each party migrates its own schema)."""
    url, field = store_url(config)
    return open_store(url, field)
