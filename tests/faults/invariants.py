"""What must hold after every run of faults, read from the chain (events through the coordinator's client), the
parties' answers (the relayer's tickets) and the CLIs (`verify --json`, `esu tokens`, the wallets' files): each
check returns the losses it found, each naming the broken invariant."""

from __future__ import annotations

import functools
import json
import subprocess
from collections import Counter
from pathlib import Path

import httpx

from gridchain.cli.index import index_settings
from gridchain.config.file import load_config
from gridchain.config.network import network_settings
from gridchain.config.store import config_store
from gridchain.coordination.anonymous.service.relayer import RelayerClient
from gridchain.coordination.cli.connect import coordinator
from gridchain.coordination.model.coordinator import pack
from gridchain.index.reader import IndexReader
from tests.faults.harness import Loss
from tests.faults.workload import Esus
from tests.support.processes import gridchain, rpc, wait_until

TICKETS = "every request the relayer acknowledged is on chain exactly once or reported failed with its reason"
REQUESTS = "every request a wallet kept is confirmed on chain or failed with its reason"
QUOTA = "no member got more valid tokens than its quota"
ISSUANCE = "a member gets its quota of valid tokens after the issuer restarts"
CLOSES = "every slot closed exactly once"
VERIFIES = "every closed slot verifies"
INDEX = "no event counted twice or missed by the index"
INDEX_VERIFY = "verify --from-index agrees with verify"
INDEX_WAIT_S = 60  # for the indexer to read up to the head less its confirmations, after a restart at worst


def chain(config: Path):
    """A fresh coordinator client (it reads the whole history once)."""
    return coordinator(load_config(config))[1]


def on_chain_count(submissions, demand_w: int, soc_pm: int, tcc: int, arrival: int) -> int:
    word = pack(demand_w, soc_pm, tcc, arrival)
    return sum(s.request == word for s in submissions)


def tickets(esus: Esus, relayer_url: str, client) -> list[Loss]:
    """Each acknowledged ticket, asked of the relayer: submitted and on chain once, or failed with a reason."""
    submissions, losses = client.submissions(), []
    relayer = RelayerClient(relayer_url, timeout=10)
    try:
        for ticket, who in esus.tickets.items():
            kept = next(r for r in esus.state(who["wallet"])["requests"] if r["number"] == who["request"])
            problem = _ticket_problem(relayer, ticket, kept, submissions)
            if problem:
                where = f"{who['wallet']} request {who['request']} (slot {who['slot']})"
                losses.append(Loss(TICKETS, f"{where}: {problem}"))
    finally:
        relayer.close()
    return losses


def _ticket_problem(relayer: RelayerClient, ticket: str, kept: dict, submissions) -> str:
    try:
        answer = relayer.status(ticket)
    except httpx.HTTPStatusError as e:
        return f"the relayer does not know its ticket any more ({e.response.status_code})"
    except httpx.TransportError as e:
        return f"the relayer cannot be asked: {e}"
    if answer["status"] == "failed":
        return "" if answer.get("reason") else "failed without a reason"
    if answer["status"] != "submitted":
        return f"still {answer['status']} after its slot {answer.get('slot')}"
    count = on_chain_count(submissions, kept["demand_w"], kept["soc_pm"], kept["tcc"], int(answer["arrival"]))
    return "" if count == 1 else f"reported submitted at arrival {answer['arrival']}, on chain {count} times"


def wallets(esus: Esus, client) -> list[Loss]:
    """Every request each wallet kept: final, and a confirmed one on chain exactly once."""
    submissions, losses = client.submissions(), []
    for wallet in esus.workers:
        for r in esus.this_run(wallet):
            where = f"{wallet} request {r['number']}"
            if r["status"] in ("failed", "expired"):
                if not r["reason"]:
                    losses.append(Loss(REQUESTS, f"{where}: {r['status']} without a reason"))
            elif r["status"] != "confirmed":
                losses.append(Loss(REQUESTS, f"{where}: still {r['status']} ({r['reason']})"))
            elif (n := on_chain_count(submissions, r["demand_w"], r["soc_pm"], r["tcc"], r["arrival"])) != 1:
                losses.append(Loss(REQUESTS, f"{where}: confirmed, on chain {n} times"))
    return losses


def quota(esus: Esus, joiner: str, twin_of: str, twin: str) -> list[Loss]:
    """A member who has its quota asks again with an empty wallet (it must get nothing), and a member who never
    asked gets its quota now; no member's wallets together hold more than the quota of any epoch."""
    losses = []
    joined = esus.tokens(joiner)
    got = joined["epochs"][0]["held"] if joined else 0
    if got != esus.quota:
        losses.append(Loss(ISSUANCE, f"{joiner} got {got} of {esus.quota} tokens: {esus.failures[-1:]}"))
    esus.tokens(esus.twin(twin_of, twin))  # refused (quota used) by an issuer that remembers
    for wallet, copies in ((twin_of, (twin_of, twin)), (joiner, (joiner,))):
        per_epoch = Counter()
        for copy in copies:
            per_epoch.update(esus.state(copy)["obtained"])
        for epoch, n in per_epoch.items():
            if n > esus.quota:
                losses.append(Loss(QUOTA, f"{wallet} holds {n} tokens of {epoch.split('/')[1]} (quota {esus.quota})"))
    return losses


def slots(config: Path, client, first: int) -> list[Loss]:
    """Every slot from `first` below the next to close closed by exactly one SlotClosed, and `verify` agrees."""
    upto = client.next_slot_to_close - 1
    closes = Counter(e.args["slot"] for e in client.closes())
    losses = [Loss(CLOSES, f"slot {s} closed {closes[s]} times") for s in range(first, upto + 1) if closes[s] != 1]
    if upto < first:  # nothing closed in the run: the caller reports the slot that should have been
        return losses
    p, verdicts = verify(config, first, upto)
    if p.returncode != 0 or not verdicts.get("ok"):
        bad = [s["slot"] for s in verdicts.get("slots", []) if s.get("verdict") != "ok"]
        losses.append(Loss(VERIFIES, f"verify exits {p.returncode}: slots {bad} {p.stderr.strip()[-300:]}"))
    return losses


@functools.cache
def verify(config: Path, first: int, upto: int, *options: str) -> tuple[subprocess.CompletedProcess, dict]:
    """`gridchain verify --slots first..upto --json OPTIONS`: the process and its verdicts ({} if it printed none).
    Run once per range and options (the slots and the index checks ask for the same verdicts of closed slots)."""
    p = gridchain("verify", "--slots", f"{first}..{upto}", "--json", *options, config=config)
    return p, (json.loads(p.stdout) if p.stdout else {})


def index(config: Path, first: int, upto: int) -> list[Loss]:
    """Once the index has read up to the head less its confirmations: each contract's indexed events are the
    chain's `eth_getLogs` over the same blocks (the same (block, log index, transaction, block hash) keys, none
    twice, none missing, none extra), its checkpoint is a block of the chain, and `verify --from-index` over slots
    first..upto gives `verify`'s verdicts."""
    deployment = load_config(config)
    network = network_settings(deployment)
    confirmations = index_settings(deployment, network.chain_id).confirmations
    store = config_store(deployment)
    try:
        reader = IndexReader(store)
        behind = _index_lag(reader, network.rpc_url, confirmations)
        if behind:
            return [Loss(INDEX, behind)]
        losses = [loss for c in reader.checkpoints() for loss in _index_equals_chain(reader, network.rpc_url, c)]
    finally:
        store.close()
    if upto >= first:
        losses += _index_verifies(config, first, upto)
    return losses


def _index_lag(reader: IndexReader, url: str, confirmations: int) -> str:
    """Wait until every checkpoint reaches the head (as it is now) less the confirmations; "" or what is behind."""
    final = int(rpc(url, "eth_blockNumber"), 16) - confirmations
    try:
        wait_until(lambda: min(c.block for c in reader.checkpoints()) >= final, INDEX_WAIT_S, "the index", 0.5)
    except AssertionError:
        behind = {c.contract: final - c.block for c in reader.checkpoints() if c.block < final}
        return f"blocks behind the head less {confirmations} confirmations {INDEX_WAIT_S} s after the run: {behind}"
    return ""


def _index_equals_chain(reader: IndexReader, url: str, checkpoint) -> list[Loss]:
    where = f"{checkpoint.contract} blocks {checkpoint.start_block}..{checkpoint.block}"
    on_chain = rpc(url, "eth_getBlockByNumber", [hex(checkpoint.block), False])
    if checkpoint.hash is not None and (on_chain is None or on_chain["hash"] != checkpoint.hash):
        return [Loss(INDEX, f"{where}: the checkpoint's block {checkpoint.hash} is not the chain's")]
    span = {"address": checkpoint.address, "fromBlock": hex(checkpoint.start_block), "toBlock": hex(checkpoint.block)}
    logs = rpc(url, "eth_getLogs", [span])
    chain_keys = Counter(
        (int(g["blockNumber"], 16), int(g["logIndex"], 16), g["transactionHash"], g["blockHash"]) for g in logs
    )
    indexed = reader.events(checkpoint.contract, to_block=checkpoint.block)
    index_keys = Counter((e.block, e.log_index, e.tx_hash, e.block_hash) for e in indexed)
    twice = sorted(k for k, n in index_keys.items() if n > 1)
    missing, extra = sorted(chain_keys - index_keys), sorted(index_keys - chain_keys)
    losses = [
        Loss(INDEX, f"{where}: {what} {keys[:3]}")
        for what, keys in (("counted twice", twice), ("missed", missing), ("not on the chain", extra))
        if keys
    ]
    return losses


def _index_verifies(config: Path, first: int, upto: int) -> list[Loss]:
    (plain, chain_verdicts), (indexed, index_verdicts) = (
        verify(config, first, upto, *o) for o in ((), ("--from-index",))
    )
    if (plain.returncode, chain_verdicts.get("slots")) == (indexed.returncode, index_verdicts.get("slots")):
        return []
    differ = [
        (a.get("slot"), a.get("verdict"), b.get("verdict"))
        for a, b in zip(chain_verdicts.get("slots", []), index_verdicts.get("slots", []))
        if a != b
    ]
    detail = (
        f"slots {first}..{upto}: exit {plain.returncode} vs {indexed.returncode}, (slot, chain, index) {differ[:3]}"
    )
    return [Loss(INDEX_VERIFY, f"{detail} {indexed.stderr.strip()[-300:]}")]
