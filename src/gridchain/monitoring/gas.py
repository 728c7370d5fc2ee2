"""Gas of monitoring: the access log (contracts/access_log.vy), what one attested batch costs as the node set grows,
and the consent contract (contracts/data_access.vy): a grant, its revocations, a breach report.

For each (M, N) in CASES, a fresh log of N nodes with threshold M attests batch 0 (the head's first write: a zero
word made non-zero) and batch 1 (every later batch: `attest_<M>_of_<N>`), each a root over RECORDS access records
with M signatures of 65 bytes. Also each deployment, and on the 3-of-5 log `pin` and `set_nodes` (the same five
nodes, a new epoch). Every figure is a receipt's gasUsed under the report's hardfork; the nodes' keys are fixed test
keys (they never send a transaction). Target (issue 21): a batch <= 60,000 under Osaka at 2-of-3 (and 3-of-5).

Consent, over a 2-of-3 log: the household's signed grant submitted by the grantee (`grant`, a fresh grant word;
`grant_again`, a second grant), `revoke_signed` by a relayer (of a submitted grant; of one never submitted,
a fresh word), and `report` of
an attested record that breaks its grant (its batch the last one, and `report_after_8` eight batches later: the
roots after it in calldata). Target (issue 21): a grant <= 60,000 under Osaka.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from gridchain.chain.gateway import Gateway
from gridchain.crypto.keys import address_of
from gridchain.experiments.gas_report import GasReportConfig
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.model.consent import Grant, InLog
from gridchain.monitoring.model.records import GENESIS, RecordBatch, Thread, next_record, purpose_tag

CASES = ((2, 3), (3, 5), (5, 7))  # (M, N)
RECORDS = 1000  # access records under one root (the contract never opens it: the size costs nothing)
ATTEST_MAX = 60_000  # issue 21: an attested batch costs no more than anchoring a meter-day
GRANT_MAX = 60_000  # issue 21
DAY = 86_400


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
    return gas | measure_consent(gateway)


def measure_consent(gateway: Gateway) -> dict[str, int]:
    owner, relayer = gateway.accounts[:2]
    keys = node_keys(3)
    log, _ = AccessLogClient.deploy(gateway, owner, [address_of(key) for key in keys], 2)
    consent, deploy = ConsentClient.deploy(gateway, owner, log.address)
    gas = {"deploy_data_access": deploy.gas_used}
    household = keccak(text="gridchain monitoring gas household")
    grantee = address_of(keccak(text="gridchain monitoring gas grantee"))
    today = gateway.now() // DAY
    terms = [
        Grant(
            address_of(household),
            grantee,
            today - 30,
            today - 1,
            purpose_tag("billing"),
            gateway.now() + 30 * DAY,
            keccak(text=f"salt {i}"),
        )
        for i in range(4)
    ]
    for name, g in zip(("grant", "grant_again"), terms):
        gas[name] = consent.grant(relayer, g, consent.sign_grant(household, g)).gas_used
    for name, g in (("revoke_signed", terms[0]), ("revoke_signed_unsubmitted", terms[2])):
        gas[name] = consent.revoke_signed(relayer, g, consent.sign_revoke(household, g)).gas_used
    thread = Thread(address_of(household))
    fields = dict(
        node=owner,
        grantee=grantee,
        grant=consent.grant_id(terms[1]),
        first_day=today - 2,
        last_day=today - 1,
        purpose=purpose_tag("marketing"),
        time=gateway.now(),
    )
    records = [next_record(thread, data_hash=keccak(text=str(i)), **fields) for i in range(RECORDS)]
    batch = RecordBatch(0, tuple(records))
    roots = [batch.root()] + [keccak(text=f"later batch {i}") for i in range(8)]
    for index, root in enumerate(roots):
        log.attest(relayer, index, root, RECORDS, [log.sign(key, index, root, RECORDS) for key in keys[:2]])
        if index == 0:
            where = InLog(tuple(batch.proof(7)), 0, GENESIS, root, ())
            gas["report"] = consent.report(relayer, records[7], terms[1], where).gas_used
    where = InLog(tuple(batch.proof(8)), 0, GENESIS, roots[0], tuple(roots[1:]))
    gas["report_after_8"] = consent.report(relayer, records[8], terms[1], where).gas_used
    return gas


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def steps(config: GasReportConfig) -> int:
    return 1


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    gas = measure_functions(gateway())
    progress("monitoring")
    return {"monitoring": gas}


def targets(report: dict) -> dict[str, dict]:
    gas = report["monitoring"]
    out = {
        f"access_log_{name}": {"gas": gas[name], "max": ATTEST_MAX, "met": gas[name] <= ATTEST_MAX}
        for name in ("attest_2_of_3", "attest_2_of_3_first", "attest_3_of_5")
    }
    out["data_access_grant"] = {"gas": gas["grant"], "max": GRANT_MAX, "met": gas["grant"] <= GRANT_MAX}
    return out


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    table = Table(title=f"Monitoring: access log batches of {RECORDS:,} records, M of N nodes; consent ({where})")
    for col in ("function", "gas"):
        table.add_column(col, justify="right")
    for name, gas in report["monitoring"].items():
        table.add_row(name, f"{gas:,}")
    console.print(table)
