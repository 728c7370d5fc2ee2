"""The call market over JSON-RPC: `gridchain deploy market` from a pilot folder and `gridchain market demo
--rpc-url` against anvil (the same code as on the embedded chain, settlement in coins included; the demo moves
the node's clock)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.market.model import Params
from tests.support.pilot import write_pilot

runner = CliRunner()

MARKET = """
[market]
horizon = 8
zones = 2
zone_fees = [0, 4000]
rule = "trade-reduction"
"""


@pytest.mark.integration
def test_deploy_market_on_anvil_records_the_section_and_is_idempotent(tmp_path):
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.market.client import CallMarketClient

    with start_anvil() as node:
        config = write_pilot(tmp_path, node.url, accounts={"owner": None}, extra=MARKET)
        r = runner.invoke(app, ["deploy", "market", "--config", str(config)])
        assert r.exit_code == 0, r.stderr
        record = json.loads((tmp_path / "deployment.json").read_text())
        address = record["contracts"]["market"]["address"]
        gateway = RpcGateway(node.url, [])
        assert CallMarketClient(gateway, address).params() == Params(900, 300, 300, 8, 2, 4000 << 32, 1)
        again = runner.invoke(app, ["deploy", "market", "--config", str(config)])
        assert again.exit_code == 0, again.stderr
        assert json.loads((tmp_path / "deployment.json").read_text())["contracts"]["market"]["address"] == address


@pytest.mark.integration
@pytest.mark.slow
def test_market_demo_over_json_rpc_matches_the_embedded_chain(tmp_path):
    from gridchain.chain.anvil import start_anvil

    args = ["market", "demo", "--traders", "4", "--intervals", "2", "--json"]
    embedded = runner.invoke(app, [*args, "--out", str(tmp_path / "boa")])
    assert embedded.exit_code == 0, embedded.stderr
    with start_anvil(accounts=5) as node:
        r = runner.invoke(app, [*args, "--rpc-url", node.url, "--yes", "--out", str(tmp_path / "rpc")])
    assert r.exit_code == 0, r.stderr
    a, b = json.loads(embedded.stdout), json.loads(r.stdout)
    assert b["chain"] != a["chain"]
    keep = ("bids", "asks", "buy_price", "sell_price", "volume_wh", "efficiency")
    assert [{k: i[k] for k in keep} for i in b["intervals"]] == [{k: i[k] for k in keep} for i in a["intervals"]]
    assert b["totals"] == a["totals"]
    assert b["settlement"]["parties"] == a["settlement"]["parties"]  # the same meters, readings and coins
    assert b["settlement"]["totals"] == a["settlement"]["totals"]
    assert b["settlement"]["deviations"] == a["settlement"]["deviations"]
