"""One holder at a time: a service that must be the only one of its kind on a store (the relayer: two relayers
on one queue would each sign a batch of the same requests) holds a `Lease` on its name for its life.

SQLite: an OS lock (`flock`) on a file beside the database (`<database>.<name>.lock`, holding the holder's pid);
PostgreSQL: a session advisory lock on a connection of its own (services on other machines see it too). Both go
with the process: a holder killed by SIGKILL frees the name at once, so its restart is never locked out. A
second holder is refused naming `field`, with the first one's pid.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from pathlib import Path

from sqlalchemy import Connection, text

from gridchain.errors import InputError
from gridchain.store.engine import Store


class Lease:
    """`name` held on a store until `release()` (or the end of a `with` block, or of the process)."""

    def __init__(self, release) -> None:
        self._release = release

    def release(self) -> None:
        if self._release is not None:
            self._release()
            self._release = None

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *_exc) -> None:
        self.release()


def hold(store: Store, name: str, field: str) -> Lease:
    """Take `name` on `store`; an InputError naming `field` if another process holds it."""
    if store.dialect == "sqlite":
        return _file_lock(Path(f"{store.engine.url.database}.{name}.lock"), name, field)
    return _advisory_lock(store, name, field)


def _file_lock(path: Path, name: str, field: str) -> Lease:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise InputError(field, f"another {name} (pid {holder}) is running on this store ({path})") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return Lease(lambda: os.close(fd))  # closing the descriptor releases the lock (a killed process's too)


def _advisory_lock(store: Store, name: str, field: str) -> Lease:
    key = zlib.crc32(f"gridchain-lease:{name}".encode())
    lock: Connection = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    if not lock.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar():
        holder = lock.execute(
            text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = :key AND granted"), {"key": key}
        ).scalar()
        lock.close()
        raise InputError(field, f"another {name} (server pid {holder}) is running on this store ({store.url})")

    def release() -> None:
        lock.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        lock.close()

    return Lease(release)
