"""[network]: the URL must have a scheme and reach a node, and the node must be the configured chain."""

import http.server
import threading

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


class _Answers(http.server.BaseHTTPRequestHandler):
    """A web server that is no EVM node: an HTML page, or a 404."""

    def do_POST(self) -> None:
        status = 404 if self.path == "/missing" else 200
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"<html>not a node</html>")

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def web_server():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def unreachable(tmp_path, url: str) -> str:
    config = load_config(write_pilot(tmp_path, url))
    with pytest.raises(InputError) as e:
        connect(config)
    assert e.value.field == "network.rpc_url" and "\n" not in str(e.value)
    return e.value.reason


def test_rpc_url_unreachable_is_one_short_reason(tmp_path, web_server):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert unreachable(tmp_path, closed) == f"cannot reach an EVM node at {closed!r}: connection refused"
    unknown = "http://no-such-host.invalid:8545"
    assert unreachable(tmp_path, unknown) == f"cannot reach an EVM node at {unknown!r}: name not known"
    assert unreachable(tmp_path, web_server) == f"cannot reach an EVM node at {web_server!r}: not a JSON-RPC answer"
    missing = web_server + "/missing"
    assert (
        unreachable(tmp_path, missing) == f"cannot reach an EVM node at {missing!r}: not a JSON-RPC answer (HTTP 404)"
    )


def test_rpc_url_that_never_answers_times_out():
    """(A real timeout takes connect's 10 s: the reason is checked on the errors requests raises.)"""
    import requests

    from gridchain.chain.rpc_gateway import unreachable_reason

    assert unreachable_reason(requests.ConnectTimeout("HTTPConnectionPool(...): Max retries exceeded")) == "timed out"
    assert unreachable_reason(requests.ReadTimeout("Read timed out. (read timeout=10.0)")) == "timed out"


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
