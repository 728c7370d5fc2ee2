"""PETCON's escrow deployed with its real neighbours (the energy coin, the metering contract, the LAG committee) on
the embedded chain, mirrored against its twin (tests/support/mirrored.py): every escrow call goes to the twin
first, then to the contract, and both must agree (state, coins, events; the revert reason on a refusal).

The twin's two oracles are the harness's own books, not the chain: `attested` what the committee holds for the
round, and `proven` whether a reading is one of the signed readings the harness anchored (meter, interval, energy,
signature and proof all as anchored), so the differential test checks the contract's use of `verify_reading`.
"""

from __future__ import annotations

import copy
from dataclasses import asdict

import boa
from eth_account import Account
from eth_utils import keccak

from gridchain.committee.model import Attestation
from gridchain.committee.model import domain as committee_domain
from gridchain.crypto import eip712
from gridchain.crypto.keys import sign_digest
from gridchain.market.petcon.escrow.client import signed_reading
from gridchain.market.petcon.escrow.model import EscrowError, EscrowModel, Reading, RoundBooks
from gridchain.market.petcon.result import KIND, Entry, Result
from gridchain.metering import model as mm
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import Mirrored
from tests.support.mirrored import refused as _refused

LOT = 5
DAY_S = 86_400
SETTLE_S = 3 * DAY_S
PENALTY_BPS = 2_000
UNANIMOUS, TWO_THIRDS = 1, 2
KIND_ID = keccak(text=KIND)
RECORD = keccak(text="the auction's record")
FUNDS = 10**15  # [micro-coins] what a party is minted


def refused(reason: str):
    return _refused(f"petcon_escrow: {reason}", EscrowError)


class Hotspot(Mirrored):
    """The escrow, its twin and neighbours, `poles` registered charging-pole meters with one gateway, a committee
    of `members` keys under `rule`, and a clock starting at a day boundary (`self.day`)."""

    ERROR = EscrowError
    EVENTS = ("RoundOpened", "Escrowed", "Funded", "EntrySettled", "Withdrawn", "HouseWithdrawn")

    def __init__(self, poles: int = 4, members: int = 3, rule: int = TWO_THIRDS, penalty_bps: int = PENALTY_BPS):
        self.day = boa.env.evm.patch.timestamp // DAY_S + 1
        boa.env.time_travel(seconds=self.day * DAY_S - boa.env.evm.patch.timestamp)
        self.init_accounts()
        self.owner = str(boa.env.eoa)
        self.coin = load(CONTRACTS / "energy_coin.vy").deploy("test coin", "TC")
        self.metering = load(CONTRACTS / "metering.vy").deploy(0)
        self.members = sorted((Account.create() for _ in range(members)), key=lambda a: int(a.address, 16))
        self.committee = load(CONTRACTS / "lag_committee.vy").deploy([a.address for a in self.members], rule, 0)
        self.house = self.new_account().address
        self.c = load(CONTRACTS / "petcon_escrow.vy").deploy(
            self.coin.address, self.metering.address, self.committee.address, LOT, self.house, penalty_bps, SETTLE_S
        )
        self.model = EscrowModel(LOT, self.house, penalty_bps, SETTLE_S)
        self.events = {}
        self.gateway = self.new_account().address
        self.metering.set_gateway(self.gateway, True)
        self.poles = [Account.create() for _ in range(poles)]
        for i, pole in enumerate(self.poles):
            self.metering.register_meter(pole.address, self.owner, 1, i)
            self.metering.assign_gateway(pole.address, self.gateway)
        self.meter_domain = mm.domain(self.metering.eip712Domain()[3], str(self.metering.address))
        self.genuine: dict[tuple[str, int], Reading] = {}  # (pole, interval) -> its anchored reading
        self.donated = 0  # coins sent to the contract by plain transfer (outside total_held)
        self.seen: set[tuple[int, str]] = set()  # (round, party) pairs to compare
        self.rounds: set[int] = set()
        self.pole_intervals: set[tuple[str, int]] = set()

    def fork(self) -> Hotspot:
        """A copy whose books are its own, for one example of a Hypothesis test run inside `boa.env.anchor()` on
        one deployment (deploying per example costs boa a source map per contract and revert)."""
        other = copy.copy(self)
        for name in ("model", "genuine", "seen", "rounds", "pole_intervals", "accounts", "initial", "sent", "events"):
            setattr(other, name, copy.deepcopy(getattr(self, name)))
        return other

    # -- coins -----------------------------------------------------------------------------------------------
    def give(self, party: str, amount: int = FUNDS) -> None:
        """Mint `amount` to `party`, which approves the escrow for all it will ever move."""
        self.coin.mint(party, amount)
        self.coin.approve(self.c.address, 2**256 - 1, sender=party)

    # -- readings and results --------------------------------------------------------------------------------
    def anchor_day(self, pole: int, period: int, energy_wh: dict[int, int], only: range = range(96)) -> None:
        """Sign `pole`'s readings of day `period` (of its intervals `only`: all 96 by default; energy_wh by
        interval of the day, others 0 Wh) and anchor their root through the gateway (the day must be over)."""
        key = self.poles[pole]
        readings = [
            mm.Reading(key.address, period * DAY_S + i * mm.INTERVAL_S, energy_wh.get(i, 0), 10 + i) for i in only
        ]
        leaves = [eip712.digest(self.meter_domain, r) for r in readings]
        root = mm.merkle_root(leaves)
        self.metering.anchor_root(key.address, period, root, len(leaves), sender=self.gateway)
        for i, (r, leaf) in enumerate(zip(readings, leaves, strict=True)):
            interval = r.interval_start // mm.INTERVAL_S
            self.genuine[(key.address.lower(), interval)] = signed_reading(
                r.active_wh, r.reactive_varh, sign_digest(key.key, leaf), mm.merkle_proof(leaves, i)
            )

    def readings(self, result: Result, indices) -> list[Reading]:
        """The anchored readings of the entries `indices` over the result's window, in `settle`'s order."""
        out = []
        for i in indices:
            pole = result.entries[i].pole.lower()
            out += [self.genuine[(pole, result.first_interval + t)] for t in range(result.intervals)]
        return out

    def proven(self, pole: str, interval_start: int, reading: Reading) -> bool:
        return self.genuine.get((pole.lower(), interval_start // mm.INTERVAL_S)) == reading

    def attest(self, result: Result, signers=None) -> bytes:
        """The committee attests the result's digest for its round, signed by `signers` (default: all)."""
        digest = result.digest()
        d = committee_domain(self.committee.eip712Domain()[3], str(self.committee.address))
        h = eip712.digest(d, Attestation(KIND_ID, result.round, digest, self.committee.epoch()))
        keys = sorted(signers if signers is not None else self.members, key=lambda a: int(a.address, 16))
        self.committee.attest(KIND_ID, result.round, digest, [sign_digest(k.key, h) for k in keys])
        return digest

    def result(self, round: int, entries, first_interval: int | None = None, intervals: int = 8, lot: int = LOT):
        first = self.day * 96 + 40 if first_interval is None else first_interval
        return Result(lot, round, first, intervals, RECORD, tuple(entries))

    def entry(self, party: str, pole: int, role: int, energy_wh: int, amount_micro: int) -> Entry:
        return Entry(party, self.poles[pole].address, role, energy_wh, amount_micro)

    # -- the escrow's calls, mirrored ------------------------------------------------------------------------
    def open_round(self, round: int, sender: str | None = None) -> None:
        """The house (or `sender`) opens `round`; the event states its close."""
        sender = sender or self.house
        self.rounds.add(round)
        self.apply(sender, lambda: self.model.open_round(sender, self.now, round), lambda: self.c.open_round(round))
        assert self.events["RoundOpened"] == [{"round": round, "closes_at": self.now + self.model.settle_s}]

    def opened(self, round: int) -> None:
        """Open `round` unless it is open already (tests that are about something else)."""
        if self.model.opened_at.get(round, 0) == 0:
            self.open_round(round)

    def escrow(self, party: str, round: int, amount: int) -> None:
        self.seen.add((round, party.lower()))
        self.rounds.add(round)
        self.apply(
            party, lambda: self.model.escrow(party, self.now, round, amount), lambda: self.c.escrow(round, amount)
        )

    def fund(self, sender: str, amount: int) -> None:
        self.apply(sender, lambda: self.model.fund(sender, amount), lambda: self.c.fund(amount))

    def settle(self, result: Result, indices, readings=None, sender: str | None = None) -> list:
        sender = sender or self.owner
        readings = self.readings(result, indices) if readings is None else readings
        self.rounds.add(result.round)
        for e in result.entries:
            self.seen.add((result.round, e.pseudonym.lower()))
            self.pole_intervals.update((e.pole.lower(), result.first_interval + t) for t in range(result.intervals))
        attested = bytes(self.committee.attested(KIND_ID, result.round))
        args = (
            result.lot,
            result.round,
            result.first_interval,
            result.intervals,
            result.record_hash,
            [e.as_tuple() for e in result.entries],
            list(indices),
            [r.as_tuple() for r in readings],
        )
        out = self.apply(
            sender,
            lambda: self.model.settle(self.now, result, indices, readings, attested, self.proven),
            lambda: self.c.settle(*args),
        )
        assert self.events["EntrySettled"] == [asdict(s) for s in out]
        return out

    def withdraw(self, party: str, round: int) -> int:
        before = self.coin.balanceOf(party)
        paid = self.apply(party, lambda: self.model.withdraw(party, self.now, round), lambda: self.c.withdraw(round))
        assert self.coin.balanceOf(party) == before + paid
        return paid

    def withdraw_house(self, sender: str, amount: int) -> None:
        self.apply(sender, lambda: self.model.withdraw_house(sender, amount), lambda: self.c.withdraw_house(amount))

    def apply(self, sender, model_call, chain_call):
        result, out = self.mirror(sender, model_call, chain_call)
        if isinstance(result, int) and not isinstance(result, bool):
            assert out == result
        self.check()
        return result

    # -- comparing -------------------------------------------------------------------------------------------
    def check(self) -> None:
        """Contract and twin agree, the coins are all there (balance == total_held + donations == escrows +
        house) and every round's books balance."""
        md = self.model
        assert self.coin.balanceOf(self.c.address) == md.balance + self.donated
        assert self.c.total_held() == md.total_held == md.held() == md.balance
        assert self.c.house() == md.house
        for rnd, party in self.seen:
            assert self.c.escrowed(rnd, party) == md.escrow_of(rnd, party), (rnd, party)
            assert self.c.settled_party(rnd, party) == ((rnd, party) in md.settled_party)
        for rnd in self.rounds:
            assert self.c.opened_at(rnd) == md.opened_at.get(rnd, 0)
            assert self.c.entries_settled(rnd) == md.entries_settled.get(rnd, 0)
            b = md.books.get(rnd, RoundBooks())
            still = sum(v for (r, _), v in md.escrowed.items() if r == rnd)
            assert b.escrowed + b.credited == b.paid + b.refunded + still, rnd
        words: dict[tuple[str, int], int] = {}
        for pole, interval in self.pole_intervals:
            bit = int(md.is_pole_settled(pole, interval)) << (interval % 256)
            words[(pole, interval // 256)] = words.get((pole, interval // 256), 0) | bit
        for (pole, w), word in words.items():
            assert self.c.pole_settled(pole, w) == word, (pole, w)
