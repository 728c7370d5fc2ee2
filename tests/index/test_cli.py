"""`gridchain index run|status` as processes on a pilot written by `gridchain init`, against anvil: SIGKILLed
mid-way and restarted it resumes from its cursor, and its store always holds exactly the chain's events up to
that cursor; SIGTERM stops it cleanly; bad [index] settings exit 2 with one line."""

import json
import os
import signal

import pytest
from typer.testing import CliRunner

from gridchain.chain.anvil import start_anvil
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.cli import app
from gridchain.config.file import load_config
from gridchain.config.store import config_store
from gridchain.coordination.client import CoordinatorClient
from tests.index.harness import chain_view, index_view, post
from tests.support.pilot import init_pilot
from tests.support.processes import json_lines, read_banner, start, stop

pytestmark = pytest.mark.integration
INDEX = "\n[index]\nmax_range = 1\npoll_s = 0.1\n"


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    """A pilot on anvil with its coordinator deployed; the owner's client posts capacities (a log a block)."""
    node = start_anvil(accounts=4)
    try:
        config = init_pilot(tmp_path_factory.mktemp("pilot"), 2, rpc_url=node.url)
        r = CliRunner().invoke(app, ["deploy", "coordinator", "--config", str(config)])
        assert r.exit_code == 0, r.output
        with config.open("a") as f:
            f.write(INDEX)
        record = json.loads((config.parent / "deployment.json").read_text())["contracts"]["coordinator"]
        from gridchain.config.accounts import account_key

        owner = RpcGateway(node.url, [account_key(load_config(config), "owner", 31337)])
        yield config, CoordinatorClient(owner, record["address"]), record["block"]
    finally:
        node.stop()


def stored_view(config, client):
    store = config_store(load_config(config))
    try:
        from gridchain.index.reader import IndexReader

        return index_view(store, client), IndexReader(store).checkpoint("coordinator")
    finally:
        store.close()


def indexed_lines(p, count):
    """Read the daemon's stdout until `count` steps that stored blocks were logged; the last one."""
    seen = 0
    while seen < count:
        line = json.loads(p.stdout.readline())
        seen += line["event"] == "indexed"
    return line


def test_sigkill_mid_way_then_restart_loses_nothing_and_stores_nothing_twice(pilot):
    config, client, deployed = pilot
    post(client, 40)
    for steps in (3, 17):  # two kills, at different points of the catch-up
        p = start("index", "run", "--json", config=config)
        try:
            assert read_banner(p)["contracts"] == {"coordinator": client.address}
            logged = indexed_lines(p, steps)
            os.kill(p.pid, signal.SIGKILL)
            p.wait(30)
        finally:
            if p.poll() is None:
                p.kill()
        view, checkpoint = stored_view(config, client)
        assert checkpoint.block >= logged["checkpoints"]["coordinator"]  # what it logged was committed
        assert steps > 3 or checkpoint.block < client.gateway.block_number()  # the first kill came mid-way
        assert view == chain_view(client, deployed, checkpoint.block)  # events and cursor agree, none twice
    p = start("index", "run", "--json", config=config)
    try:
        first = read_banner(p) and indexed_lines(p, 1)
        assert first["checkpoints"]["coordinator"] == checkpoint.block + 1  # resumed from its cursor
        while indexed_lines(p, 1)["lag"] > 0:
            pass
        post(client, 2, first=100)
        while indexed_lines(p, 1)["checkpoints"]["coordinator"] < client.gateway.block_number():
            pass
        out, _ = stop(p)  # SIGTERM: exit 0
    finally:
        if p.poll() is None:
            p.kill()
    assert json_lines(out)[-1]["event"] == "stopped"
    view, checkpoint = stored_view(config, client)
    assert checkpoint.block == client.gateway.block_number() and view == chain_view(client, deployed)
    r = CliRunner().invoke(app, ["index", "status", "--json", "--config", str(config)])
    status = json.loads(r.stdout)
    (row,) = status["contracts"]
    assert (row["checkpoint"], row["lag"], row["events"]) == (checkpoint.block, 0, len(view))
    assert row["by_name"]["CapacityPosted"] == 42


@pytest.mark.parametrize(
    "line, error",
    [
        ("max_range = 0", "error: index.max_range: "),
        ("confirmations = -1", "error: index.confirmations: "),
        ("poll_s = 0", "error: index.poll_s: "),
        ("every = 3", "error: index.every: "),
    ],
)
def test_bad_index_settings_exit_2_with_one_line(pilot, line, error):
    config, _, _ = pilot
    bad = config.parent / "bad.toml"
    bad.write_text(config.read_text().replace(INDEX, f"\n[index]\n{line}\n"))
    r = CliRunner().invoke(app, ["index", "run", "--config", str(bad)])
    assert r.exit_code == 2 and r.stdout == "" and r.stderr.count("\n") == 1 and r.stderr.startswith(error), r.stderr


def test_nothing_deployed_to_index_is_refused(pilot):
    config, _, _ = pilot
    bad = config.parent / "empty.toml"
    bad.write_text(config.read_text().replace('record = "deployment.json"', 'record = "nothing.json"'))
    r = CliRunner().invoke(app, ["index", "status", "--config", str(bad)])
    assert r.exit_code == 2 and r.stderr.startswith("error: deployment.record: ") and r.stderr.count("\n") == 1


def index_to_head(config, client):
    """Run the indexer until it holds the chain's head: a posting first, so there is always a block to read
    (this test must not depend on another having indexed: under xdist they may run in other processes)."""
    post(client, 1, first=500)
    p = start("index", "run", "--json", config=config)
    try:
        read_banner(p)
        while indexed_lines(p, 1)["checkpoints"]["coordinator"] < client.gateway.block_number():
            pass
        stop(p)
    finally:
        if p.poll() is None:
            p.kill()


def test_verify_from_index_reads_the_store(pilot):
    config, client, _ = pilot
    index_to_head(config, client)
    r = CliRunner().invoke(app, ["verify", "--slots", "0..0", "--from-index", "--config", str(config), "--json"])
    assert r.exit_code in (0, 3) and json.loads(r.stdout)["first"] == 0, r.output  # closed or not: read, no error
    empty = config.parent / "empty-store.toml"
    empty.write_text(config.read_text().replace("sqlite:///state/gridchain.db", "sqlite:///state/empty.db"))
    r = CliRunner().invoke(app, ["verify", "--slots", "0..0", "--from-index", "--config", str(empty)])
    assert r.exit_code == 2 and r.stderr.startswith("error: --from-index: the index holds no events"), r.stderr
    r = CliRunner().invoke(
        app, ["verify", "--slots", "0..0", "--from-index", "--address", client.address, "--rpc-url", "http://x"]
    )
    assert (
        r.exit_code == 2
        and r.stderr == "error: --from-index: reads the deployment's index: give --config, not --address\n"
    )
