import os

import pytest

from gridchain.chain.anvil import start_anvil
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.rpc_gateway import RpcGateway


@pytest.fixture(scope="module")
def anvil():
    node = start_anvil(hardfork="prague", accounts=6)
    yield node
    node.stop()
    assert node.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(node.pid, 0)  # stopped by PID: no such process any more


@pytest.fixture(params=["embedded", pytest.param("rpc", marks=pytest.mark.integration)])
def gateway(request):
    if request.param == "embedded":
        return BoaGateway(accounts=6)
    node = request.getfixturevalue("anvil")
    return RpcGateway(node.url, node.keys)
