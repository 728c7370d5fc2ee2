"""The LAG's auctioneer: one PETCON auction from the PHEVs' joins to the committed result.

The LAG opens an auction (`Opening`: lot, the auction's round id, delivery window, seats, the hotspot's public
constants). PHEVs join with a fresh pseudonym, their pole's meter address, a role and only what the round
problem needs (buyer: c_min, c_max [kWh stored]; seller: D_max [kWh], r_min [$]); anything else is refused, so
tau and STO never reach the auctioneer. Once every seat is taken, round 1 is solved from the protocol's initial
bids (`model.initial_bids`); each PHEV then reads its row (buyer) or column (seller) of the allocation and posts
its next bids, damped by itself (`model.DAMPING`). When all bids are in, the auctioneer applies the model's
stop rule on the undamped change (posted - old) / damping, and either ends the auction or solves the next
round (`model.solve_round`, warm from the last two). The run is `model.run_auction`'s, bid for bid.

Refusals: InputError (a malformed field: its name and value) or Refused (unknown pseudonym, duplicate join, a
full role, wrong auction or round, a row that is not the sender's, bids posted twice, a closed phase). Both
change nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridchain.checks import check_min_int, parse_address, show
from gridchain.errors import InputError, Refused
from gridchain.market.petcon import model
from gridchain.market.petcon.audit import document_of
from gridchain.market.petcon.parties.wire import signer_of
from gridchain.market.petcon.result import record_of, result_of

ROLES = ("buyer", "seller")
DISCLOSED = {"buyer": ("c_min_kwh", "c_max_kwh"), "seller": ("d_max_kwh", "r_min_usd")}
ENVELOPE = ("auction", "pseudonym", "signature")


@dataclass(frozen=True)
class Opening:
    """What the LAG fixes when it opens an auction: its id (`round`, the committee's round), the lot, the
    delivery window (first 15-minute interval, count), the seats, and the hotspot's public constants."""

    lot: int
    round: int
    first_interval: int
    intervals: int
    buyers: int
    sellers: int
    l1: float = 0.01
    l2: float = 0.015
    eta: float = 0.8
    rho: float = 0.9
    damping: float = model.DAMPING
    epsilon: float = model.EPSILON
    max_rounds: int = model.MAX_ROUNDS

    def public(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class Seat:
    pseudonym: str
    pole: str
    role: str
    index: int
    bounds: tuple[float, float]  # buyer: (c_min, c_max); seller: (D_max, r_min)


def _number(name: str, value: object, *, positive: bool = False) -> float:
    """A finite number >= 0 (> 0 if `positive`), else InputError naming the field and the value."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(name, f"{show(value)} is not a finite number")
    if value < 0 or (positive and value == 0):
        raise InputError(name, f"{show(value)} is not {'> 0' if positive else '>= 0'}")
    return float(value)


@dataclass
class Auction:
    """One auction's state (module docstring). Methods take a signed request body and return the answer."""

    opening: Opening
    seats: dict[str, Seat] = field(default_factory=dict)
    state: str = "joining"  # then "bidding", then "done"
    k: int = 0  # the round solved last (1-based)
    outcome: str = ""
    allocations: list[np.ndarray] = field(default_factory=list)  # every round's c [kWh]

    def __post_init__(self) -> None:
        self._posted: dict[str, np.ndarray] = {}
        self._warm: tuple = ()
        self._previous: tuple[np.ndarray, np.ndarray] | None = None
        self._repeats = 0

    # -- joining -------------------------------------------------------------------------------------------
    def _seats(self, role: str) -> list[Seat]:
        return sorted((s for s in self.seats.values() if s.role == role), key=lambda s: s.index)

    def _check_envelope(self, body: dict[str, Any]) -> str:
        auction = check_min_int("auction", body.get("auction"), 0)
        pseudonym = signer_of(body)
        if auction != self.opening.round:
            raise Refused(f"{auction} is not this auction ({self.opening.round})", "auction")
        return pseudonym

    def join(self, body: dict[str, Any]) -> dict[str, Any]:
        """A PHEV takes a seat: {"auction", "pseudonym", "pole", "role", its two bounds, "signature"}."""
        pseudonym = self._check_envelope(body)
        role = body.get("role")
        if role not in ROLES:
            raise InputError("role", f"{show(role)} is not buyer or seller")
        extra = sorted(set(body) - set(ENVELOPE) - {"pole", "role", *DISCLOSED[role]})
        if extra:
            raise InputError(extra[0], f"not asked of a {role} (the auctioneer needs only {DISCLOSED[role]})")
        pole = parse_address("pole", body.get("pole"))
        low, high = (_number(name, body.get(name)) for name in DISCLOSED[role])
        if role == "buyer" and not (high > 0 and low <= high):
            raise InputError("c_max_kwh", f"{show(body['c_max_kwh'])} is not > 0 and >= c_min_kwh")
        if role == "seller" and low == 0:
            raise InputError("d_max_kwh", "0 is not > 0")
        if pseudonym in self.seats:
            raise Refused(f"{pseudonym} has joined already (a fresh pseudonym per PHEV)", "pseudonym")
        if self.state != "joining":
            raise Refused("the auction is not taking joins", "auction")
        taken = self._seats(role)
        if len(taken) == getattr(self.opening, f"{role}s"):
            raise Refused(f"all {len(taken)} {role} seats are taken", "role")
        seat = Seat(pseudonym, pole, role, len(taken), (low, high))
        self.seats[pseudonym] = seat
        if len(self.seats) == self.opening.buyers + self.opening.sellers:
            self._start()
        return {"index": seat.index, "opening": self.opening.public()}

    def market(self) -> model.Market:
        """The hotspot as the auctioneer knows it: the disclosed bounds; tau and STO unknown (NaN)."""
        buyers, sellers, o = self._seats("buyer"), self._seats("seller"), self.opening
        return model.Market(
            c_min_kwh=np.array([s.bounds[0] for s in buyers]),
            c_max_kwh=np.array([s.bounds[1] for s in buyers]),
            sto=np.full(len(buyers), np.nan),
            d_max_kwh=np.array([s.bounds[0] for s in sellers]),
            r_min_usd=np.array([s.bounds[1] for s in sellers]),
            tau=math.nan,
            l1=o.l1,
            l2=o.l2,
            eta=o.eta,
            rho=o.rho,
        )

    def _start(self) -> None:
        self._m = self.market()
        if not model.feasible(self._m):
            self.state, self.outcome = "done", "infeasible"
            return
        self.state = "bidding"
        self.b, self.s = model.initial_bids(self._m)
        self._solve()

    def _solve(self) -> None:
        self.solution = model.solve_round(self._m, self.b, self.s, self._warm)
        self._warm = (self.solution, *self._warm[:1])
        self.k += 1
        self.allocations.append(self.solution.c_kwh)
        self._posted = {}

    # -- rounds --------------------------------------------------------------------------------------------
    def _seat_of(self, body: dict[str, Any]) -> Seat:
        pseudonym = self._check_envelope(body)
        if pseudonym not in self.seats:
            raise Refused(f"{pseudonym} has not joined this auction", "pseudonym")
        return self.seats[pseudonym]

    def allocation(self, body: dict[str, Any]) -> dict[str, Any]:
        """The sender's row (buyer) or column (seller) of round k's allocation and the bids it was solved for:
        {"auction", "pseudonym", "k", "signature"}. "waiting" before round k is solved, "done" once it ended."""
        seat = self._seat_of(body)
        k = check_min_int("k", body.get("k"), 1)
        if self.state == "done" and k > self.k or self.outcome == "infeasible":
            return {"state": "done", "k": self.k, "outcome": self.outcome}
        if k > self.k:
            return {"state": "waiting", "k": self.k}
        if k < self.k:
            raise Refused(f"{k} is not the current round {self.k}", "k")
        c, b, s = self.solution.c_kwh, self.b, self.s
        rows = (c[seat.index], b[seat.index]) if seat.role == "buyer" else (c[:, seat.index], s[:, seat.index])
        return {"state": "ready", "k": k, "c_kwh": rows[0].tolist(), "bids": rows[1].tolist()}

    def _check_bids(self, seat: Seat, body: dict[str, Any]) -> np.ndarray:
        if self.state != "bidding":
            raise Refused(f"the auction is {self.state}, not taking bids", "k")
        k = check_min_int("k", body.get("k"), 1)
        if k != self.k:
            raise Refused(f"{k} is not the current round {self.k}", "k")
        row = check_min_int("row", body.get("row"), 0)
        if row != seat.index:
            raise Refused(f"{row} is not the sender's {seat.role} row ({seat.index})", "row")
        if seat.pseudonym in self._posted:
            raise Refused(f"already posted for round {k}", "bids")
        bids, width = body.get("bids"), self._m.shape[1 if seat.role == "buyer" else 0]
        if not isinstance(bids, list) or len(bids) != width:
            raise InputError("bids", f"expected a list of {width} numbers, got {show(bids)[:60]}")
        return np.array([_number(f"bids[{x}]", v, positive=True) for x, v in enumerate(bids)])

    def bid(self, body: dict[str, Any]) -> dict[str, Any]:
        """A PHEV's bids for the next round, from round k's allocation: {"auction", "pseudonym", "k", "row",
        "bids", "signature"}; the last of a round's bids closes it (the stop rule, or the next round)."""
        seat = self._seat_of(body)
        self._posted[seat.pseudonym] = self._check_bids(seat, body)
        if len(self._posted) == len(self.seats):
            self._close_round()
        return {"accepted": True, "k": self.k, "state": self.state}

    def _close_round(self) -> None:
        """model.run_auction's step: stop on the undamped relative change, a period-2 cycle or the cut-off;
        else take the posted (damped) bids and solve the next round."""
        o = self.opening
        b_next = np.vstack([self._posted[s.pseudonym] for s in self._seats("buyer")])
        s_next = np.column_stack([self._posted[s.pseudonym] for s in self._seats("seller")])
        b_new, s_new = self.b + (b_next - self.b) / o.damping, self.s + (s_next - self.s) / o.damping
        if max(_change(b_new, self.b), _change(s_new, self.s)) < o.epsilon:
            return self._finish("converged")
        previous = self._previous
        if previous is not None and max(_change(b_new, previous[0]), _change(s_new, previous[1])) < o.epsilon:
            self._repeats += 1
            if self._repeats >= model.CYCLE_ROUNDS:
                return self._finish("cycle-2")
        else:
            self._repeats = 0
        if self.k >= o.max_rounds:
            return self._finish("max-rounds")
        self._previous = (self.b, self.s)
        self.b, self.s = b_next, s_next
        self._solve()
        return None

    def _finish(self, outcome: str) -> None:
        self.state, self.outcome = "done", outcome

    # -- the result ----------------------------------------------------------------------------------------
    def record(self) -> dict[str, Any]:
        """The final round's record (`result.record_of`'s shape)."""
        if self.state != "done" or self.outcome == "infeasible":
            raise Refused(f"the auction is {self.state or 'open'} ({self.outcome or 'no result'})", "auction")
        run = model.AuctionRun(
            welfare_usd=[math.nan] * self.k,  # unknown to the auctioneer: tau and STO are private
            b_usd=self.b,
            s_usd_per_kwh=self.s,
            final=self.solution,
            outcome=self.outcome,
        )
        return record_of(self._m, run)

    def document(self) -> dict[str, Any]:
        """The published document: record, entries, digest (`audit.document_of`)."""
        o, record = self.opening, self.record()
        buyers = [(s.pseudonym, s.pole) for s in self._seats("buyer")]
        sellers = [(s.pseudonym, s.pole) for s in self._seats("seller")]
        result = result_of(record, o.lot, o.round, o.first_interval, o.intervals, buyers, sellers)
        return document_of(result, record, buyers, sellers)


def _change(new: np.ndarray, old: np.ndarray) -> float:
    return float(np.max(np.abs(new - old) / old))
