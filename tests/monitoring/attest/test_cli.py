"""`gridchain monitoring attest`: its help says what it reads and writes and that the key folder is a pilot's
shortcut; a bad --poll-s, a keystore of no [monitoring] node, one node's key twice and fewer keys than m are each
named before anything connects; on a pilot (anvil) --once --json attests the store's records from the
[monitoring] attestor account, the monitor then finds nothing, and a second attestor on the store is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.crypto.keystore import write_keystore
from gridchain.monitoring.cli.attest import round_lines
from tests.monitoring.service.world import NODE_KEYS, NODES, World, k
from tests.support.pilot import PASSWORD, SCRYPT_N, write_pilot

runner = CliRunner()


def _words(args: list[str]) -> str:
    return " ".join(runner.invoke(app, args).output.replace("│", " ").split())


def test_help_says_what_it_reads_writes_and_who_keeps_the_keys():
    out = _words(["monitoring", "attest", "--help"])
    for words in ("Reads:", "Writes:", "node_keys", "in production each consensus node keeps its own key",
                  "attestor account", "intent", "never attested twice", "One attestor per store", "--once",
                  "--json", "--poll-s", "--config"):  # fmt: skip
        assert words in out, words


@pytest.mark.parametrize("value", ["0", "-1", "1e9"])
def test_a_bad_poll_is_named(value, tmp_path):
    result = runner.invoke(app, ["monitoring", "attest", "--poll-s", value, "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 2 and "--poll-s" in result.output


def pilot(folder: Path, keys: list[bytes], m: int = 2, rpc_url: str = "http://127.0.0.1:9") -> Path:
    """A pilot whose [monitoring] names NODES, `m`, and a consensus folder holding `keys`' keystores."""
    for i, key in enumerate(keys):
        write_keystore(folder / "consensus" / f"node{i}.json", "0x" + key.hex(), PASSWORD, SCRYPT_N)
    nodes = ", ".join(f'"{n}"' for n in NODES)
    extra = f'\n[monitoring]\nnodes = [{nodes}]\nm = {m}\nnode_keys = "consensus"\ngrace_s = 0\n'
    return write_pilot(folder, rpc_url, accounts={"owner": None}, extra=extra)


@pytest.mark.parametrize(
    ("keys", "m", "says"),
    [
        ([NODE_KEYS[0], k("not a node")], 1, "node1.json' holds 0x"),
        ([NODE_KEYS[0], NODE_KEYS[0]], 1, "hold one node's key"),
        ([NODE_KEYS[0]], 2, "1 consensus node keystores in"),
        ([], 1, "0 consensus node keystores in"),
    ],
)
def test_bad_node_keys_are_named_before_connecting(tmp_path, keys, m, says):
    path = pilot(tmp_path, keys, m)
    result = runner.invoke(app, ["monitoring", "attest", "--once", "--config", str(path)])
    out = " ".join(result.output.split())
    assert result.exit_code == 2 and "monitoring.node_keys" in out and says in out, out
    if "holds" in says:
        assert "which is not one of [monitoring] nodes" in out


def test_round_lines_fit_80_columns():
    summary = {"event": "round", "at": 1, "settled": "sent again", "batch": 3, "records": 2, "gas": 90_000,
               "batches": 4, "held": [{"household": "0x" + "ab" * 20, "seq": 7, "reason": "x" * 200}]}  # fmt: skip
    lines = round_lines(summary)
    assert lines[0].startswith("round at 1: batch 3 attested (2 records") and "sent again" in lines[1]
    assert all(len(line) <= 80 for line in lines) and len(lines) == 3
    assert "no batch (dropped)" in round_lines(summary | {"batch": None, "refused": "dropped"})[0]


@pytest.mark.integration
def test_attest_once_on_a_pilot(tmp_path):
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.config.store import config_store
    from gridchain.monitoring.cli.chain import open_monitoring, read_config
    from gridchain.monitoring.consent_client import ConsentClient
    from gridchain.monitoring.log_client import AccessLogClient
    from gridchain.store.lease import hold

    with start_anvil() as node:
        path = pilot(tmp_path, NODE_KEYS, rpc_url=node.url)
        for target in ("access_log", "data_access"):
            r = runner.invoke(app, ["deploy", target, "--config", str(path)])
            assert r.exit_code == 0, r.output
        d = open_monitoring(read_config(path), ["owner"])
        gw = RpcGateway(node.url, node.keys)
        w = World(d.store, gw, (AccessLogClient(gw, d.log.address), ConsentClient(gw, d.consent.address)))
        w.honest(), w.honest()
        w.show()  # the processing node writes its thread into the pilot's store
        owner = d.address("owner")
        d.store.store.close()

        r = runner.invoke(app, ["monitoring", "attest", "--once", "--json", "--config", str(path)])
        assert r.exit_code == 0, r.output
        (line,) = r.stdout.splitlines()
        out = json.loads(line)
        assert (out["batch"], out["records"], out["batches"], out["held"]) == (0, 2, 1, []), out
        (event,) = w.log.events("Attested")
        assert gw.w3.eth.get_transaction(event.tx_hash)["from"].lower() == owner.lower()  # the attestor account

        r = runner.invoke(app, ["monitor", "--once", "--json", "--config", str(path)])
        assert r.exit_code == 0, r.output
        summary = json.loads(r.stdout.splitlines()[-1])
        assert summary["alerts"] == {} and summary["roots"] == 1
        r = runner.invoke(app, ["monitoring", "attest", "--once", "--json", "--config", str(path)])
        assert json.loads(r.stdout)["batch"] is None and len(w.log.events("Attested")) == 1
        store = config_store(read_config(path))
        try:
            with hold(store, "attestor", "store.url"):  # another attestor runs on this store
                r = runner.invoke(app, ["monitoring", "attest", "--once", "--config", str(path)])
                assert r.exit_code == 2 and "store.url: another attestor" in " ".join(r.output.split())
        finally:
            store.close()
