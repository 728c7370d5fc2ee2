"""Gas of the charging coordinator against a faithful port of the paper's Algorithm 1 (its Table I, Fig. 3).

Both contracts get the same slots: n requests with the Fig. 2 distributions (SoC ~ U[0,1) in per-mille,
TCC ~ Geometric(mean 4), demand (1 - SoC) x 200 kWh) and a capacity of a third of the total demand. Every
figure is a receipt's gasUsed: on the embedded chain (py-evm, Prague; its receipts equal anvil's) or on an
anvil node at the chosen hardfork. Anonymous requests (blind-RSA tokens on one-time pseudonyms, relayed
singly or 20 to a transaction) are measured on a slot of their own; the V2V auction against its paper's
Table II in `gas_v2v`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from eth_account import Account
from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import ChainRevert, Gateway
from gridchain.coordination.anonymous.client import AnonymousRequest, sign_request
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import (
    MAX_REQUESTS,
    close_calldata,
    paged_calldata,
)
from gridchain.crypto import blind
from gridchain.experiments import gas_before
from gridchain.experiments.gas_report import GasReportConfig

PAPER = {"deploy": 742_276, "submit_request": 76_981}  # Table I (Solidity 0.4, Kovan)
TARGETS = {
    "submit_request_max": 60_000,
    "close_per_request_at_500_max": 6_000,
    "baseline_ratio_at_200_min": 10,
    "close_per_request_at_10000_max": 6_000,
    "transaction_gas_max": 16_777_216,
    "submit_request_anonymous_max": 72_000,  # issue 22: Osaka receipts (e = 3); Prague's are 1,707 lower
    "submit_request_anonymous_batch20_max": 41_000,
    "close_per_request_at_500_hardened_max": 1_700,  # issue 14: what the security fixes may cost the close
    # issue 22 (Osaka receipts; the close and member submissions cost the same under Prague): reported, met or not
    "close_per_request_at_500_issue22_max": 1_350,
    "close_per_request_at_10000_issue22_max": 1_600,
    "submit_request_first_issue22_max": 33_000,
}
SLOT_S = 3600
ANONYMOUS_BATCH = 20


def slot_requests(n: int, seed: int) -> tuple[list[tuple[int, int, int]], int]:
    """n requests (demand_w, soc_pm, tcc) and the slot's capacity [W]."""
    rng = np.random.default_rng([seed, n])
    soc = rng.integers(0, 1000, n)
    tcc = rng.geometric(0.25, n)
    demand = (1000 - soc) * 200
    return [(int(demand[i]), int(soc[i]), int(tcc[i])) for i in range(n)], int(demand.sum()) // 3


def coordination(gateway: Gateway, n: int, seed: int) -> dict[str, int]:
    """One slot of n requests, all from one member account whose request limit the owner raises to n (a
    member may send one request per slot by default; n accounts would measure the same submission, a warm
    non-zero member word rewritten, at n times the set-up). A paged close's calls are also reported one by one."""
    owner, member = gateway.accounts[:2]
    requests, capacity = slot_requests(n, seed)
    client, deploy = CoordinatorClient.deploy(gateway, owner, gateway.now(), SLOT_S, 500, capacity)
    admit = client.set_member(owner, member).gas_used
    limit = client.set_request_limit(owner, member, n).gas_used
    sent = client.submit_requests([(member, *r) for r in requests])  # pipelined on a node
    if failed := next((s for s in sent if isinstance(s, ChainRevert)), None):
        raise failed
    gas = [receipt.gas_used for _, receipt in sent]  # type: ignore[misc]
    gateway.advance_time(client.slot_end(0) - gateway.now())
    pending = [s.request for s in client.submissions(0)]
    paged: dict[str, int] = {}
    if n <= MAX_REQUESTS:
        receipts = [client.close_slot(owner, 0, *close_calldata(pending, 500))]
    else:
        calls = paged_calldata(pending, 500)
        receipts = client.close_in_pages(owner, 0, calls)
        paged = {
            "begin_close": receipts[0].gas_used,
            "close_pages_max": max(r.gas_used for r in receipts[1:-1]),
            "finish_close": receipts[-1].gas_used,
        }
    return {
        "deploy": deploy.gas_used,
        "set_member": admit,
        "set_request_limit": limit,
        "submit_first": gas[0],
        "submit_steady": max(gas[1:], default=gas[0]),
        "close_slot": sum(r.gas_used for r in receipts),
        "close_calls": len(receipts),
        "close_max_transaction": max(r.gas_used for r in receipts),
        "paged": paged,
    }


def anonymous(gateway: Gateway, seed: int) -> dict[str, int]:
    """Anonymous requests relayed by a member: a slot's first, one more alone, then a batch of 20 in one call.

    Pseudonym keys are derived from the seed; the epoch's RSA key is fresh, so the tokens (hence their zero
    bytes in calldata) differ from run to run by a few tens of gas at most.
    """
    owner, relayer = gateway.accounts[:2]
    requests, capacity = slot_requests(2 + ANONYMOUS_BATCH, seed)
    key = blind.PrivateKey.generate()
    start = gateway.now()
    client, _ = CoordinatorClient.deploy(gateway, owner, start, SLOT_S, 500, capacity)
    chain_id, slot = client.chain_id(), int(client.view("current_slot"))
    epoch = blind.epoch_of(start + slot * SLOT_S)
    client.register_epoch_key(owner, epoch, key.public.modulus_bytes)

    def make(i: int) -> AnonymousRequest:
        pseudonym = Account.from_key(keccak(b"gridchain.gas.pseudonym" + seed.to_bytes(8, "big") + i.to_bytes(4)))
        m = blind.fdh(blind.token_seed(chain_id, client.address, epoch, pseudonym.address))
        state = blind.blind(key.public, m)
        token = blind.finalize(key.public, state, blind.blind_sign(key, state.blinded))
        return sign_request(pseudonym.key, chain_id, client.address, epoch, slot, *requests[i], token)

    first = client.submit_request_anonymous(relayer, make(0))[1].gas_used
    single = client.submit_request_anonymous(relayer, make(1))[1].gas_used
    subs, batch = client.submit_requests_anonymous(relayer, [make(2 + i) for i in range(ANONYMOUS_BATCH)])
    assert len(subs) == ANONYMOUS_BATCH
    return {"first": first, "single": single, "batch": batch.gas_used}


def baseline(gateway: Gateway, n: int, seed: int) -> dict[str, int]:
    """Algorithm 1: each ESU submits from its own address (the paper's mapping is keyed by sender)."""
    artifact = compile_contract("baza_algorithm1", directory=gas_before.BASELINE_DIR)
    owner, *esus = gateway.accounts
    requests, capacity = slot_requests(n, seed)
    receipt = gateway.deploy(artifact, [owner, capacity, 0], owner)
    address = receipt.contract_address
    submits = []
    for esu, (demand, soc, tcc) in zip(esus, requests):
        gateway.transact(artifact, address, "set_member", [esu, True], owner)
        submits.append(
            gateway.transact(artifact, address, "Recieve_Charging_Request", [demand, tcc, soc], esu).gas_used
        )
    try:
        knapsack: int | None = gateway.transact(artifact, address, "Knapsack", [], owner).gas_used
        failure = None
    except ChainRevert as e:  # e.g. more gas than one transaction may use under Osaka (EIP-7825)
        knapsack, failure = None, e.reason
    return {"deploy": receipt.gas_used, "submit_request": max(submits), "knapsack": knapsack, "failure": failure}


def steps(config: GasReportConfig) -> int:
    """Progress steps of this section: one per slot size, the anonymous requests, one per baseline size."""
    return len(config.coordination_sizes) + 1 + len(config.baseline_sizes)


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    """The coordination, baseline and paper parts of the report; `gateway()` gives a fresh (embedded) chain or
    the same node each time."""
    if len(config.baseline_sizes) and max(config.baseline_sizes) > MAX_REQUESTS:
        raise ValueError(f"baseline sizes must be at most {MAX_REQUESTS}")
    ours: dict[str, dict[str, int]] = {}
    for n in config.coordination_sizes:
        ours[str(n)] = coordination(gateway(), n, config.seed)
        progress(f"coordination n={n}")
    anon = anonymous(gateway(), config.seed)
    progress("anonymous requests")
    base: dict[str, dict[str, int]] = {}
    for n in config.baseline_sizes:
        base[str(n)] = baseline(gateway(), n, config.seed)
        progress(f"baseline n={n}")
    any_ours = next(iter(ours.values()))
    return {
        "coordination": {
            "deploy": any_ours["deploy"],
            "set_member": any_ours["set_member"],  # a new member
            "set_request_limit": any_ours["set_request_limit"],  # a member's limit raised (above the default 1)
            "submit_request": max(v["submit_first"] for v in ours.values()),
            "submit_request_steady": max(v["submit_steady"] for v in ours.values()),
            "submit_request_anonymous": anon["single"],  # not the slot's first, like submit_request_steady
            "submit_request_anonymous_first": anon["first"],
            "submit_request_anonymous_batch20": round(anon["batch"] / ANONYMOUS_BATCH),  # per request
            "submit_request_anonymous_batch20_transaction": anon["batch"],
            "close_slot": {n: v["close_slot"] for n, v in ours.items()},
            "close_slot_per_request": {n: round(v["close_slot"] / int(n)) for n, v in ours.items()},
            "close_slot_calls": {n: v["close_calls"] for n, v in ours.items()},
            "close_slot_max_transaction": {n: v["close_max_transaction"] for n, v in ours.items()},
            "close_in_pages": {n: v["paged"] for n, v in ours.items() if v["paged"]},  # each call of a paged close
        },
        "baseline": {
            "deploy": next(iter(base.values()))["deploy"] if base else None,
            "submit_request": max((v["submit_request"] for v in base.values()), default=None),
            "knapsack": {n: v["knapsack"] for n, v in base.items()},  # None: the transaction failed
            "failures": {n: v["failure"] for n, v in base.items() if v["failure"]},
        },
        "paper": PAPER,
    }


def targets(report: dict) -> dict[str, object]:
    c, b = report["coordination"], report["baseline"]
    out: dict[str, object] = {
        "submit_request": {
            "gas": c["submit_request"],
            "max": TARGETS["submit_request_max"],
            "met": c["submit_request"] <= TARGETS["submit_request_max"],
        }
    }
    for name in ("submit_request_anonymous", "submit_request_anonymous_batch20"):
        if name in c:
            out[name] = {"gas": c[name], "max": TARGETS[f"{name}_max"], "met": c[name] <= TARGETS[f"{name}_max"]}
    if "500" in c["close_slot_per_request"]:
        per = c["close_slot_per_request"]["500"]
        out["close_per_request_at_500"] = {
            "gas": per,
            "max": TARGETS["close_per_request_at_500_max"],
            "met": per <= TARGETS["close_per_request_at_500_max"],
        }
        hardened = TARGETS["close_per_request_at_500_hardened_max"]
        out["close_per_request_at_500_hardened"] = {"gas": per, "max": hardened, "met": per < hardened}
        lean = TARGETS["close_per_request_at_500_issue22_max"]
        out["close_per_request_at_500_issue22"] = {"gas": per, "max": lean, "met": per <= lean}
    first = TARGETS["submit_request_first_issue22_max"]
    out["submit_request_first_issue22"] = {
        "gas": c["submit_request"],
        "max": first,
        "met": c["submit_request"] <= first,
    }
    if "200" in c["close_slot"] and b["knapsack"].get("200"):
        ratio = b["knapsack"]["200"] / c["close_slot"]["200"]
        out["baseline_ratio_at_200"] = {
            "ratio": round(ratio, 2),
            "min": TARGETS["baseline_ratio_at_200_min"],
            "met": ratio >= TARGETS["baseline_ratio_at_200_min"],
        }
    if "10000" in c["close_slot"]:
        per, biggest = c["close_slot_per_request"]["10000"], c["close_slot_max_transaction"]["10000"]
        out["close_10000_requests"] = {
            "gas_per_request": per,
            "max": TARGETS["close_per_request_at_10000_max"],
            "calls": c["close_slot_calls"]["10000"],
            "largest_transaction": biggest,
            "transaction_cap": TARGETS["transaction_gas_max"],
            "met": per <= TARGETS["close_per_request_at_10000_max"] and biggest <= TARGETS["transaction_gas_max"],
        }
        lean = TARGETS["close_per_request_at_10000_issue22_max"]
        out["close_10000_requests_issue22"] = {
            "gas_per_request": per,
            "max": lean,
            "largest_transaction": biggest,
            "met": per <= lean and biggest <= TARGETS["transaction_gas_max"],
        }
    return out


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    table = Table(title=f"Gas to close a slot of n requests ({where})")
    for col in ("n", "gridchain close", "calls", "per request", "Algorithm 1 Knapsack", "ratio"):
        table.add_column(col, justify="right")
    for n, ours in report["coordination"]["close_slot"].items():
        base = report["baseline"]["knapsack"].get(n)
        failed = n in report["baseline"]["failures"]
        calls = report["coordination"]["close_slot_calls"][n]
        table.add_row(
            n,
            f"{ours:,}",
            str(calls),
            f"{ours // int(n):,}",
            "failed: gas cap" if failed else f"{base:,}" if base else "-",
            f"{base / ours:.1f}x" if base else "-",
        )
    console.print(table)
    c, b, p = report["coordination"], report["baseline"], report["paper"]
    console.print(f"deploy: gridchain {c['deploy']:,}, Algorithm 1 port {b['deploy']:,}, paper {p['deploy']:,}")
    console.print(
        f"submit_request: gridchain {c['submit_request']:,} (a slot's first; then "
        f"{c['submit_request_steady']:,}), Algorithm 1 port {b['submit_request']:,}, paper {p['submit_request']:,}"
    )
    console.print(
        f"anonymous request: {c['submit_request_anonymous']:,} alone (a slot's first "
        f"{c['submit_request_anonymous_first']:,}), {c['submit_request_anonymous_batch20']:,} per request "
        f"in a batch of 20"
    )
