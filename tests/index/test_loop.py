"""The indexer's daemon loop: a node that fails is logged and retried with a doubling backoff; a step that read
blocks logs one line; once caught up it waits `poll_s`."""

import requests

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.index.loop import IndexLoop
from tests.index.harness import indexer, post, posting_contract


class Flaky:
    """A gateway whose node refuses `failures` connections before it answers again."""

    def __init__(self, gateway, failures):
        self._gateway, self.failures = gateway, failures

    def __getattr__(self, name):
        return getattr(self._gateway, name)

    def block_number(self):
        if self.failures:
            self.failures -= 1
            raise requests.ConnectionError("Connection refused")
        return self._gateway.block_number()


def test_transport_errors_back_off_then_the_loop_catches_up(index_store):
    client, deployed = posting_contract(BoaGateway(accounts=2))
    post(client, 2)
    idx = indexer(index_store, client, deployed)
    idx.gateway = Flaky(client.gateway, 3)
    lines = []
    loop = IndexLoop(idx, lines.append, poll_s=0.5)
    assert [loop.round() for _ in range(4)] == [0.5, 1.0, 2.0, 0.5]
    errors, indexed = lines[:3], lines[3]
    assert [e["retry_in_s"] for e in errors] == [0.5, 1.0, 2.0]
    assert errors[0] == {"event": "error", "error": "ConnectionError: connection refused", "retry_in_s": 0.5}
    assert indexed["event"] == "indexed" and indexed["new_events"] == 3 and indexed["lag"] == 0
    assert loop.round() == 0.5 and len(lines) == 4  # caught up: nothing read, nothing logged
