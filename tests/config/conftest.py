import pytest

from gridchain.chain.anvil import start_anvil


@pytest.fixture(scope="package")
def node():
    """anvil on its development chain id, 31337."""
    with start_anvil(accounts=2) as anvil:
        yield anvil


@pytest.fixture(scope="package")
def node1337():
    """anvil on chain id 1337: anvil's public development keys must be refused there."""
    with start_anvil(accounts=2, chain_id=1337) as anvil:
        yield anvil
