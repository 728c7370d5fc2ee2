"""Gas of the trade escrow (gridchain.escrow.gas, the gas report's escrow section) on its own, under Prague and
Osaka: the embedded chain (py-evm, Prague) and anvil with each hardfork; writes JSON (no assertions), and prints the
Osaka figures against the issue's targets (open <= 90,000, release by 2 of 3 <= 120,000; the section's rows include
the coin balances': deposit, opens paid from the buyer's balance, withdraw_coin). Besides the section's rows,
a 2-of-3 Safe 1.4.1 as the arbiter: `safe_exec_approve`, its execTransaction of the escrow's `approve` with two
owners' signatures (sent by a relayer; a fresh approvals word), and `resolve_eth_signature_and_safe_approval`,
the release that follows with the seller's one signature (here, not in the section: the escrow's package uses no
other feature, governance included).

`gridchain gas-report --hardfork osaka|prague` measures the same section with every other one (minutes); this is
the escrow's part alone (seconds).

Usage: python benchmarks/bench_escrow_gas.py [--out results/gas_escrow.json]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from eth_utils import keccak

from gridchain.chain.compiler import compile_contract
from gridchain.chain.gas_runs import on_three_chains, write_report
from gridchain.chain.gateway import Gateway
from gridchain.crypto.keys import address_of
from gridchain.escrow import EscrowClient, Terms
from gridchain.escrow.gas import ACCOUNTS, AMOUNT, INTERVALS, TARGETS, key, measure_functions
from gridchain.escrow.model import ETH, INTERVAL_S
from gridchain.governance import SafeClient, deploy_safe_contracts

OWNER_KEYS = [key(f"safe owner {i}") for i in range(3)]


def measure_safe_arbiter(gateway: Gateway) -> dict[str, int]:
    """A trade whose arbiter is a 2-of-3 Safe: the Safe's execTransaction of `approve`, then the release."""
    deployer, buyer, _, relayer = gateway.accounts[:ACCOUNTS]
    owner_key, seller_key, meter = key("meter owner"), key("safe seller"), address_of(key("meter"))
    metering, coin = compile_contract("metering"), compile_contract("energy_coin")
    metering_at = gateway.deploy(metering, [0], deployer).contract_address
    coin_at = gateway.deploy(coin, ["gridchain energy coin", "GEC"], deployer).contract_address
    assert metering_at is not None and coin_at is not None
    gateway.transact(metering, metering_at, "register_meter", [meter, address_of(owner_key), 1, 1], deployer)
    escrow, _ = EscrowClient.deploy(gateway, deployer, metering_at, coin_at)
    contracts = deploy_safe_contracts(gateway, deployer)
    safe, _ = SafeClient.create(gateway, contracts, [address_of(k) for k in OWNER_KEYS], 2, deployer)
    first = gateway.now() // INTERVAL_S // 256 * 256 + 256
    t = Terms(
        buyer, address_of(seller_key), safe.address, ETH, AMOUNT, meter, first, INTERVALS, 5_000,
        gateway.now() + 86_400, keccak(text="safe salt"),
    )  # fmt: skip
    escrow.open(t, escrow.sign_offer(owner_key, t))
    approve = [t.as_tuple(), AMOUNT]
    gas = {"safe_exec_approve": safe.act(escrow.artifact, escrow.address, "approve", approve, OWNER_KEYS[:2], relayer)}
    signature = escrow.sign_resolution(seller_key, t, AMOUNT)
    gas["resolve_eth_signature_and_safe_approval"] = escrow.resolve(relayer, t, AMOUNT, [signature])
    return {name: receipt.gas_used for name, receipt in gas.items()}


def measure(gateway: Gateway) -> dict[str, int]:
    return measure_functions(gateway) | measure_safe_arbiter(gateway)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/gas_escrow.json"))
    args = parser.parse_args()
    report = on_three_chains(measure, ACCOUNTS)
    write_report(report, args.out)
    osaka = report["osaka_anvil"]
    for what, target in TARGETS.items():
        for name in (n for n in osaka if n.startswith(what)):
            verdict = "met" if osaka[name] <= target else f"missed by {osaka[name] - target:,}"
            print(f"{name:42} osaka {osaka[name]:>8,} vs target {target:,}: {verdict}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
