import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from gridchain.cli import app

runner = CliRunner()


def test_demo_runs_on_the_embedded_chain():
    r = runner.invoke(app, ["demo"])
    assert r.exit_code == 0, r.stderr
    assert "on the embedded chain" in r.stdout
    assert "50 of 50 ESUs recomputed their allocations from the chain and found them right" in r.stdout
    # anonymous by default: tokens from the issuance service, requests relayed in batches
    for name in ("greedy", "fcfs", "optimal", "close_slot", "register_epoch_key", "submit_requests_anonymous"):
        assert name in r.stdout
    assert "set_member" not in r.stdout


def test_demo_json_is_consistent():
    r = runner.invoke(app, ["demo", "--json", "--evs", "12", "--home-batteries", "3"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    summary = data["summary"]
    assert summary["requests"] == 15 == len(data["esus"]) == summary["esus_verified"]
    assert summary["mismatches"] == 0 and data["mismatches"] == []
    assert all(s["granted_w"] <= s["capacity_w"] for s in data["slots"])
    assert summary["energy_granted_wh"] == sum(e["received_wh"] for e in data["esus"])
    assert summary["gas"]["close_slot"]["transactions"] == len(data["slots"])
    assert set(data["model"]) == {"greedy", "fcfs", "optimal", "edf", "llf"}


def test_demo_members_mode():
    r = runner.invoke(app, ["demo", "--json", "--mode", "members", "--evs", "8", "--home-batteries", "2"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["summary"]["esus_verified"] == 10 and data["summary"]["gas"]["set_member"]["transactions"] == 10
    assert "submit_requests_anonymous" not in data["summary"]["gas"]


def test_demo_bad_option():
    r = runner.invoke(app, ["demo", "--evs", "-1"])
    assert r.exit_code == 2 and r.stderr == "error: --evs: -1 is outside 0..1000\n"
    r = runner.invoke(app, ["demo", "--mode", "secret"])
    assert r.exit_code == 2 and r.stderr == "error: --mode: 'secret' is not one of anonymous, members\n"


@pytest.mark.integration
def test_demo_against_a_node():
    from gridchain.chain.anvil import start_anvil

    with start_anvil(accounts=20) as node:
        runs = [
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "gridchain",
                    "demo",
                    "--rpc-url",
                    node.url,
                    "--evs",
                    "12",
                    "--home-batteries",
                    "3",
                    "--json",
                    "--mode",
                    mode,
                    *(["--yes"] if mode == "members" else []),  # the second run finds the first one's blocks
                ],
                capture_output=True,
                text=True,
                timeout=300,
            )
            for mode in ("anonymous", "members")
        ]
    for p in runs:
        assert p.returncode == 0, p.stderr
    assert "warning" not in runs[0].stderr  # a fresh node is the demo's own
    warning = f"warning: the node at {node.url} has "  # ...the second run warns before it moves the clock
    assert (
        runs[1].stderr.startswith(warning)
        and "(a shared node?): moving its clock about a day forward" in runs[1].stderr
    )
    anonymous, data = (json.loads(p.stdout) for p in runs)
    assert anonymous["chain"] == "rpc" and anonymous["summary"]["esus_verified"] == 15
    assert anonymous["summary"]["gas"]["submit_requests_anonymous"]["transactions"] >= 1
    # the members mode is deterministic to the byte: its gas must equal the embedded chain's
    assert data["chain"] == "rpc" and data["summary"]["esus_verified"] == 15
    embedded = json.loads(
        runner.invoke(app, ["demo", "--json", "--evs", "12", "--home-batteries", "3", "--mode", "members"]).stdout
    )
    assert [s["granted_w"] for s in data["slots"]] == [s["granted_w"] for s in embedded["slots"]]
    # the embedded chain's receipts equal Prague's, except that each run deploys with its own clock as the start
    # time: a zero byte in that calldata costs 4 gas instead of 16 (flaky once in ~128 runs before this)
    node_gas, embedded_gas = dict(data["summary"]["gas"]), dict(embedded["summary"]["gas"])
    deploy_node, deploy_embedded = node_gas.pop("deploy"), embedded_gas.pop("deploy")
    assert node_gas == embedded_gas
    assert deploy_node["transactions"] == deploy_embedded["transactions"] == 1
    assert (deploy_node["total"] - deploy_embedded["total"]) % 12 == 0
    assert abs(deploy_node["total"] - deploy_embedded["total"]) <= 24


def test_help_and_version():
    assert runner.invoke(app, ["--version"]).stdout.startswith("gridchain ")
    for args in (
        ["--help"],
        ["schedule", "--help"],
        ["experiment", "fig2", "--help"],
        ["demo", "--help"],
        ["node", "--help"],
        ["verify", "--help"],
        ["utility", "serve", "--help"],
        ["relayer", "serve", "--help"],
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 0 and "Usage" in r.stdout


@pytest.mark.integration
def test_demo_on_a_node_with_blocks_asks_for_yes():
    from gridchain.chain.anvil import start_anvil
    from tests.support.processes import rpc

    with start_anvil(accounts=2) as node:
        rpc(node.url, "evm_mine")
        r = runner.invoke(app, ["demo", "--rpc-url", node.url, "--evs", "1", "--home-batteries", "0"])
        assert rpc(node.url, "eth_blockNumber") == "0x1"  # nothing sent, the clock untouched
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (
        f"error: --rpc-url: the node at {node.url} has 1 block already (a shared node?): the demo moves its clock "
        "about a day forward (evm_increaseTime); pass --yes to proceed\n"
    )
