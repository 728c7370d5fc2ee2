"""Transactions per second through the JSON-RPC gateway to anvil (Osaka, --enable-tx-gas-limit); writes JSON.

Starts its own anvil on a free port (stopped by PID at the end), deploys the coordinator, and measures, each on
a slot of its own and over the same gateway:
- member submissions: `--members` members, each with its request limit raised to `--per-member`, one
  `submit_request` per transaction;
  - pipelined: `RpcGateway.transact_many` (gas limit from one estimate, fees read once, sends and receipt
    requests in JSON-RPC batches), the receipts decoded;
  - per transaction: `CoordinatorClient.submit_request` one after the other (an estimate, a send, a receipt each);
  - the node's bound: the same transactions signed beforehand (not timed), then sent in JSON-RPC batches and
    their receipts asked for in batches (not decoded);
- anonymous requests: `--anonymous` requests relayed by one relayer in batches of 20 (`submit_requests_anonymous`),
  their tokens and pseudonym signatures made beforehand (not timed), the same three ways; per second counts
  requests (20 to a transaction).
Timings are wall-clock seconds of one pass each (the node shares the machine with this process: the figure is
what one client gets, not the node alone); the machine's load average is recorded before and after.

Usage: python benchmarks/bench_rpc.py [--out results/bench_rpc.json] [--members 50] [--per-member 20]
       [--anonymous 2000] [--serial 200]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from eth_account import Account
from eth_utils import keccak

from gridchain.chain.anvil import dev_keys, start_anvil
from gridchain.chain.gateway import Call, Receipt, encode_call
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.coordination.anonymous.client import AnonymousRequest, sign_request
from gridchain.coordination.client import CoordinatorClient
from gridchain.crypto import blind

SLOT_S = 3600
BATCH = 20  # anonymous requests per relayed transaction


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def rate(count: int, seconds: float, transactions: int) -> dict:
    return {
        "count": count,
        "transactions": transactions,
        "seconds": round(seconds, 4),
        "per_s": round(count / seconds, 1),
        "transactions_per_s": round(transactions / seconds, 1),
    }


def all_mined(receipts: list) -> None:
    bad = [r for r in receipts if not isinstance(r, Receipt) or r.status != 1]
    if bad:
        raise RuntimeError(f"{len(bad)} of {len(receipts)} transactions failed, e.g. {bad[0]!r}")


def next_slot(gateway: RpcGateway, client: CoordinatorClient) -> int:
    slot = int(client.view("current_slot"))
    gateway.advance_time(client.slot_end(slot) - gateway.now())
    return slot + 1


def presigned(gateway: RpcGateway, calls: list[Call], keys: dict[str, str]) -> list[bytes]:
    """The calls signed with the nonces the node expects and the gateway's cached gas limit, fees of now."""
    nonces = {s: gateway.nonce(s) for s in {c.sender for c in calls}}
    for sender in nonces:
        gateway.forget_nonce(sender)  # these nonces are taken past the gateway's count
    base_fee = int(gateway.w3.eth.get_block("latest")["baseFeePerGas"])
    raws = []
    for c in calls:
        data = encode_call(c.artifact, c.fn, c.args)
        tx = {
            "to": c.address,
            "data": data,
            "value": 0,
            "gas": gateway.gas_limit(c.sender, c.address, data),
            "nonce": nonces[c.sender],
            "chainId": gateway.chain_id,
            "type": 2,
            "maxPriorityFeePerGas": 10**9,
            "maxFeePerGas": 2 * base_fee + 10**9,
        }
        nonces[c.sender] += 1
        raws.append(bytes(Account.from_key(keys[c.sender]).sign_transaction(tx).raw_transaction))
    return raws


def node_bound(gateway: RpcGateway, raws: list[bytes]) -> list[Receipt]:
    hashes = gateway.send_raw_many(raws)
    if not all(isinstance(h, str) for h in hashes):
        raise RuntimeError(
            f"the node refused a pre-signed transaction: {next(h for h in hashes if not isinstance(h, str))}"
        )
    return gateway.receipts_of(None, hashes)  # type: ignore[arg-type]


def members(gateway: RpcGateway, keys: dict[str, str], count: int, per: int, serial: int) -> dict:
    owner, *accounts = gateway.accounts
    accounts = accounts[:count]
    client, _ = CoordinatorClient.deploy(gateway, owner, gateway.now(), SLOT_S, 500, 10**9)
    a, address = client.artifact, client.address
    setup = [Call(a, address, "set_member", (m, True), owner) for m in accounts]
    setup += [Call(a, address, "set_request_limit", (m, per), owner) for m in accounts]
    all_mined(gateway.transact_many(setup))

    def calls(salt: int) -> list[Call]:
        return [
            Call(a, address, "submit_request", (1_000 + salt + i, i % 1000, 1 + i % 4), m)
            for i in range(per)
            for m in accounts
        ]

    n = count * per
    seconds, receipts = timed(lambda: gateway.transact_many(calls(0)))
    all_mined(receipts)
    out = {"pipelined": rate(n, seconds, n)}
    next_slot(gateway, client)
    few = calls(1)[:serial]
    seconds, receipts = timed(lambda: [client.submit_request(c.sender, *c.args)[1] for c in few])
    all_mined(receipts)
    out["per_transaction"] = rate(len(few), seconds, len(few))
    next_slot(gateway, client)
    raws = presigned(gateway, calls(2), keys)
    seconds, receipts = timed(lambda: node_bound(gateway, raws))
    all_mined(receipts)
    out["node_bound_presigned"] = rate(n, seconds, n)
    out["setup"] = {"members": count, "requests_per_member": per, "per_transaction_count": len(few)}
    return out


def anonymous(gateway: RpcGateway, keys: dict[str, str], count: int, serial: int) -> dict:
    owner, relayer = gateway.accounts[:2]
    key = blind.PrivateKey.generate()
    start = gateway.now()
    client, _ = CoordinatorClient.deploy(gateway, owner, start, SLOT_S, 500, 10**9)
    chain_id, slot = client.chain_id(), int(client.view("current_slot"))
    epoch = blind.epoch_of(start + slot * SLOT_S)
    client.register_epoch_key(owner, epoch, key.public.modulus_bytes)
    made = 0

    def make(n: int) -> list[AnonymousRequest]:
        nonlocal made
        out = []
        for _ in range(n):
            made += 1
            pseudonym = Account.from_key(keccak(b"gridchain.bench_rpc.pseudonym" + made.to_bytes(8, "big")))
            m = blind.fdh(blind.token_seed(chain_id, client.address, epoch, pseudonym.address))
            state = blind.blind(key.public, m)
            token = blind.finalize(key.public, state, blind.blind_sign(key, state.blinded))
            out.append(
                sign_request(pseudonym.key, chain_id, client.address, epoch, slot, 1_000 + made, made % 1000, 2, token)
            )
        return out

    def calls(requests: list[AnonymousRequest]) -> list[Call]:
        return [
            Call(
                client.artifact,
                client.address,
                "submit_requests_anonymous",
                (slot, epoch, [r.as_abi() for r in requests[i : i + BATCH]]),
                relayer,
            )
            for i in range(0, len(requests), BATCH)
        ]

    made_s, pipelined = timed(lambda: calls(make(count)))
    seconds, receipts = timed(lambda: gateway.transact_many(pipelined))
    all_mined(receipts)
    out = {"pipelined": rate(count, seconds, len(pipelined))}
    few = make(serial)
    batches = [few[i : i + BATCH] for i in range(0, len(few), BATCH)]
    seconds, receipts = timed(lambda: [client.submit_requests_anonymous(relayer, b)[1] for b in batches])
    all_mined(receipts)
    out["per_transaction"] = rate(len(few), seconds, len(batches))
    raws = presigned(gateway, calls(make(count)), keys)
    seconds, receipts = timed(lambda: node_bound(gateway, raws))
    all_mined(receipts)
    out["node_bound_presigned"] = rate(count, seconds, len(raws))
    out["setup"] = {
        "requests": count,
        "batch": BATCH,
        "per_transaction_count": len(few),
        "tokens_made_s": round(made_s, 2),
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/bench_rpc.json"))
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--per-member", type=int, default=20)
    parser.add_argument("--anonymous", type=int, default=2000, help="anonymous requests (a multiple of 20)")
    parser.add_argument("--serial", type=int, default=200, help="how many go the per-transaction way")
    args = parser.parse_args()
    load_before = os.getloadavg()
    accounts = args.members + 1
    with start_anvil(hardfork="osaka", accounts=accounts, extra_args=["--enable-tx-gas-limit"]) as node:
        gateway = RpcGateway(node.url, node.keys)
        keys = dict(zip(gateway.accounts, dev_keys(accounts)))
        report = {
            "benchmark": "bench_rpc",
            "node": {"anvil": "1.7.1", "hardfork": "osaka", "flags": ["--enable-tx-gas-limit"], "mining": "automine"},
            "member_submissions": members(gateway, keys, args.members, args.per_member, args.serial),
            "anonymous_requests": anonymous(gateway, keys, args.anonymous, args.serial),
        }
    report["targets"] = {
        "member_submissions_per_s_min": 1_000,
        "anonymous_requests_per_s_min": 1_500,
        "member_met": report["member_submissions"]["pipelined"]["per_s"] >= 1_000,
        "anonymous_met": report["anonymous_requests"]["pipelined"]["per_s"] >= 1_500,
    }
    report["machine"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: report[k] for k in ("member_submissions", "anonymous_requests", "targets")}, indent=1))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
