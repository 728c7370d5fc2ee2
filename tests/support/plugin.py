"""The pytest fixtures every test folder shares (registered in tests/conftest.py): a deployed community, fresh
storage traces for titanoboa, and the attackers (tests/support/attackers.py)."""

import boa
import pytest

from tests.support.community import Community
from tests.support.mirrored import fresh_traces


@pytest.fixture
def community():
    with boa.env.anchor():
        yield Community()


@pytest.fixture(autouse=True)
def _fresh_storage_traces():
    """boa keeps, per address, every storage key a contract wrote, for the storage dump it prints on a revert.
    Tests redeploy at the same addresses (the deployer's nonce starts over), so a key written by another
    contract at that address in an earlier test breaks the dump (titanoboa 0.2.8: `'BytesM_T' object has no
    attribute 'key_type'` when the metering contract's nested maps meet the coordinator's). Start each test
    with empty traces (and `Mirrored.storage_snapshot` reads only the slots of its own contract)."""
    fresh_traces()
    yield


# -- attackers (tests/support/attackers.py): every attack suite's fixtures ------------------------------------
@pytest.fixture
def attacker():
    """One funded attacker account with a key."""
    from tests.support.attackers import new_attacker

    return new_attacker()


@pytest.fixture
def attackers():
    """A factory of funded attacker accounts: `attackers(3)` gives three."""
    from tests.support.attackers import new_attacker

    return lambda count=1, funds=10**21: [new_attacker(funds) for _ in range(count)]


@pytest.fixture
def hostile():
    """A factory that deploys a hostile contract from tests/support/fixtures/: `hostile("name", *args)`."""
    from tests.support.attackers import hostile_contract

    return hostile_contract


# -- the store: SQLite files and a real PostgreSQL server (tests/support/postgres.py) --------------------------
@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server per test process, started on first use and stopped by PID at the end."""
    from tests.support.postgres import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A URL of an empty database, once SQLite (a file in tmp_path) and once PostgreSQL (a fresh database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'gridchain.db'}"
    return request.getfixturevalue("postgres_server").fresh_database()


@pytest.fixture
def store(store_url):
    """An open store on each backend (`store_url`), closed after the test."""
    from gridchain.store.engine import open_store

    opened = open_store(store_url)
    yield opened
    opened.close()
