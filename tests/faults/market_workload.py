"""The load the market's faults fall on, each party its own `gridchain` process as in tests/pilot: charge-point
simulators running roaming sessions one after another on each charge point, and consumer EVs trading with the
provider (open an auction, end it once bidding closed, take the energy against signed receipts). Each command's
outcome is kept for the checks: which transaction a charge point's StartTransaction was accepted with, which
trades a consumer took energy in."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tests.faults.market_pilot import (
    CHARGE_POINTS,
    CONSUMERS,
    MAX_COST_WEI,
    SESSION_S,
    SPACING_S,
    MarketPilot,
)
from tests.support.processes import gridchain

CP_TIMEOUT_S = 300  # a charge point retries a central system away for up to 120 s per request
AMOUNT_WH, MAX_RATE_WEI_PER_KWH, BIDDING_S = 6_000, 300 * 10**12, 10
SESSION_TRIES, RETRY_PAUSE_S = 4, 3.0  # `auction session` again after the provider did not answer


@dataclass
class Charge:
    """One charge-point process: its session's slot, what it printed, how it ended."""

    cp: str
    ev: str
    start: int
    returncode: int
    steps: list[dict]
    error: str

    @property
    def accepted(self) -> int | None:
        """The transaction id of its StartTransaction, if the central system accepted one."""
        found = [s["transaction_id"] for s in self.steps if s.get("action") == "StartTransaction"]
        return found[0] if found else None

    @property
    def summary(self) -> dict | None:
        """The session's last line (its energy, signed readings), printed once StopTransaction was delivered."""
        return self.steps[-1] if self.steps and self.steps[-1].get("action") == "session" else None


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def charge(pilot: MarketPilot, cp: str, k: int) -> Charge:
    """Session k at charge point `cp` (its EV evN for CPN), from plug-in to StopTransaction."""
    ev, start = f"ev{cp[2:]}", pilot.tariff_from + k * SPACING_S
    args = ["--id", cp, "--ev", ev, "--max-cost-wei", MAX_COST_WEI, "--start", start, "--duration-s", SESSION_S]
    p = gridchain("ocpp", "charge-point", *args, "--json", config=pilot.config, timeout=CP_TIMEOUT_S)
    return Charge(cp, ev, start, p.returncode, _json_lines(p.stdout), p.stderr.strip()[-300:])


def charge_until(pilot: MarketPilot, end: float) -> list[Charge]:
    """Every charge point runs sessions one after another, paced so the free session slots last, until `end`
    (unix s); all of them."""
    first = pilot.session_starts()
    last = (pilot.chain_now() - pilot.tariff_from) // SPACING_S - 1  # the last session that ends before the chain's now
    # spread the sessions left over the window: on a quiet machine they would run out before it ends (sessions are
    # simulated, seconds each), and the central system's last kills would fall on an idle system
    pace_s = max(0.0, (end - time.time()) / max(1, last - first + 1))
    done: list[Charge] = []

    def one_charge_point(cp: str) -> None:
        k, due = first, time.time()
        while k <= last:
            time.sleep(max(0.0, due - time.time()))
            if time.time() >= end:
                break
            due = time.time() + pace_s
            done.append(charge(pilot, cp, k))
            k += 1

    _all(one_charge_point, CHARGE_POINTS)
    pilot.next_session = max([first - 1] + [(c.start - pilot.tariff_from) // SPACING_S for c in done]) + 1
    return done


def _all(fn: Callable[[str], None], items) -> None:
    with ThreadPoolExecutor(len(items)) as pool:
        for future in [pool.submit(fn, item) for item in items]:
            future.result()


@dataclass
class Trade:
    """One consumer's auction: its token (None: no winner), the `session` tries and how they ended."""

    consumer: str
    token: str | None = None
    sessions: list[str] = field(default_factory=list)  # "ok", or each failed try's error
    receipted_wh: int = 0  # acknowledged by the provider, as the consumer's finished `session` reported


def _run(pilot: MarketPilot, *args: object) -> tuple[dict | None, str]:
    p = gridchain(*args, "--json", config=pilot.config, timeout=120)
    return (json.loads(p.stdout) if p.returncode == 0 else None), p.stderr.strip()[-300:]


def trade(pilot: MarketPilot, consumer: str) -> Trade:
    """Open, end once bidding closed, take the energy; `session` tried again while the provider is away (a
    restarted provider refuses a second hello with the same token: the trade then stays partly receipted)."""
    t = Trade(consumer)
    auction = ["--amount-wh", AMOUNT_WH, "--max-rate-wei-per-kwh", MAX_RATE_WEI_PER_KWH, "--duration-s", BIDDING_S]
    opened, error = _run(pilot, "v2v", "auction", "open", "--ev", consumer, *auction)
    assert opened is not None, error
    ended, error = _run(pilot, "v2v", "auction", "end", "--ev", consumer, "--wait")
    assert ended is not None, error
    t.token = ended["token"]
    for _ in range(SESSION_TRIES if t.token else 0):
        done, error = _run(pilot, "v2v", "auction", "session", "--ev", consumer)
        t.sessions.append("ok" if done else error)
        if done:
            t.receipted_wh = done["receipted_wh"]
            break
        if "does not answer" not in error:  # refused: the restarted provider will not open it again
            break
        time.sleep(RETRY_PAUSE_S)
    return t


def trade_until(pilot: MarketPilot, client, end: float, workers: int = 3) -> list[Trade]:
    """`workers` consumers at a time trade until `end` (unix s), each consumer only while its last trade is
    closed on chain (one auction per consumer at a time); every trade made."""
    done: list[Trade] = []
    busy: set[str] = set()
    lock = threading.Lock()

    def free() -> str | None:
        with lock:
            for c in CONSUMERS:
                if c not in busy and client.auction(pilot.evs[c]).closing_time == 0:
                    busy.add(c)
                    return c
        return None

    def worker(_: str) -> None:
        while time.time() < end:
            consumer = free()
            if consumer is None:
                time.sleep(1)
                continue
            try:
                done.append(t := trade(pilot, consumer))
                if t.receipted_wh == AMOUNT_WH:  # the provider settles it at its next look
                    _wait_closed(client, pilot.evs[consumer], 20)
            finally:
                with lock:
                    busy.discard(consumer)

    _all(worker, [str(i) for i in range(workers)])
    return done


def _wait_closed(client, consumer: str, timeout_s: float) -> bool:
    """Wait a little for the provider to settle a trade just receipted in full."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if client.auction(consumer).closing_time == 0:
            return True
        time.sleep(1)
    return False
