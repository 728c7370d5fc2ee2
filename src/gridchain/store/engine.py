"""Open a deployment's database and run transactions on it: the same code on SQLite and PostgreSQL.

Every transaction is serializable, so a party's code can read, decide and write as if it were alone:
- SQLite (the embedded default, one file): WAL journal (readers never wait for the writer), `synchronous=FULL`
  (a committed transaction survives a crash of the process and of the machine), foreign keys on, and every write
  transaction opened with `BEGIN IMMEDIATE` (it takes the write lock first, so two processes never deadlock
  upgrading a read lock; the other waits up to `BUSY_TIMEOUT_S`);
- PostgreSQL: `SERIALIZABLE` isolation; a transaction the server aborts for a conflict (SQLSTATE 40001, 40P01)
  is run again by `Store.atomic`.

`Store.atomic(work)` is the one way to write: `work(connection)` runs in a transaction that commits when it
returns and rolls back if it raises, so a crash (SIGKILL included) at any point leaves the old state or the new
one, never half; it is retried on a conflict, so it must not have effects outside the database.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from gridchain.errors import InputError

T = TypeVar("T")
BUSY_TIMEOUT_S = 30.0  # how long an SQLite writer waits for another process's write transaction
RETRIES = 40  # conflicts retried by `atomic` before the error goes up (8 writers on one row need ~10 under load)
SCHEMES = ("sqlite", "postgresql")
_CONFLICTS = {"40001", "40P01"}  # PostgreSQL: serialization failure, deadlock detected


class Store:
    """A deployment's database: `atomic` for writes, `read` for consistent reads, `migrate` for a schema."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        """The URL without its password (for banners and logs)."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def atomic(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` in one serializable transaction, committed when it returns, retried on a conflict
        with another transaction (after a random pause that grows); any other error rolls it back and goes up."""
        for attempt in range(RETRIES + 1):
            try:
                with self.engine.begin() as connection:
                    return work(connection)
            except DBAPIError as e:
                if attempt == RETRIES or not _is_conflict(e):
                    raise
                time.sleep(random.uniform(0, min(0.5, 0.002 * 2**attempt)))  # jitter: no lockstep retries
        raise AssertionError("unreachable")

    def read(self, work: Callable[[Connection], T]) -> T:
        """`work(connection)` on one consistent snapshot, writing nothing (SQLite: a deferred transaction, which
        never waits for the writer in WAL mode)."""
        with self.engine.connect().execution_options(gridchain_read_only=True) as connection:
            with connection.begin():
                return work(connection)

    def migrate(self, schema) -> None:
        """Bring `schema` (a `gridchain.store.migrate.Schema`) to its newest revision (see there)."""
        from gridchain.store.migrate import upgrade

        upgrade(self, schema)

    def close(self) -> None:
        self.engine.dispose()


def _is_conflict(e: DBAPIError) -> bool:
    code = getattr(e.orig, "sqlstate", None) or getattr(e.orig, "pgcode", None)
    if code in _CONFLICTS:
        return True
    return isinstance(e, OperationalError) and "database is locked" in str(e.orig)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{Path(path).resolve()}"


def open_store(url: str, field: str = "store.url", echo: bool = False) -> Store:
    """The store at `url` (`sqlite:///path/to/file.db` or `postgresql://user:password@host:port/name`; a bad URL
    or an unknown scheme is an InputError naming `field`). SQLite's folder is made if missing, and a new database
    file is readable by its owner only."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(field, f"{url!r} is not a database URL (sqlite:///file.db or postgresql://...)") from None
    backend = parsed.get_backend_name()
    if backend not in SCHEMES:
        raise InputError(field, f"{backend!r} is not a supported database (one of {', '.join(SCHEMES)})")
    if backend == "sqlite":
        engine = _sqlite_engine(parsed, field, echo)
    else:
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, the maintained driver
        engine = create_engine(parsed, isolation_level="SERIALIZABLE", pool_pre_ping=True, echo=echo)
    try:  # connect once now: an unreachable server or an unwritable file is the config's error, said here
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except DBAPIError as e:
        engine.dispose()
        shown = parsed.render_as_string(hide_password=True)
        reason = str(e.orig).strip().splitlines()[0] if e.orig is not None else str(e)
        raise InputError(field, f"cannot open the database {shown}: {reason}") from None
    return Store(engine)


def _sqlite_engine(url, field: str, echo: bool) -> Engine:
    if not url.database or url.database == ":memory:":
        raise InputError(field, "an SQLite store needs a file (sqlite:///path/to/file.db), not memory")
    path = Path(url.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():  # owner-only: the store holds ticket ids, session secrets, sealed keys; SQLite gives its
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # -wal and -shm files the database file's mode
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S}, echo=echo)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # the driver opens no transaction of its own: we do, below
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get("gridchain_read_only", False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
