"""Gas of governance by a Safe 1.4.1 (gridchain.governance): the Safe's deployment and creation; for each gridchain
contract with an owner, one owner action sent by its owner directly (an account) and the same through a 2-of-3
Safe's execTransaction with 2 signatures (the settlement's set_meter binds a meter the Safe registered in metering
first, not measured); a Safe owner's rotation (swapOwner, through the Safe); the coordinator's
hot key: set_capacity_poster through the Safe, post_capacity by the poster, by the Safe and by an account owner
(each into a slot with no capacity posted yet: the same storage write); the coordinator's epoch keys: one
registered by an account owner, one by the Safe, and BATCH_KEYS in one batched SafeTx (act_batch through
MultiSendCallOnly; the row is per key).
Every figure is a receipt's gasUsed under the report's hardfork; the Safe's owners are fixed test keys (they only
sign), the transactions are sent by the gateway's accounts.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import Gateway
from gridchain.crypto.keys import address_of
from gridchain.experiments.gas_report import GasReportConfig
from gridchain.governance.actions import CONSTRUCTOR_ARGS, OWNER_ACTIONS
from gridchain.governance.client import SafeClient, deploy_safe_contracts

ACCOUNTS = 2  # the deployer (first owner of everything) and a relayer that sends the Safe's transactions
COORDINATOR = "charging_coordinator"
BATCH_KEYS = 7  # epoch keys in the measured batch (a week ahead)


def owner_keys(n: int = 4) -> list[bytes]:
    """The Safe's owners (the first three) and the key rotated in (the fourth)."""
    return [keccak(text=f"gridchain safe owner key {i}") for i in range(n)]


def subject(name: str) -> str:
    return address_of(keccak(text=f"gridchain governance subject {name}"))


def modulus(i: int) -> list[int]:
    """A 2048-bit odd modulus as the coordinator's 8 words (it checks no more), distinct per `i`."""
    return [(1 << 255) | i, *([i + 3] * 6), 1]


def measure_functions(gateway: Gateway) -> dict[str, int]:
    deployer, relayer = gateway.accounts[:ACCOUNTS]
    keys = owner_keys()
    contracts = deploy_safe_contracts(gateway, deployer)
    safe, created = SafeClient.create(gateway, contracts, [address_of(k) for k in keys[:3]], 2, deployer)
    gas = {"create_safe_2_of_3": created.gas_used}
    deployed: dict[str, str] = {}

    def deploy(name: str) -> str:
        args = CONSTRUCTOR_ARGS[name](gateway.now(), gateway.accounts, deployed)
        deployed[name] = gateway.deploy(compile_contract(name), args, deployer).contract_address
        return deployed[name]

    for name, action in OWNER_ACTIONS.items():
        for needed in action.needs:
            if needed not in deployed:
                deploy(needed)
        artifact = compile_contract(name)
        address = deploy(name)
        if action.before is not None:  # its prerequisites, by their owner (the Safe by now), for both subjects
            contract, fn, before_args = action.before
            for who in (subject(name + " direct"), subject(name)):
                safe.act(compile_contract(contract), deployed[contract], fn, before_args(who), keys[:2], relayer)
        direct = gateway.transact(artifact, address, action.fn, action.args(subject(name + " direct")), deployer)
        gas[f"{name}.{action.fn}_by_account"] = direct.gas_used
        if name == COORDINATOR:
            gas["post_capacity_by_account"] = gateway.transact(
                artifact, address, "post_capacity", [1, 90_000], deployer
            ).gas_used
            epoch = gateway.now() // 86_400 + 1  # tomorrow and on: keys for epochs not over
            gas["register_epoch_key_by_account"] = gateway.transact(
                artifact, address, "register_epoch_key", [epoch, modulus(0)], deployer
            ).gas_used
        gateway.transact(artifact, address, "transfer_ownership", [safe.address], deployer)
        through = safe.act(artifact, address, action.fn, action.args(subject(name)), keys[:2], relayer)
        gas[f"{name}.{action.fn}_by_safe_2_of_3"] = through.gas_used
        if name == COORDINATOR:
            poster = gateway.accounts[0]
            receipt = safe.act(artifact, address, "set_capacity_poster", [poster, 200_000], keys[1:3], relayer)
            gas["set_capacity_poster_by_safe_2_of_3"] = receipt.gas_used
            gas["post_capacity_by_poster"] = gateway.transact(
                artifact, address, "post_capacity", [2, 80_000], poster
            ).gas_used
            receipt = safe.act(artifact, address, "post_capacity", [3, 300_000], keys[:2], relayer)
            gas["post_capacity_by_safe_2_of_3"] = receipt.gas_used
            receipt = safe.act(artifact, address, "register_epoch_key", [epoch + 1, modulus(1)], keys[:2], relayer)
            gas["register_epoch_key_by_safe_2_of_3"] = receipt.gas_used
            calls = [
                (artifact, address, "register_epoch_key", [epoch + 2 + i, modulus(2 + i)]) for i in range(BATCH_KEYS)
            ]
            receipt = safe.act_batch(calls, keys[:2], relayer)
            gas[f"register_epoch_key_batch_of_{BATCH_KEYS}_by_safe_2_of_3_per_key"] = receipt.gas_used // BATCH_KEYS
    gas["swap_owner_by_safe_2_of_3"] = safe.swap_owner(
        address_of(keys[0]), address_of(keys[3]), keys[1:3], relayer
    ).gas_used
    return gas


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def steps(config: GasReportConfig) -> int:
    return 1


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    gas = measure_functions(gateway())
    progress("governance")
    return {"governance": gas}


def targets(report: dict) -> dict[str, dict]:
    return {}


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    table = Table(title=f"Governance by a Safe 1.4.1 ({where})")
    for col in ("action", "gas"):
        table.add_column(col, justify="right")
    for name, gas in report["governance"].items():
        table.add_row(name, f"{gas:,}")
    console.print(table)
