"""Gas of the access log (contracts/access_log.vy): what one attested batch costs as the node set grows.

For each (M, N) in CASES, a fresh log of N nodes with threshold M attests batch 0 (the head's first write: a zero
word made non-zero) and batch 1 (every later batch: `attest_<M>_of_<N>`), each a root over RECORDS access records
with M signatures of 65 bytes. Also each deployment, and on the 3-of-5 log `pin` and `set_nodes` (the same five
nodes, a new epoch). Every figure is a receipt's gasUsed under the report's hardfork; the nodes' keys are fixed test
keys (they never send a transaction). Target (issue 21): a batch <= 60,000 under Osaka at 2-of-3 (and 3-of-5).
"""

from __future__ import annotations

from collections.abc import Callable

from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from gridchain.chain.gateway import Gateway
from gridchain.crypto.keys import address_of
from gridchain.experiments.gas_report import GasReportConfig
from gridchain.monitoring.log_client import AccessLogClient

CASES = ((2, 3), (3, 5), (5, 7))  # (M, N)
RECORDS = 1000  # access records under one root (the contract never opens it: the size costs nothing)
ATTEST_MAX = 60_000  # issue 21: an attested batch costs no more than anchoring a meter-day


def node_keys(n: int) -> list[bytes]:
    return [keccak(text=f"gridchain access log gas key {i}") for i in range(n)]


def measure_case(gateway: Gateway, m: int, n: int) -> dict[str, int]:
    owner, relayer = gateway.accounts[:2]
    keys = node_keys(n)
    log, deploy = AccessLogClient.deploy(gateway, owner, [address_of(key) for key in keys], m)
    gas = {f"deploy_{m}_of_{n}": deploy.gas_used}
    for index in (0, 1):
        root = keccak(text=f"access records, batch {index}")
        receipt = log.attest(relayer, index, root, RECORDS, [log.sign(key, index, root, RECORDS) for key in keys[:m]])
        gas[f"attest_{m}_of_{n}" + ("_first" if index == 0 else "")] = receipt.gas_used
    if (m, n) == (3, 5):
        gas["pin"] = log.pin(relayer).gas_used
        gas["set_nodes_5"] = log.set_nodes(owner, [address_of(key) for key in keys], m).gas_used
    return gas


def measure_functions(gateway: Gateway) -> dict[str, int]:
    gas: dict[str, int] = {}
    for m, n in CASES:
        gas |= measure_case(gateway, m, n)
    return gas


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def steps(config: GasReportConfig) -> int:
    return 1


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    gas = measure_functions(gateway())
    progress("access log")
    return {"access_log": gas}


def targets(report: dict) -> dict[str, dict]:
    gas = report["access_log"]
    return {
        f"access_log_{name}": {"gas": gas[name], "max": ATTEST_MAX, "met": gas[name] <= ATTEST_MAX}
        for name in ("attest_2_of_3", "attest_3_of_5")
    }


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    table = Table(title=f"Access log: batches of {RECORDS:,} access records attested by M of N nodes ({where})")
    for col in ("function", "gas"):
        table.add_column(col, justify="right")
    for name, gas in report["access_log"].items():
        table.add_row(name, f"{gas:,}")
    console.print(table)
