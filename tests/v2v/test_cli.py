import json

import pytest
from typer.testing import CliRunner

from gridchain.chain.anvil import start_anvil
from gridchain.cli import app
from tests.support.processes import gridchain, rpc

runner = CliRunner()


def test_v2v_demo_prints_the_timeline_the_exchange_and_the_balances():
    r = runner.invoke(app, ["v2v", "demo"])
    assert r.exit_code == 0, r.stderr
    out = " ".join(r.stdout.split())  # rich wraps long lines
    for text in (
        "Bid timeline",
        "placed",
        "winner: provider",
        "Mutual authentication",
        "refused a replayed hello",
        "token already used",
        "refused a hello with a forged token",
        "charging session",
        "Balances before and after",
        "contract balance after: 0 wei",
    ):
        assert text in out, text


def test_v2v_demo_json_balances_sum_to_zero():
    r = runner.invoke(app, ["v2v", "demo", "--json", "--seed", "2", "--amount-kwh", "8"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["config"]["amount_wh"] == 8_000 and data["settlement"]["delivered_wh"] == 8_000
    assert sum(b["change"] for b in data["balances"].values()) == 0  # the embedded chain's gas is free
    assert data["contract_balance_after_wei"] == 0


def test_v2v_demo_bad_amount_names_the_option():
    p = gridchain("v2v", "demo", "--amount-kwh", "201")
    assert p.returncode == 2 and p.stderr == "error: --amount-kwh: 201 is outside 1..200\n" and p.stdout == ""


def test_v2v_demo_min_collateral_sets_each_bids_collateral():
    """1000 per mille (the default): every bid stakes the consumer's deposit; 0: the paper's rate x amount."""
    runs = {}
    for pm in (1000, 0):
        r = runner.invoke(app, ["v2v", "demo", "--json", "--min-collateral-pm", str(pm)])
        assert r.exit_code == 0, r.stderr
        runs[pm] = json.loads(r.stdout)
    deposit = runs[1000]["settlement"]["deposit_wei"]
    placed = {pm: [b for b in data["bids"] if b["placed"]] for pm, data in runs.items()}
    assert {b["collateral_wei"] for b in placed[1000]} == {deposit} == {runs[1000]["settlement"]["collateral_wei"]}
    assert [b["collateral_wei"] for b in placed[0]] == [b["rate_wei_per_kwh"] * 20 for b in placed[0]]  # x 20 kWh
    assert runs[0]["settlement"]["min_collateral_wei"] == 0 and runs[0]["contract_balance_after_wei"] == 0


def test_v2v_demo_bad_min_collateral_names_the_option():
    p = gridchain("v2v", "demo", "--min-collateral-pm", "1001")
    assert p.returncode == 2 and p.stderr == "error: --min-collateral-pm: 1001 is outside 0..1000\n" and p.stdout == ""


def test_v2v_help_explains():
    r = runner.invoke(app, ["v2v", "demo", "--help"])
    assert r.exit_code == 0 and "reverse auction" in r.stdout and "Example" in r.stdout


@pytest.mark.integration
def test_v2v_demo_runs_on_a_node_and_warns_before_moving_its_clock():
    with start_anvil() as node:
        t0 = int(rpc(node.url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        p = gridchain("v2v", "demo", "--rpc-url", node.url, "--json", "--amount-kwh", "4", timeout=600)
        assert p.returncode == 0, p.stderr
        assert p.stderr == f"warning: the demo moves the clock of the node at {node.url} forward (evm_increaseTime)\n"
        data = json.loads(p.stdout)
        assert data["settlement"]["delivered_wh"] == 4_000 and data["contract_balance_after_wei"] == 0
        assert sum(b["change"] for b in data["balances"].values()) < 0  # gas is paid on a node
        t1 = int(rpc(node.url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
        assert t1 - t0 >= data["config"]["bidding_time_s"]  # the clock moved, as the warning said


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("127.0.0.1:8545", "error: --rpc-url: '127.0.0.1:8545' is not an http:// or https:// URL\n"),
        ("http://127.0.0.1:1", "error: --rpc-url: cannot reach an EVM node at 'http://127.0.0.1:1': "),
    ],
)
def test_v2v_demo_bad_rpc_url_is_one_line(url, message):
    r = runner.invoke(app, ["v2v", "demo", "--rpc-url", url])
    assert r.exit_code == 2 and r.stderr.startswith(message) and r.stderr.count("\n") == 1, r.stderr
