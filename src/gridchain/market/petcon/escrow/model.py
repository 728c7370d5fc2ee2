"""The escrow contract's twin (contracts/petcon_escrow.vy): the same rules, integers and revert reasons.

Pure: the two things the contract asks other contracts are passed in by the caller: the committee's attested
digest of the round (`attested`) and whether a reading is proven for a pole and interval (`proven`, what
`metering.verify_reading` answers). Coins are the contract's coin balance as the twin books it; a transfer the
coin refuses is the coin's business (its own twin), not modelled here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from gridchain.errors import ContractRevert
from gridchain.market.petcon.result import BUYER, INTERVAL_S, Entry, Result

BPS = 10_000
MAX_ENTRIES = 128
MAX_INTERVALS = 16
MAX_READINGS = 128
MAX_PROOF = 8
MIN_SETTLE_S = 86_400  # [s] exclusive
MAX_SETTLE_S = 30 * 86_400  # [s]
ZERO = "0x" + "00" * 20
PREFIX = "petcon_escrow: "


class EscrowError(ContractRevert):
    """A call the contract would revert, with the contract's reason."""


def _fail(ok: bool, reason: str) -> None:
    if not ok:
        raise EscrowError(PREFIX + reason)


@dataclass(frozen=True)
class Reading:
    """One pole's signed 15-minute reading as `settle` takes it: its energy [Wh], reactive energy [varh], the
    meter's EIP-2098 signature (r, vs) and the Merkle proof to the day's anchored root."""

    active_wh: int
    reactive_varh: int
    r: int
    vs: int
    proof: tuple[bytes, ...] = ()

    def as_tuple(self) -> tuple:
        return (self.active_wh, self.reactive_varh, self.r, self.vs, list(self.proof))


@dataclass(frozen=True)
class Settlement:
    """What settling one entry did (the contract's `EntrySettled` event) [Wh, micro-coins]."""

    round: int
    pseudonym: str
    role: int
    pole: str
    energy_wh: int
    recorded_wh: int
    debited: int
    credited: int
    shortfall: int


def _ceil_div(x: int, y: int) -> int:
    return -(-x // y)


def money(entry: Entry, recorded_wh: int, penalty_bps: int) -> tuple[int, int]:
    """(due, credit) of an entry whose pole recorded `recorded_wh` over the window [micro-coins]: a buyer owes
    ceil(A taken / E) plus the penalty on what it did not take; a seller earns floor(A taken / E) less that
    penalty (a negative net is owed); E == 0 counts as fully delivered."""
    a, e = entry.amount_micro, entry.energy_wh
    gain, penalty = a, 0
    if e != 0:
        taken = min(recorded_wh, e)
        gain = _ceil_div(a * taken, e) if entry.role == BUYER else a * taken // e
        penalty = _ceil_div(penalty_bps * a * (e - taken), e * BPS)
    if entry.role == BUYER:
        return gain + penalty, 0
    if gain >= penalty:
        return 0, gain - penalty
    return penalty - gain, 0


@dataclass
class RoundBooks:
    """A round's coins in and out [micro-coins]: escrowed + credited == paid + refunded + still escrowed."""

    escrowed: int = 0
    credited: int = 0  # from the house to parties' escrows
    paid: int = 0  # from parties' escrows to the house
    refunded: int = 0  # withdrawn


@dataclass
class EscrowModel:
    """One hotspot's escrow (contract's header: rules)."""

    lot: int
    house_account: str
    penalty_bps: int
    settle_s: int
    opened_at: dict[int, int] = field(default_factory=dict)
    escrowed: dict[tuple[int, str], int] = field(default_factory=dict)
    house: int = 0
    total_held: int = 0
    balance: int = 0  # the contract's coins, as booked here
    entries_settled: dict[int, int] = field(default_factory=dict)
    settled_party: set[tuple[int, str]] = field(default_factory=set)
    pole_settled: set[tuple[str, int]] = field(default_factory=set)
    books: dict[int, RoundBooks] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _fail(self.house_account.lower() != ZERO, "zero house")
        _fail(self.penalty_bps <= BPS, "penalty out of range")
        _fail(MIN_SETTLE_S < self.settle_s <= MAX_SETTLE_S, "settle window out of range")
        self.house_account = self.house_account.lower()

    # -- views -----------------------------------------------------------------------------------------------
    def escrow_of(self, round: int, party: str) -> int:
        return self.escrowed.get((round, party.lower()), 0)

    def is_open(self, round: int, now: int) -> bool:
        opened = self.opened_at.get(round, 0)
        return opened != 0 and now < opened + self.settle_s

    def is_pole_settled(self, pole: str, interval: int) -> bool:
        return (pole.lower(), interval) in self.pole_settled

    def round_books(self, round: int) -> RoundBooks:
        return self.books.setdefault(round, RoundBooks())

    # -- coins in --------------------------------------------------------------------------------------------
    def open_round(self, sender: str, now: int, round: int) -> None:
        _fail(sender.lower() == self.house_account, "caller is not the house")
        _fail(self.opened_at.get(round, 0) == 0, "round opened")
        self.opened_at[round] = now

    def escrow(self, sender: str, now: int, round: int, amount: int) -> None:
        _fail(amount > 0, "zero amount")
        opened = self.opened_at.get(round, 0)
        _fail(opened != 0, "round not open")
        _fail(now < opened + self.settle_s, "round closed")
        key = (round, sender.lower())
        self.escrowed[key] = self.escrowed.get(key, 0) + amount
        self.total_held += amount
        self.balance += amount
        self.round_books(round).escrowed += amount

    def fund(self, sender: str, amount: int) -> None:
        _fail(amount > 0, "zero amount")
        self.house += amount
        self.total_held += amount
        self.balance += amount

    # -- settlement ------------------------------------------------------------------------------------------
    def settle(
        self,
        now: int,
        result: Result,
        indices: Sequence[int],
        readings: Sequence[Reading],
        attested: bytes,
        proven: Callable[[str, int, Reading], bool],
    ) -> list[Settlement]:
        """Settle `indices` of `result` (`attested`: the committee's digest of the round; `proven(pole,
        interval_start, reading)`: the metering contract's verdict). All or nothing, like the contract."""
        r = result
        opened = self.opened_at.get(r.round, 0)
        _fail(opened != 0, "round not open")
        _fail(now < opened + self.settle_s, "round closed")
        _fail(r.lot == self.lot, "wrong lot")
        _fail(1 <= r.intervals <= MAX_INTERVALS, "intervals out of range")
        _fail(r.digest() == attested, "result not attested")
        _fail(len(readings) == r.intervals * len(indices), "readings count")
        staged = _Staged(self.entries_settled.get(r.round, 0), set(), self.house, dict(self.escrowed))
        out = []
        for n, i in enumerate(indices):
            _fail(i < len(r.entries), "index out of range")
            _fail(not (staged.done >> i) & 1, "entry settled")
            staged.done |= 1 << i
            e = r.entries[i]
            part = readings[n * r.intervals : (n + 1) * r.intervals]
            recorded = self._record(e.pole.lower(), r.first_interval, part, proven, staged.poles)
            out.append(self._pay(r.round, e, recorded, staged))
        self._commit(r.round, staged, out)
        return out

    def _record(self, pole: str, first: int, part: Sequence[Reading], proven, poles: set) -> int:
        total = 0
        for t, rd in enumerate(part):
            interval = first + t
            _fail(proven(pole, interval * INTERVAL_S, rd), "reading not proven")
            _fail((pole, interval) not in self.pole_settled and (pole, interval) not in poles, "already settled")
            poles.add((pole, interval))
            total += rd.active_wh
        return total

    def _pay(self, round: int, e: Entry, recorded: int, staged: _Staged) -> Settlement:
        due, credit = money(e, recorded, self.penalty_bps)
        key = (round, e.pseudonym.lower())
        held = staged.escrowed.get(key, 0)
        debit = min(due, held)
        if credit > 0:
            _fail(staged.house >= credit, "house short")
            staged.house -= credit
            held += credit
        else:
            staged.house += debit
            held -= debit
        staged.escrowed[key] = held
        return Settlement(
            round, e.pseudonym.lower(), e.role, e.pole.lower(), e.energy_wh, recorded, debit, credit, due - debit
        )

    def _commit(self, round: int, staged: _Staged, out: list[Settlement]) -> None:
        self.entries_settled[round] = staged.done
        self.pole_settled |= staged.poles
        self.house = staged.house
        self.escrowed = {k: v for k, v in staged.escrowed.items() if v}
        books = self.round_books(round)
        for s in out:
            self.settled_party.add((round, s.pseudonym))
            books.paid += s.debited
            books.credited += s.credited

    # -- coins out -------------------------------------------------------------------------------------------
    def withdraw(self, sender: str, now: int, round: int) -> int:
        key = (round, sender.lower())
        amount = self.escrowed.get(key, 0)
        _fail(amount > 0, "nothing to withdraw")
        _fail(key in self.settled_party or now >= self.opened_at.get(round, 0) + self.settle_s, "not settled")
        del self.escrowed[key]
        self.total_held -= amount
        self.balance -= amount
        self.round_books(round).refunded += amount
        return amount

    def withdraw_house(self, sender: str, amount: int) -> None:
        _fail(sender.lower() == self.house_account, "caller is not the house")
        _fail(amount > 0, "zero amount")
        _fail(amount <= self.house, "house short")
        self.house -= amount
        self.total_held -= amount
        self.balance -= amount

    def held(self) -> int:
        """All escrows plus the house: what total_held must be."""
        return sum(self.escrowed.values()) + self.house


@dataclass
class _Staged:
    """A settlement's writes before they are kept (a refused entry keeps none of the call's)."""

    done: int
    poles: set
    house: int
    escrowed: dict
