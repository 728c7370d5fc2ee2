"""The real-network files shipped in deploy/ (not run in CI: no container runtime, no internet there) are at
least consistent: each gridchain.toml's sections parse with gridchain's own readers, development funding is off,
and the Besu QBFT genesis config, its compose file and its gridchain.toml agree on the chain and the validators."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gridchain.config.accounts import DEV_CHAIN_ID, key_settings
from gridchain.config.file import load_config
from gridchain.config.network import network_settings
from gridchain.config.record import record_path

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CONFIGS = sorted(DEPLOY.glob("*/gridchain.toml"))


def test_there_is_an_l2_and_a_consortium_config():
    assert {p.parent.name for p in CONFIGS} == {"op-stack", "besu-qbft"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.parent.name)
def test_each_config_parses_with_no_development_funding(path):
    config = load_config(path)
    network = network_settings(config)
    assert network.chain_id != DEV_CHAIN_ID and network.rpc_url.startswith(("http://", "https://"))
    keys = key_settings(config)
    assert keys.dev_funding is False and keys.password_file is None  # the password from the environment only
    assert set(config.section("accounts").table) == {"owner", "keeper", "relayer", "issuer"}
    assert record_path(config).name == "deployment.json"


def test_the_besu_files_agree_on_chain_validators_and_forks():
    qbft = json.loads((DEPLOY / "besu-qbft/qbftConfigFile.json").read_text())
    chain = qbft["genesis"]["config"]
    assert chain["chainId"] == network_settings(load_config(DEPLOY / "besu-qbft/gridchain.toml")).chain_id
    assert chain["cancunTime"] == 0 and chain["zeroBaseFee"] is True  # Vyper's Prague target needs Cancun's opcodes
    assert qbft["blockchain"]["nodes"] == {"generate": True, "count": 4}  # QBFT tolerates one faulty validator of 4
    compose = (DEPLOY / "besu-qbft/docker-compose.yml").read_text()
    assert re.findall(r"^  (node\d):$", compose, re.M) == ["node1", "node2", "node3", "node4"]
    assert compose.count('"127.0.0.1:8545:8545"') == 1  # JSON-RPC published on loopback, by one node only
