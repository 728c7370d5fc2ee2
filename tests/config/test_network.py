"""[network]: the URL must have a scheme and reach a node, and the node must be the configured chain."""

import pytest

from gridchain.chain.anvil import free_port
from gridchain.config.file import load_config
from gridchain.config.network import connect, network_settings
from gridchain.errors import InputError
from tests.support.pilot import write_pilot


def refused(fn, message):
    with pytest.raises(InputError) as e:
        fn()
    assert str(e.value) == message


@pytest.mark.parametrize("url", ["127.0.0.1:8545", "ws://127.0.0.1:8545", "localhost"])
def test_rpc_url_without_http_scheme(tmp_path, url):
    config = load_config(write_pilot(tmp_path, url))
    refused(lambda: connect(config), f"network.rpc_url: {url!r} is not an http:// or https:// URL")


def test_rpc_url_unreachable(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"  # closed: nothing listens there
    config = load_config(write_pilot(tmp_path, url))
    with pytest.raises(InputError) as e:
        connect(config)
    assert e.value.field == "network.rpc_url"
    assert e.value.reason.startswith(f"cannot reach an EVM node at {url!r}: ")
    assert "\n" not in str(e.value)


def test_settings_bad_values(tmp_path):
    path = write_pilot(tmp_path)
    path.write_text(path.read_text().replace("chain_id = 31337", "chain_id = 0\nconfirmations = -1"))
    refused(lambda: network_settings(load_config(path)), "network.chain_id: 0 is outside 1..9223372036854775807")


@pytest.mark.integration
def test_chain_id_wrong(tmp_path, node):
    config = load_config(write_pilot(tmp_path, node.url, 1337))
    refused(lambda: connect(config), f"network.chain_id: the node at {node.url} is chain 31337, not 1337")


@pytest.mark.integration
def test_connect_names_the_accounts(tmp_path, node):
    config = load_config(write_pilot(tmp_path, node.url, 31337, {"owner": None, "keeper": None}))
    network = connect(config, ["owner", "keeper"])
    assert set(network.named) == {"owner", "keeper"}
    assert network.address("owner") in network.gateway.accounts
