"""A lease: one holder of a name per store, on SQLite (a file lock) and PostgreSQL (an advisory lock); a second
holder is refused naming the field and the first one's pid; a holder killed by SIGKILL frees it at once; the
relayer takes one, so a second relayer on the same store exits 2 before it signs anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from gridchain.errors import InputError
from gridchain.store.lease import hold
from tests.support.processes import gridchain, wait_until

HOLDER = textwrap.dedent(
    """
    import sys, time
    from gridchain.store.engine import open_store
    from gridchain.store.lease import hold
    lease = hold(open_store(sys.argv[1]), "relayer", "store.url")
    print("held", flush=True)
    time.sleep(600)
    """
)


def test_a_second_holder_is_refused_until_the_first_releases(store):
    first = hold(store, "relayer", "store.url")
    with pytest.raises(InputError) as refused:
        hold(store, "relayer", "store.url")
    assert refused.value.field == "store.url"
    assert refused.value.reason.startswith("another relayer (")
    if store.dialect == "sqlite":
        assert f"(pid {os.getpid()})" in refused.value.reason
    with hold(store, "indexer", "store.url"):  # another name is another lease
        pass
    first.release()
    first.release()  # twice is harmless
    with hold(store, "relayer", "store.url"):
        pass


def test_a_holder_killed_by_sigkill_frees_the_name_at_once(store, store_url):
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    p = subprocess.Popen([sys.executable, "-c", HOLDER, store_url], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert p.stdout.readline().strip() == "held"
        with pytest.raises(InputError) as refused:
            hold(store, "relayer", "store.url")
        holder = f"(pid {p.pid})" if store.dialect == "sqlite" else "(server pid "  # the server's backend pid
        assert refused.value.reason.startswith(f"another relayer {holder}"), refused.value.reason
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()
    lease = wait_until(lambda: _try(store), 10, "the lease freed by the kill")  # PostgreSQL: once the server sees it
    lease.release()


def _try(store):
    try:
        return hold(store, "relayer", "store.url")
    except InputError:
        return None


def test_a_second_relayer_on_one_store_exits_2_naming_the_store(tmp_path):
    from gridchain.config.file import load_config
    from gridchain.config.store import config_store
    from tests.support.pilot import init_pilot

    config = init_pilot(tmp_path / "pilot", 0)
    store = config_store(load_config(config))
    with hold(store, "relayer", "store.url"):
        p = gridchain("relayer", "serve", "--config", config)
    store.close()
    assert p.returncode == 2
    assert p.stderr.strip() == (
        f"error: store.url: another relayer (pid {os.getpid()}) is running on this store "
        f"({tmp_path / 'pilot/state/gridchain.db.relayer.lock'})"
    )
