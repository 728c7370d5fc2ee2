"""The store on both backends: opening, migrations, serializable transactions under contention, crash safety."""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from gridchain.config.file import load_config
from gridchain.config.store import STORE_ENV, store_url
from gridchain.errors import InputError
from gridchain.store.engine import open_store
from gridchain.store.migrate import drift, head, revision
from tests.store.example import SCHEMA, counters, entries

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://x@localhost/db", "'mysql' is not a supported database"),
        ("sqlite://", "needs a file"),
        ("sqlite:///:memory:", "needs a file"),
    ],
)
def test_bad_urls_are_refused_naming_the_field(url, reason):
    with pytest.raises(InputError) as e:
        open_store(url, "store.url")
    assert e.value.field == "store.url" and reason in e.value.reason


def test_an_unreachable_database_is_refused_naming_the_field(tmp_path):
    with pytest.raises(InputError) as e:
        open_store("postgresql://nobody:secret@127.0.0.1:1/x", "store.url")
    assert e.value.field == "store.url" and "cannot open the database" in e.value.reason
    assert "secret" not in e.value.reason
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "g.db").mkdir()  # a folder where the file should be
    with pytest.raises(InputError) as e:
        open_store(f"sqlite:///{tmp_path / 'ro' / 'g.db'}", "store.url")
    assert e.value.field == "store.url"


def test_sqlite_runs_in_wal_mode_with_full_sync_and_foreign_keys(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'new' / 'g.db'}")
    pragmas = store.read(
        lambda c: [c.exec_driver_sql(f"PRAGMA {p}").scalar() for p in ("journal_mode", "synchronous", "foreign_keys")]
    )
    assert pragmas == ["wal", 2, 1]  # 2 = FULL
    store.atomic(lambda c: c.exec_driver_sql("CREATE TABLE t (x INTEGER)"))
    modes = {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "new").iterdir()}
    assert modes == {"g.db": 0o600, "g.db-wal": 0o600, "g.db-shm": 0o600}  # it holds secrets: owner only
    store.close()


def test_migrate_builds_exactly_the_tables_in_code_once(store):
    assert revision(store, SCHEMA) is None
    store.migrate(SCHEMA)
    store.migrate(SCHEMA)  # a second start migrates nothing
    assert revision(store, SCHEMA) == head(SCHEMA) == "0001"
    assert drift(store, SCHEMA) == []
    store.atomic(lambda c: c.execute(insert(counters).values(name="a", value=1)))
    with pytest.raises(IntegrityError):  # the foreign key holds on both backends
        store.atomic(lambda c: c.execute(insert(entries).values(counter="missing", note="x")))


def test_drift_sees_a_table_the_revisions_lack(store):
    from sqlalchemy import Column, Integer, MetaData, Table

    from gridchain.store.migrate import Schema

    more = MetaData()
    for table in SCHEMA.metadata.tables.values():
        table.to_metadata(more)
    Table("example_new", more, Column("id", Integer, primary_key=True))
    store.migrate(SCHEMA)
    assert [d[0] for d in drift(store, Schema("example", more, SCHEMA.versions))] == ["add_table"]


def test_a_failed_transaction_writes_nothing(store):
    store.migrate(SCHEMA)

    def half(c):
        c.execute(insert(counters).values(name="a", value=1))
        raise RuntimeError("crash between two writes")

    with pytest.raises(RuntimeError):
        store.atomic(half)
    assert store.read(lambda c: c.execute(select(func.count()).select_from(counters)).scalar()) == 0


def test_concurrent_read_modify_write_loses_no_update(store):
    """Eight threads each add 1 twenty times by reading the value and writing it back: serializable
    transactions (retried on conflict) must end at exactly 160."""
    store.migrate(SCHEMA)
    store.atomic(lambda c: c.execute(insert(counters).values(name="n", value=0)))

    def bump(c):
        value = c.execute(select(counters.c.value).where(counters.c.name == "n")).scalar_one()
        c.execute(update(counters).where(counters.c.name == "n").values(value=value + 1))

    def worker():
        for _ in range(20):
            store.atomic(bump)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.read(lambda c: c.execute(select(counters.c.value)).scalar_one()) == 160


def test_two_services_migrating_at_once_migrate_once(store_url):
    stores = [open_store(store_url) for _ in range(4)]
    errors = []

    def go(s):
        try:
            s.migrate(SCHEMA)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=go, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert revision(stores[0], SCHEMA) == "0001"
    for s in stores:
        s.close()


KILLED_MID_TRANSACTION = """
import os, signal, sys
from sqlalchemy import insert
from gridchain.store.engine import open_store
from tests.store.example import counters, entries
store = open_store(sys.argv[1])
def work(c):
    c.execute(insert(counters).values(name="k", value=1))
    c.execute(insert(entries).values(counter="k", note="first of two"))
    os.kill(os.getpid(), signal.SIGKILL)  # the process dies before the commit
store.atomic(work)
"""


def test_a_process_killed_mid_transaction_leaves_the_old_state(store):
    store.migrate(SCHEMA)
    root = str(SRC.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), root])}
    url = store.engine.url.render_as_string(hide_password=False)
    done = subprocess.run([sys.executable, "-c", KILLED_MID_TRANSACTION, url], env=env, cwd=root)
    assert done.returncode == -signal.SIGKILL
    count = store.read(lambda c: [c.execute(select(func.count()).select_from(t)).scalar() for t in (counters, entries)])
    assert count == [0, 0]
    store.atomic(lambda c: c.execute(insert(counters).values(name="k", value=2)))  # and the store still writes


def test_store_url_default_relative_and_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(STORE_ENV, raising=False)
    config = tmp_path / "gridchain.toml"
    config.write_text("")
    assert store_url(load_config(config)) == (f"sqlite:///{tmp_path / 'state' / 'gridchain.db'}", "store.url")
    config.write_text('[store]\nurl = "sqlite:///db/x.db"\n')
    assert store_url(load_config(config))[0] == f"sqlite:///{tmp_path / 'db' / 'x.db'}"
    monkeypatch.setenv(STORE_ENV, "postgresql://u@h/db")
    assert store_url(load_config(config)) == ("postgresql://u@h/db", STORE_ENV)


def test_store_section_refuses_unknown_keys(tmp_path):
    config = tmp_path / "gridchain.toml"
    config.write_text('[store]\nuri = "sqlite:///x.db"\n')
    with pytest.raises(InputError) as e:
        store_url(load_config(config))
    assert e.value.field == "store.uri"


def test_postgres_is_the_real_server(postgres_server, store):
    if store.dialect == "postgresql":
        assert "PostgreSQL" in store.read(lambda c: c.execute(text("SELECT version()")).scalar())
