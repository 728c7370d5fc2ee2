"""A real PostgreSQL server for the store's tests: Debian's `postgresql` package (installed by `make setup`),
started by the tests on 127.0.0.1 in a throw-away folder and stopped by PID.

PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user the package creates.
`fresh_database()` makes an empty database per test, so tests never see each other's tables.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from tests.support.processes import free_port

USER = "gridchain"


def bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian keeps them in /usr/lib/postgresql/<major>/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    return Path(on_path).parent if on_path else None


class PostgresServer:
    def __init__(self) -> None:
        found = bin_dir()
        if found is None:
            raise RuntimeError("no PostgreSQL server installed: run `make setup` (apt-get install postgresql)")
        self.bin = found
        self.dir = Path(tempfile.mkdtemp(prefix="gridchain-pg-"))
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return argv
        shutil.chown(self.dir, "postgres", "postgres")
        return ["runuser", "-u", "postgres", "--", *argv]

    def start(self, timeout: float = 30.0) -> PostgresServer:
        data = self.dir / "data"
        subprocess.run(
            self._as_owner([str(self.bin / "initdb"), "-D", str(data), "-U", USER, "-A", "trust", "--no-sync"]),
            check=True,
            capture_output=True,
        )
        log = open(self.dir / "server.log", "wb")  # noqa: SIM115 - the server writes it until it stops
        self.process = subprocess.Popen(
            self._as_owner(
                [
                    str(self.bin / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.dir),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",  # a test server: no need to survive the machine's crash
                    "-c",
                    "max_connections=200",
                ]
            ),  # fmt: skip
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while subprocess.run(
            [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
        ).returncode:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start: {(self.dir / 'server.log').read_text()[-2000:]}")
            time.sleep(0.1)
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def fresh_database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user={USER} dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            pid_file = self.dir / "data" / "postmaster.pid"  # the server's own PID (runuser's child, as root)
            pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else self.process.pid
            os.kill(pid, signal.SIGINT)  # PostgreSQL's fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
