"""Load: N ESUs obtain a token each and send one anonymous request in one slot, through the utility's issuance
service and the relayer, each a `gridchain` process on loopback over a local anvil node; writes JSON (no
assertions).

Measured: issuance (POST /tokens, with the ESU's own blinding, unblinding and checks) and relaying (POST
/requests, the ESU signing first) as throughput and p50/p99 latency from the ESUs' side; the time until every
ticket is settled and the slot closed; each process's peak memory (VmHWM); and the outcome: every request on
chain exactly once (its pseudonym spent, the slot's count equal to the number acknowledged) and the slot's
schedule verified (`gridchain verify`). The development chain's clock is moved forward (`gridchain warp`) to
the start of a fresh slot before the requests, to its last flush once the full batches are on chain, and past
its end for the close, so a long slot (two hours by default: room for every request) costs no waiting.
`--store postgresql` runs the services on a PostgreSQL server started here (tests/support/postgres.py)
instead of the default SQLite file.

Usage: python benchmarks/bench_load.py [--esus 10000] [--store sqlite|postgresql] [--out results/...json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from eth_utils import keccak  # noqa: E402

from gridchain.chain.rpc_gateway import RpcGateway  # noqa: E402
from gridchain.coordination.anonymous.client import sign_request  # noqa: E402
from gridchain.coordination.anonymous.parties.issuer import TokenWallet  # noqa: E402
from gridchain.coordination.anonymous.service.issuance import IssuanceClient  # noqa: E402
from gridchain.coordination.anonymous.service.relayer import RelayerClient  # noqa: E402
from gridchain.coordination.client import CoordinatorClient  # noqa: E402
from gridchain.crypto.keys import address_of  # noqa: E402
from tests.support.pilot import init_pilot  # noqa: E402
from tests.support.processes import free_port, free_ports, gridchain, gridchain_argv, gridchain_env  # noqa: E402

FLUSH_MARGIN_S = 30  # the relayer's last flush of a slot, this long before its end [s]


class Daemon:
    """A `gridchain ... --json` daemon with its output in files (a pipe nobody reads would block it)."""

    def __init__(self, folder: Path, name: str, args: list[str], env: dict[str, str]) -> None:
        self.name, self.out, self.err = name, folder / f"{name}.out", folder / f"{name}.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.process = subprocess.Popen(gridchain_argv(*args, "--json"), env=env, stdout=out, stderr=err)

    def banner(self, timeout_s: float = 120) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            first = self.out.read_text().split("\n", 1)
            if len(first) == 2:
                return json.loads(first[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.err.read_text()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"{self.name}: no banner within {timeout_s} s")

    def peak_rss_mb(self, pid: int | None = None) -> float | None:
        """The process's peak resident memory (VmHWM) so far [MB]."""
        try:
            status = Path(f"/proc/{pid or self.process.pid}/status").read_text()
        except OSError:
            return None
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return round(kb / 1024, 1)

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


FINAL = {"submitted", "failed"}  # a ticket's last statuses: not queued, nor sending (its receipt not read yet)


def summary(latencies_s: list[float], wall_s: float) -> dict:
    ordered = sorted(latencies_s)
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)  # noqa: E731
    return {
        "count": len(ordered),
        "wall_s": round(wall_s, 2),
        "throughput_per_s": round(len(ordered) / wall_s, 1) if wall_s else None,
        "latency_ms": {
            "p50": pick(0.50),
            "p99": pick(0.99),
            "max": pick(1.0),
            "mean": round(statistics.fmean(ordered) * 1000, 2),
        },
    }


def timed_all(items: list, work: Callable, workers: int, label: str) -> tuple[list, list[float], float]:
    """Run `work(item)` for every item on `workers` threads; the results (or exceptions), latencies, wall time."""
    results: list = [None] * len(items)
    latencies: list[float] = [0.0] * len(items)
    done = [0]
    lock = threading.Lock()

    def one(i: int) -> None:
        start = time.perf_counter()
        try:
            results[i] = work(items[i])
        except Exception as e:  # noqa: BLE001 - counted and reported
            results[i] = e
        latencies[i] = time.perf_counter() - start
        with lock:
            done[0] += 1
            if done[0] % max(1, len(items) // 20) == 0:
                print(f"  {label}: {done[0]}/{len(items)}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, range(len(items))))
    return results, latencies, time.perf_counter() - start


def wait_for(check: Callable[[], object], timeout_s: float, what: str, interval_s: float = 1.0) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(interval_s)
    raise RuntimeError(f"timed out after {timeout_s} s waiting for {what}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--esus", type=int, default=10_000)
    ap.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--slot-length-s", type=int, default=7200, help="long enough for every request of the slot")
    ap.add_argument("--workers", type=int, default=16, help="ESU threads sending at once")
    ap.add_argument("--batch", type=int, default=32, help="the relayer's requests per transaction")
    ap.add_argument("--folder", type=Path, default=Path("/tmp/gridchain-bench-load"))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out = args.out or Path(f"results/bench_load_{args.store}_{args.esus}.json")
    result = run(args)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("issuance", "relay", "outcome")}, indent=1))
    print(f"wrote {out}")


def run(args) -> dict:
    import shutil

    shutil.rmtree(args.folder, ignore_errors=True)
    args.folder.mkdir(parents=True)
    node_port, base = free_port(), free_ports((0, 1, 10, 11, 20))
    config = init_pilot(
        args.folder / "pilot",
        members=1,
        port_base=base,
        rpc_url=f"http://127.0.0.1:{node_port}",
        slot_length_s=args.slot_length_s,
        edits={"relayer.batch": args.batch, "relayer.flush_margin_s": FLUSH_MARGIN_S},
    )
    identities = [keccak(b"gridchain bench_load esu %d" % i) for i in range(args.esus)]
    (config.parent / "members.txt").write_text("".join(address_of(k) + "\n" for k in identities))
    env = gridchain_env(config)
    postgres = None
    if args.store == "postgresql":
        from tests.support.postgres import PostgresServer

        postgres = PostgresServer().start()
        env["GRIDCHAIN_STORE_URL"] = postgres.fresh_database()
    daemons: dict[str, Daemon] = {}
    try:
        daemons["node"] = Daemon(args.folder, "node", ["node", "--port", str(node_port), "--block-time", "1"], env)
        node = daemons["node"].banner()
        deployed = gridchain("deploy", "coordinator", config=config, timeout=600)
        assert deployed.returncode == 0, deployed.stderr
        for name, argv in (
            ("utility", ["utility", "serve"]),
            ("relayer", ["relayer", "serve"]),
            ("keeper", ["keeper", "run"]),
        ):
            daemons[name] = Daemon(args.folder, name, argv, env)
        banners = {name: daemons[name].banner() for name in ("utility", "relayer", "keeper")}
        result = load(args, config, node, banners)
        result["peak_rss_mb"] = {name: d.peak_rss_mb() for name, d in daemons.items() if name != "node"}
        result["peak_rss_mb"]["anvil"] = daemons["node"].peak_rss_mb(node.get("anvil_pid"))
        result["exit_codes"] = {name: d.stop() for name, d in reversed(list(daemons.items()))}
    finally:
        for d in daemons.values():
            d.stop()
        if postgres is not None:
            postgres.stop()
    result["config"] = {
        "esus": args.esus,
        "store": args.store,
        "slot_length_s": args.slot_length_s,
        "workers": args.workers,
        "batch": args.batch,
        "node": "anvil (prague), --block-time 1",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    return result


def current_slot(client: CoordinatorClient) -> int:
    return int(client.view("current_slot"))


def warp_to(config: Path, client: CoordinatorClient, when: int) -> int:
    """Move the development chain's clock forward to `when` (`gridchain warp`), so the benchmark needs no hour
    of waiting; the current slot after it."""
    seconds = when - client.gateway.now()
    if seconds > 0:
        warped = gridchain("warp", "--seconds", seconds, config=config)
        assert warped.returncode == 0, warped.stderr
        wait_for(lambda: client.gateway.now() >= when, 60, "the warped clock", 0.2)
    return current_slot(client)


def load(args, config: Path, node: dict, banners: dict) -> dict:
    gateway = RpcGateway(node["url"], [])
    record = json.loads((config.parent / "deployment.json").read_text())
    client = CoordinatorClient(gateway, record["contracts"]["coordinator"]["address"])
    chain_id, community = client.chain_id(), client.address
    utility_url, relayer_url = banners["utility"]["url"], banners["relayer"]["url"]
    epoch = client.epoch_of_slot(current_slot(client))
    registered = wait_for(lambda: (k := client.epoch_key(epoch)) != b"\0" * 32 and k, 120, "the epoch key on chain")
    issuance = IssuanceClient(utility_url, timeout=600)
    modulus = issuance.modulus(community, epoch)
    local = threading.local()

    def obtain(identity: bytes):
        if not hasattr(local, "issuance"):
            local.issuance = IssuanceClient(utility_url, timeout=600)
        wallet = TokenWallet(identity, banners["utility"]["issuer"], local.issuance)
        wallet.obtain(chain_id, community, epoch, modulus, registered, 1)
        return wallet.take(community, epoch)

    identities = [keccak(b"gridchain bench_load esu %d" % i) for i in range(args.esus)]
    pseudonyms, issue_lat, issue_wall = timed_all(identities, obtain, args.workers, "tokens")
    tokens = [p for p in pseudonyms if not isinstance(p, Exception)]
    issue_errors = [str(p) for p in pseudonyms if isinstance(p, Exception)][:5]

    slot = warp_to(config, client, client.slot_end(current_slot(client)) + 2)  # a fresh slot, all of it ahead
    if client.epoch_of_slot(slot) != epoch:
        raise RuntimeError("the epoch changed under the benchmark (UTC midnight): run it again")

    def send(p) -> str:
        if not hasattr(local, "relayer"):
            local.relayer = RelayerClient(relayer_url, timeout=600)
        signed = sign_request(p.key, chain_id, community, epoch, slot, 7400, 300, 4, p.token)
        return local.relayer.send(signed.to_json())["id"]

    tickets, relay_lat, relay_wall = timed_all(tokens, send, args.workers, "requests")
    accepted = [(t, p) for t, p in zip(tickets, tokens) if isinstance(t, str)]
    relay_errors = [str(t) for t in tickets if not isinstance(t, str)][:5]
    start = time.perf_counter()
    status_client = RelayerClient(relayer_url, timeout=600)
    queued = lambda: [t for t, _ in accepted if status_client.status(t)["status"] == "queued"]  # noqa: E731
    wait_for(lambda: len(queued()) < args.batch, 3600, "every full batch submitted", 2)
    warp_to(config, client, client.slot_end(slot) - FLUSH_MARGIN_S + 5)  # the slot's last flush is due
    statuses = wait_for(
        lambda: (s := [status_client.status(t)["status"] for t, _ in accepted]) and set(s) <= FINAL and s,
        600,
        "every ticket settled",
        2,
    )
    settled_s = time.perf_counter() - start
    warp_to(config, client, client.slot_end(slot) + 2)  # the slot is over: the keeper closes it
    wait_for(lambda: int(client.view("next_slot_to_close")) > slot, 1800, "the slot closed", 2)
    closed_s = time.perf_counter() - start
    verify = gridchain("verify", "--slot", slot, "--json", config=config, timeout=1200)
    verdict = json.loads(verify.stdout) if verify.stdout else {}
    spent = sum(bool(client.spent(p.address)) for _, p in accepted)
    return {
        "issuance": summary(issue_lat, issue_wall)
        | {"errors": len(identities) - len(tokens), "first_errors": issue_errors},
        "relay": summary(relay_lat, relay_wall) | {"errors": len(tokens) - len(accepted), "first_errors": relay_errors},
        "settle": {"all_tickets_settled_s": round(settled_s, 1), "slot_closed_s": round(closed_s, 1)},
        "outcome": {
            "acknowledged": len(accepted),
            "submitted": statuses.count("submitted"),
            "failed": statuses.count("failed"),
            "pseudonyms_spent_on_chain": spent,
            "slot_requests_on_chain": verdict.get("requests"),
            "verify_exit": verify.returncode,
            "verified": verdict.get("ok"),
        },
        "slot": slot,
    }


if __name__ == "__main__":
    main()
