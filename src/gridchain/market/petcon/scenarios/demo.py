"""`gridchain petcon demo`: one PETCON auction over loopback HTTP, attested on chain by the LAG committee and
settled through PETCON's escrow.

A hotspot drawn as in the paper (`model.paper_market`, small); the LAG's auctioneer serves it on 127.0.0.1; each
PHEV runs in its own thread with a fresh pseudonym, joins with its pole's meter address and its two disclosed
bounds, and bids from its private parameters until the stop rule; the LAGs (N, default 3) each audit the
published document and sign; a relayer submits the signatures to the committee contract under the chosen rule;
then anyone's check (`audit.audit`) and the chain's digest are compared. Around it the result is settled in
energy coins (`settlement`: the hotspot deployed and the round opened before the auction, the buyers' escrows
after it, the poles' readings, settlement and withdrawals after the attestation). The demo, which drew every
PHEV, measures what no party can: each round's welfare against the convex optimum, and the HTTP run against
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
from gridchain.market.petcon.audit import audit, parse_document
from gridchain.market.petcon.optimum import solve_optimum
from gridchain.market.petcon.parties.auctioneer import Auction, Opening
from gridchain.market.petcon.parties.lag import Lag, attest
from gridchain.market.petcon.parties.phev import Phev, take_part
from gridchain.market.petcon.result import KIND
from gridchain.market.petcon.scenarios import settlement
from gridchain.market.petcon.service import auctioneer_app
from gridchain.net.server import LoopbackServer

DEMO_RULES = ("unanimous", "two-thirds")
FIRST_INTERVAL = 1_767_290_400 // 900  # 2026-01-01 18:00 UTC: a window for tests (the demo's is the chain's tomorrow)
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


def keys_of(seed: int, count: int) -> list[tuple[bytes, bytes]]:
    """(pole's meter key, PHEV's pseudonym key) of `count` PHEVs, buyers first, seeded."""
    rng = np.random.default_rng([seed, 1])

    def key() -> bytes:
        return bytes(rng.integers(0, 256, 32, dtype=np.uint8))

    return [(key(), key()) for _ in range(count)]


def phevs_of(m: model.Market, seed: int) -> list[Phev]:
    """The hotspot's PHEVs, buyers first: each with a fresh key and a pole (a meter address), both seeded."""
    i, j = m.shape
    keys = keys_of(seed, i + j)
    buyers = [
        Phev("buyer", address_of(pole), (float(m.c_min_kwh[k]), float(m.c_max_kwh[k])), (m.tau, float(m.sto[k])), key)
        for k, (pole, key) in enumerate(keys[:i])
    ]
    sellers = [
        Phev("seller", address_of(pole), (float(m.d_max_kwh[k]), float(m.r_min_usd[k])), (m.l1, m.l2), key)
        for k, (pole, key) in enumerate(keys[i:])
    ]
    return buyers + sellers


def opening_of(m: model.Market, auction: int = AUCTION, first_interval: int = FIRST_INTERVAL) -> Opening:
    i, j = m.shape
    return Opening(LOT, auction, first_interval, INTERVALS, i, j, m.l1, m.l2, m.eta, m.rho)


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


def lags_of(config: DemoConfig) -> list[Lag]:
    return [Lag(keccak(text=f"gridchain petcon demo lag {i}")) for i in range(config.lags)]


def deploy_committee(gateway: Gateway, config: DemoConfig, lags: list[Lag]) -> tuple[CommitteeClient, int]:
    """The committee of the LAGs under the rule; its deployment's gas."""
    committee, deployed = CommitteeClient.deploy(
        gateway, gateway.accounts[0], [lag.address for lag in lags], RULES[config.rule]
    )
    return committee, deployed.gas_used


def commit(gateway: Gateway, committee: CommitteeClient, lags: list[Lag], document: dict[str, Any]) -> dict[str, Any]:
    """Each LAG audits and signs, the relayer attests, the digest is read back."""
    attested = attest(committee, gateway.accounts[1], lags, document)
    onchain = "0x" + committee.attested(kind_of(KIND), document["round"]).hex()
    return attested | {
        "committee": committee.address,
        "threshold": committee.threshold(),
        "members": len(lags),
        "attested_digest": onchain,
    }


def settle(gateway: Gateway, hotspot: settlement.Hotspot, document: dict[str, Any], escrowed: int, seed: int) -> dict:
    """The attested result paid on the poles' readings (`settlement.settle_all`): per PHEV and totals."""
    result = parse_document(document)[2]
    recorded, short = settlement.deliveries(result.entries, result.intervals, seed)
    run = settlement.settle_all(hotspot, result, recorded)
    rows = settlement.rows_of(result.entries, recorded, run)
    return {
        "phevs": rows,
        "totals": settlement.totals_of(rows, escrowed, run),
        "recorded_wh": recorded,
        "fell_short": short,
        "penalty_bps": settlement.PENALTY_BPS,
        "contracts": {
            "coin": hotspot.coin.address,
            "metering": hotspot.metering.address,
            "escrow": hotspot.escrow.address,
        },
        "gas": hotspot.gas,
    }


def run(gateway: Gateway, config: DemoConfig, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """The whole demo (module docstring); returns its summary, the published document included."""
    m = model.paper_market(np.random.default_rng(config.seed), config.buyers, config.sellers)
    phevs = phevs_of(m, config.seed)
    lags = lags_of(config)
    committee, deploy_gas = deploy_committee(gateway, config, lags)
    pole_keys = [pole for pole, _ in keys_of(config.seed, len(phevs))]
    hotspot = settlement.open_hotspot(
        gateway, committee.address, lags[0].key, pole_keys, [p.key for p in phevs], AUCTION
    )
    progress("hotspot")
    first = settlement.window_start(gateway.now())
    auction, seconds = run_over_http(opening_of(m, first_interval=first), phevs)
    progress("auction")
    document = auction.document()
    escrowed = settlement.escrow_buyers(hotspot, parse_document(document)[2].entries)
    chain = commit(gateway, committee, lags, document) | {"deploy_gas": deploy_gas}
    progress("committee")
    paid = "not run: the result is not attested"
    if chain["attested_digest"] == document["digest"]:
        paid = settle(gateway, hotspot, document, escrowed, config.seed)
        progress("settlement")
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
        "settlement": paid,
        "document": document,
    }


def _matches(auction: Auction, reference: model.AuctionRun) -> bool:
    """Whether the HTTP run is the model's: same rounds and outcome, final allocation within 1e-9."""
    if auction.k != reference.rounds or auction.outcome != reference.outcome:
        return False
    return bool(np.allclose(auction.solution.c_kwh, reference.final.c_kwh, rtol=1e-9, atol=0))
