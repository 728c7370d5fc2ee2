import pytest

from gridchain.chain.anvil import start_anvil
from gridchain.index.tables import SCHEMA


@pytest.fixture(scope="module")
def anvil():
    node = start_anvil(accounts=4)
    yield node
    node.stop()


@pytest.fixture
def index_store(store):
    """The `store` fixture (SQLite and PostgreSQL) with the indexer's schema migrated."""
    store.migrate(SCHEMA)
    return store
