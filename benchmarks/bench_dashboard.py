"""The dashboard under a long history: a coordinator on anvil with N slots closed and M requests (random, by
members), indexed; then `gridchain dashboard` as its own process and Debian's chromium through Playwright.
Writes JSON (no assertions).

Measured: the build (requests and closes sent, indexing); the first /api/community (the whole history recomputed
as `gridchain verify` does, each close's receipt and calldata read once) and a warm one; the community page's load
in the browser (navigation to the load event, and to the chart drawn), cold and warm; the live-update latency (a
slot closed and indexed while the page is open: from the indexer's commit to the row in the page, which includes up
to one poll interval, [dashboard] poll_s; and the server's answer alone: the first /api/community after the
commit, the new slot verified on top of the verdicts kept); the dashboard process's resident memory.

Usage: python benchmarks/bench_dashboard.py [--slots 1000] [--requests 10000] [--poll-s 1.0] [--updates 10]
       [--out results/bench_dashboard.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gridchain.chain.anvil import start_anvil  # noqa: E402
from tests.dashboard.town import Town  # noqa: E402
from tests.support.browser import open_browser, watch  # noqa: E402
from tests.support.pilot import edit_toml  # noqa: E402
from tests.support.processes import kill, read_banner, start  # noqa: E402


def build(town: Town, slots: int, requests: int) -> dict:
    t0 = time.perf_counter()
    per_slot = [requests // slots + (1 if k < requests % slots else 0) for k in range(slots)]
    for k, count in enumerate(per_slot):
        town.slot(count, 20_000 + 500 * (k % 40) if k % 10 == 0 else None, index=False)
        if k % 100 == 99:
            print(f"  {k + 1} slots closed ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    sent = time.perf_counter() - t0
    t1 = time.perf_counter()
    town.index()
    return {
        "slots": slots,
        "requests": sum(per_slot),
        "send_s": round(sent, 1),
        "index_s": round(time.perf_counter() - t1, 1),
    }


def api_times(url: str) -> dict:
    t0 = time.perf_counter()
    first = httpx.get(url + "/api/community", timeout=600).json()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(5):
        t0 = time.perf_counter()
        httpx.get(url + "/api/community?after=" + str(first["closed"] - 1), timeout=60)
        warm.append(time.perf_counter() - t0)
    return {
        "first_s": round(cold, 3),
        "poll_nothing_new_ms": round(statistics.median(warm) * 1000, 1),
        "closed": first["closed"],
    }


def page_load(browser, url: str, runs: int = 5) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    seen = watch(context)
    page = context.new_page()
    loads, charts = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        page.goto(url + "/community", wait_until="load")
        loaded = time.perf_counter() - t0
        page.wait_for_selector("#chart .main-svg")
        loads.append(loaded)
        charts.append(time.perf_counter() - t0)
    context.close()
    seen.assert_clean()
    return {
        "cold_load_s": round(loads[0], 3),
        "cold_chart_s": round(charts[0], 3),
        "warm_load_s_median": round(statistics.median(loads[1:]), 3),
        "warm_chart_s_median": round(statistics.median(charts[1:]), 3),
    }


def live_updates(browser, town: Town, url: str, updates: int) -> dict:
    context = browser.new_context()
    page = context.new_page()
    page.goto(url + "/community")
    page.wait_for_selector("#chart .main-svg")
    latencies, answers = [], []
    for k in range(updates):
        slot = town.slot(10, None, index=False)
        town.index()
        t0 = time.perf_counter()  # the slot's close is in the index: from here the dashboard's part
        if k % 2:  # every other update: the server's answer alone (the page then finds the row at its next poll)
            httpx.get(url + f"/api/community?after={slot - 1}", timeout=60)
            answers.append(time.perf_counter() - t0)
        page.wait_for_selector(f'#slots tbody tr[data-slot="{slot}"]', timeout=60_000)
        latencies.append(time.perf_counter() - t0)
    context.close()
    shown = latencies[0::2]  # only the page's own polls
    return {
        "updates": updates,
        "latency_s_median": round(statistics.median(shown), 3),
        "latency_s_max": round(max(shown), 3),
        "latencies_s": [round(x, 3) for x in shown],
        "server_answer_ms_median": round(statistics.median(answers) * 1000, 1),
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slots", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--poll-s", type=float, default=1.0)
    parser.add_argument("--updates", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path("results/bench_dashboard.json"))
    args = parser.parse_args()
    node = start_anvil(accounts=10)
    try:
        with tempfile.TemporaryDirectory() as folder:
            town = Town(node, Path(folder) / "pilot", limit=64)
            edit_toml(town.config, "dashboard.poll_s", args.poll_s)
            result = {"build": build(town, args.slots, args.requests)}
            p = start("dashboard", "--listen", "127.0.0.1:0", "--json", config=town.config)
            try:
                url = read_banner(p)["url"]
                result["api"] = api_times(url)
                with open_browser() as browser:
                    result["page"] = page_load(browser, url)
                    result["live"] = {"poll_s": args.poll_s, **live_updates(browser, town, url, args.updates)}
                result["dashboard_rss_mb"] = rss_mb(p.pid)
            finally:
                kill(p)
            town.close()
    finally:
        node.stop()
    result["machine"] = {"python": platform.python_version(), "cpus": __import__("os").cpu_count()}
    result["chain"] = "anvil (npm @foundry-rs/anvil), automine"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
