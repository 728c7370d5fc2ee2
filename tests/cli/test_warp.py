"""`gridchain warp`: moves a development chain's clock (to past the N-th midnight, or by seconds), refuses any
chain but 31337 naming network.chain_id, and one of --days / --seconds is needed."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gridchain.chain.anvil import start_anvil
from gridchain.cli import app
from tests.support.pilot import write_pilot

pytestmark = pytest.mark.integration
runner = CliRunner()


def warp(config, *args):
    return runner.invoke(app, ["warp", *args, "--config", str(config)])


@pytest.fixture(scope="module")
def dev_node():
    with start_anvil() as node:
        yield node


def test_warp_moves_the_clock_past_midnight_or_by_seconds(dev_node, tmp_path):
    config = write_pilot(tmp_path / "p", dev_node.url, accounts={})
    r = warp(config, "--seconds", "100", "--json")
    assert r.exit_code == 0, r.output
    moved = json.loads(r.stdout)
    assert moved["after"] - moved["before"] >= 100
    r = warp(config, "--days", "2", "--json")
    assert r.exit_code == 0, r.output
    day = json.loads(r.stdout)
    assert day["after"] // 86_400 == day["before"] // 86_400 + 2 and day["after"] % 86_400 >= 60


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((), "error: --days: give --days or --seconds (one of them)\n"),
        (("--days", "1", "--seconds", "5"), "error: --days: give --days or --seconds (one of them)\n"),
        (("--days", "0"), "error: --days: 0 is outside 1..366\n"),
        (("--seconds", "-5"), "error: --seconds: -5 is outside 1..31622400\n"),
    ],
)
def test_bad_options_are_one_line_errors(dev_node, tmp_path, args, error):
    r = warp(write_pilot(tmp_path / "p", dev_node.url, accounts={}), *args)
    assert (r.exit_code, r.stdout, r.stderr) == (2, "", error)


def test_a_chain_other_than_31337_is_refused(tmp_path):
    with start_anvil(chain_id=1337) as node:
        config = write_pilot(tmp_path / "p", node.url, chain_id=1337, accounts={}, dev_funding=False)
        r = warp(config, "--days", "1")
    assert r.exit_code == 2 and r.stderr == (
        "error: network.chain_id: warp moves a development chain's clock: refused on chain id 1337\n"
    )
