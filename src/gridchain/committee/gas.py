"""Gas of the committee (contracts/lag_committee.vy): what one attestation costs as the committee grows.

For each (M, N) in CASES, a fresh committee of N members with the rule that gives M (3-of-3 unanimous, and
ceil(2N/3) of 3, 7 and 32) attests one round with M signatures in the 65-byte form (`attest_<M>_of_<N>`); the
5-of-7 case also in EIP-2098's 64-byte form (`..._compact`). Also the deployment of each committee and, on the
7-member one, the owner's add_member, remove_member and set_rule. Every figure is a receipt's gasUsed under the
report's hardfork; members' keys are fixed test keys (they never send a transaction).
"""

from __future__ import annotations

from collections.abc import Callable

from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from gridchain.chain.gateway import Gateway
from gridchain.committee.client import CommitteeClient, kind_of
from gridchain.committee.model import TWO_THIRDS, UNANIMOUS
from gridchain.crypto.keys import address_of
from gridchain.experiments.gas_report import GasReportConfig

CASES = ((3, 3, UNANIMOUS), (2, 3, TWO_THIRDS), (5, 7, TWO_THIRDS), (22, 32, TWO_THIRDS))  # (M, N, rule)
KIND = kind_of("petcon.result")


def member_keys(n: int) -> list[bytes]:
    return [keccak(text=f"gridchain committee gas key {i}") for i in range(n)]


def compact_form(signature: bytes) -> bytes:
    """EIP-2098's r | vs of a 65-byte r | s | v signature."""
    s = int.from_bytes(signature[32:64], "big") | ((signature[64] - 27) << 255)
    return signature[:32] + s.to_bytes(32, "big")


def measure_case(gateway: Gateway, m: int, n: int, rule: int) -> dict[str, int]:
    owner, relayer = gateway.accounts[:2]
    keys = member_keys(n)
    committee, deploy = CommitteeClient.deploy(gateway, owner, [address_of(key) for key in keys], rule)
    assert committee.threshold() == m
    gas = {f"deploy_{n}": deploy.gas_used}
    digest = keccak(text="final allocation and payments, round 1")
    signatures = [committee.sign(key, KIND, 1, digest) for key in keys[:m]]
    gas[f"attest_{m}_of_{n}"] = committee.attest(relayer, KIND, 1, digest, signatures).gas_used
    if n == 7:
        compact = [compact_form(committee.sign(key, KIND, 2, digest)) for key in keys[:m]]
        gas[f"attest_{m}_of_{n}_compact"] = committee.attest(relayer, KIND, 2, digest, compact).gas_used
        extra = address_of(keccak(text="gridchain committee gas key extra"))
        gas["add_member"] = committee.add_member(owner, extra).gas_used
        gas["remove_member"] = committee.remove_member(owner, address_of(keys[0])).gas_used
        gas["set_rule"] = committee.set_rule(owner, UNANIMOUS).gas_used
    return gas


def measure_functions(gateway: Gateway) -> dict[str, int]:
    gas: dict[str, int] = {}
    for m, n, rule in CASES:
        gas |= measure_case(gateway, m, n, rule)
    return gas


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def steps(config: GasReportConfig) -> int:
    return 1


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    gas = measure_functions(gateway())
    progress("committee")
    return {"committee": gas}


def targets(report: dict) -> dict[str, dict]:
    return {}


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    table = Table(title=f"Committee attestations ({where})")
    for col in ("function", "gas"):
        table.add_column(col, justify="right")
    for name, gas in report["committee"].items():
        table.add_row(name, f"{gas:,}")
    console.print(table)
