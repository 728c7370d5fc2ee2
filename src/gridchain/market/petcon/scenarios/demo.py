"""`gridchain petcon demo`: one PETCON auction over loopback HTTP, attested on chain by the LAG committee.

A hotspot drawn as in the paper (`model.paper_market`, small); the LAG's auctioneer serves it on 127.0.0.1; each
PHEV runs in its own thread with a fresh pseudonym, joins with its pole's meter address and its two disclosed
bounds, and bids from its private parameters until the stop rule; the LAGs (N, default 3) each audit the
published document and sign; a relayer submits the signatures to the committee contract under the chosen rule;
then anyone's check (`audit.audit`) and the chain's digest are compared. The demo, which drew every PHEV,
measures what no party can: each round's welfare against the convex optimum, and the HTTP run against
`model.run_auction` on the same market.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from eth_utils import keccak

from gridchain.chain.gateway import Gateway
from gridchain.checks import check_int
from gridchain.committee.client import CommitteeClient, kind_of
from gridchain.committee.model import RULES
from gridchain.crypto.keys import address_of
from gridchain.errors import InputError
from gridchain.market.petcon import model
from gridchain.market.petcon.audit import audit
from gridchain.market.petcon.optimum import solve_optimum
from gridchain.market.petcon.parties.auctioneer import Auction, Opening
from gridchain.market.petcon.parties.lag import Lag, attest
from gridchain.market.petcon.parties.phev import Phev, take_part
from gridchain.market.petcon.result import KIND
from gridchain.market.petcon.service import auctioneer_app
from gridchain.net.server import LoopbackServer

DEMO_RULES = ("unanimous", "two-thirds")
FIRST_INTERVAL = 1_767_290_400 // 900  # 2026-01-01 18:00 UTC, the delivery window's first 15-minute interval
INTERVALS = 4
LOT = 1
AUCTION = 1


@dataclass(frozen=True)
class DemoConfig:
    """buyers, sellers: PHEVs charging and discharging; seed: the hotspot's draw; rule: the committee's; lags:
    its members."""

    buyers: int = 6
    sellers: int = 8
    seed: int = 0
    rule: str = "unanimous"
    lags: int = 3

    def __post_init__(self) -> None:
        check_int("buyers", self.buyers, 1, 100)
        check_int("sellers", self.sellers, 1, 100)
        check_int("seed", self.seed, 0, 2**32 - 1)
        check_int("lags", self.lags, 1, 32)
        if self.rule not in DEMO_RULES:
            raise InputError("rule", f"{self.rule!r} is not one of {', '.join(DEMO_RULES)}")

    @property
    def name(self) -> str:
        return f"petcon_demo_{self.buyers}b{self.sellers}s_s{self.seed}_{self.rule}"


def phevs_of(m: model.Market, seed: int) -> list[Phev]:
    """The hotspot's PHEVs, buyers first: each with a fresh key and a pole (a meter address), both seeded."""
    rng = np.random.default_rng([seed, 1])

    def key() -> bytes:
        return bytes(rng.integers(0, 256, 32, dtype=np.uint8))

    buyers = [
        Phev(
            "buyer", address_of(key()), (float(m.c_min_kwh[i]), float(m.c_max_kwh[i])), (m.tau, float(m.sto[i])), key()
        )
        for i in range(m.shape[0])
    ]
    sellers = [
        Phev("seller", address_of(key()), (float(m.d_max_kwh[j]), float(m.r_min_usd[j])), (m.l1, m.l2), key())
        for j in range(m.shape[1])
    ]
    return buyers + sellers


def opening_of(m: model.Market, auction: int = AUCTION) -> Opening:
    i, j = m.shape
    return Opening(LOT, auction, FIRST_INTERVAL, INTERVALS, i, j, m.l1, m.l2, m.eta, m.rho)


def run_over_http(opening: Opening, phevs: list[Phev]) -> tuple[Auction, float]:
    """The auction served on loopback, every PHEV in its own thread. Seats are numbered per role by arrival, so
    the threads start one by one, each once the previous has its seat (seat i is then the market's buyer or
    seller i, for the comparisons). Returns the auction and the seconds it took."""
    auction = Auction(opening)
    errors: list[BaseException] = []
    start = time.perf_counter()
    with LoopbackServer(auctioneer_app(auction)) as server:

        def party(p: Phev) -> None:
            try:
                take_part(p, server.url)
            except BaseException as e:  # noqa: BLE001 - reported to the caller below
                errors.append(e)

        for p in phevs:
            p.index = -1
        threads = [threading.Thread(target=party, args=(p,), daemon=True) for p in phevs]
        for p, t in zip(phevs, threads, strict=True):
            t.start()
            while p.index < 0 and t.is_alive():
                time.sleep(0.001)
        for t in threads:
            t.join(timeout=120)
    if errors:
        raise errors[0]
    return auction, time.perf_counter() - start


def commit(gateway: Gateway, config: DemoConfig, document: dict[str, Any]) -> dict[str, Any]:
    """Deploy the committee of `config.lags` LAGs under the rule, have each audit and sign, attest, read back."""
    owner, relayer = gateway.accounts[:2]
    lags = [Lag(keccak(text=f"gridchain petcon demo lag {i}")) for i in range(config.lags)]
    committee, deployed = CommitteeClient.deploy(gateway, owner, [lag.address for lag in lags], RULES[config.rule])
    attested = attest(committee, relayer, lags, document)
    onchain = "0x" + committee.attested(kind_of(KIND), document["round"]).hex()
    return attested | {
        "committee": committee.address,
        "threshold": committee.threshold(),
        "members": config.lags,
        "deploy_gas": deployed.gas_used,
        "attested_digest": onchain,
    }


def run(gateway: Gateway, config: DemoConfig, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The whole demo (module docstring); returns its summary, the published document included."""
    m = model.paper_market(np.random.default_rng(config.seed), config.buyers, config.sellers)
    phevs = phevs_of(m, config.seed)
    auction, seconds = run_over_http(opening_of(m), phevs)
    progress("auction")
    document = auction.document()
    chain = commit(gateway, config, document)
    progress("committee")
    # Settlement goes here: the escrow contract (petcon_escrow.vy, built apart) pays each entry of `document`
    # against the energy its pole's meter recorded in the delivery window. Not part of this demo yet.
    violations = audit(document)
    reference = model.run_auction(m, damping=model.DAMPING)
    best = solve_optimum(m)
    welfare = [model.welfare(m, c) for c in auction.allocations]
    entries = document["entries"]
    return {
        "config": asdict(config),
        "chain": gateway.kind,
        "rounds": auction.k,
        "outcome": auction.outcome,
        "seconds_http": round(seconds, 3),
        "welfare_usd": welfare,
        "welfare_opt_usd": best.welfare_usd,
        "gap_final": (best.welfare_usd - welfare[-1]) / abs(best.welfare_usd),
        "matches_model": _matches(auction, reference),
        "payments_micro": [e["amount_micro"] for e in entries if e["role"] == 0],
        "rewards_micro": [e["amount_micro"] for e in entries if e["role"] == 1],
        "violations": violations,
        "verified": not violations and chain["attested_digest"] == document["digest"],
        "onchain": chain,
        "settlement": "not run: the escrow (petcon_escrow.vy) is built apart",
        "document": document,
    }


def _matches(auction: Auction, reference: model.AuctionRun) -> bool:
    """Whether the HTTP run is the model's: same rounds and outcome, final allocation within 1e-9."""
    if auction.k != reference.rounds or auction.outcome != reference.outcome:
        return False
    return bool(np.allclose(auction.solution.c_kwh, reference.final.c_kwh, rtol=1e-9, atol=0))
