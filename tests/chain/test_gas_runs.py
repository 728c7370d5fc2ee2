"""gridchain.chain.gas_runs: a section's measurement on the embedded chain and on anvil under Prague and Osaka, the
Osaka node refusing a transaction above EIP-7825's cap (16,777,216 gas) as mainnet does; the report as JSON."""

from __future__ import annotations

import json

import pytest
from eth_utils import to_checksum_address
from web3.exceptions import Web3RPCError

from gridchain.chain.gas_runs import CHAINS, on_three_chains, write_report

CAP = 2**24


def measure(gateway) -> dict[str, int]:
    """A transfer's gas, and whether the chain takes a transaction with a gas limit above the cap (1) or not (0)."""
    sender, to = to_checksum_address(gateway.accounts[0]), to_checksum_address("0x" + "5e" * 20)
    gas = {"transfer": gateway.transfer(sender, to, 1).gas_used}
    if gateway.kind == "embedded":
        return gas | {"above_cap_taken": -1}  # py-evm has no EIP-7825
    tx = {"from": sender, "to": to, "value": 1, "gas": CAP + 1}
    try:
        gateway.w3.eth.send_transaction(tx)
        taken = 1
    except Web3RPCError as e:  # the node's JSON-RPC error: the cap, nothing else
        assert "tx_gas_limit_cap" in str(e), e
        taken = 0
    return gas | {"above_cap_taken": taken}


@pytest.mark.integration
def test_three_chains_and_the_osaka_cap(tmp_path, capsys):
    report = on_three_chains(measure, accounts=1)
    assert tuple(report) == CHAINS
    assert all(report[chain]["transfer"] == 21_000 for chain in CHAINS)
    assert report["prague_anvil"]["above_cap_taken"] == 1  # no cap before Osaka
    assert report["osaka_anvil"]["above_cap_taken"] == 0  # --enable-tx-gas-limit: refused
    out = tmp_path / "r" / "gas.json"
    write_report(report, out)
    assert json.loads(out.read_text()) == report
    assert "transfer" in capsys.readouterr().out
