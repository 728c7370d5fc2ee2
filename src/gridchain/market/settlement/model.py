"""Twin of contracts/market_settlement.vy: the community's clearing house settling a call market's fills in energy
coins against each party's anchored meter readings (specification v1 with the contract's header @dev choices, on
the market's specification v2 book: the clear's (orders, valid bitmap, marks), each order's fill replayed from the
marks by `gridchain.market.model.fill_of`, the market's own rule).

Pure: the market's stored clearing, a meter's registration and the reading check are handed in (the check as a
callable, so the twin needs no metering contract). Every method raises SettlementError with the contract's reason
where the contract reverts, and then changes nothing.

Units: coins [micro-coin], prices [micro-coin/kWh], energy [Wh], times [s]; money = price x energy / 1000, buyers
rounded up and sellers down per order (as `gridchain.market.clearing.payments`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

from gridchain.errors import ContractRevert
from gridchain.market.model import MAX_ORDERS, VALID_WORDS, book_hash, fee, fill_of, is_valid

INTERVAL_S = 900
MAX_NOTICE_S = 60 * 86400
SETTLE_WINDOW_S = 2 * 86400
MAX_READING_WH = 2**64 - 1
MAX_UNITS = 128
BID, ASK = 0, 1
ZERO = "0x" + "00" * 20


class SettlementError(ContractRevert):
    """A call the contract would revert, with the contract's reason (`market_settlement: ...`)."""


def _fail(ok: bool, reason: str) -> None:
    if not ok:
        raise SettlementError(f"market_settlement: {reason}")


@dataclass(frozen=True)
class Clearing:
    """The market's `clearings(k)`: prices [micro-coin/kWh], volume [Wh], revealed orders, the book's hash."""

    buy_price: int
    sell_price: int
    volume_wh: int
    orders: int
    book: bytes


@dataclass(frozen=True)
class Unit:
    """One (trader, side)'s claim in a settle: its meter's signed reading of the interval and the proof."""

    trader: str
    side: int
    active_wh: int
    reactive_varh: int = 0
    r: int = 0
    vs: int = 0
    proof: tuple[bytes, ...] = ()

    def as_args(self) -> tuple:
        return (self.trader, self.side, self.active_wh, self.reactive_varh, self.r, self.vs, list(self.proof))


@dataclass(frozen=True)
class UnitSettled:
    interval: int
    trader: str
    side: int
    meter: str
    filled_wh: int
    metered_wh: int
    credited: int
    debited: int
    shortfall: int


# verify(meter, interval_start, unit) -> the metering contract's verify_reading
Verifier = Callable[[str, int, Unit], bool]


Book = tuple[list[int], list[int], int]  # (orders, valid bitmap: 8 words, marks), as the clear hashed it


def unit_fills(
    book: Book, buy_price: int, sell_price: int, volume_wh: int, zone_fees: int
) -> dict[tuple[str, int], tuple[int, int]]:
    """Per (trader, side) with a fill: (filled energy [Wh], amount [micro-coin]), each order's fill by the market's
    `fill_of`; a bid's amount ceil((buy_price + fee) q / 1000), an ask's floor((sell_price - fee) q / 1000), per
    order."""
    orders, words, marks = book
    valid = [is_valid(words, r) for r in range(len(orders))]
    out: dict[tuple[str, int], tuple[int, int]] = {}
    for r, word in enumerate(orders):
        q = fill_of(orders, valid, marks, volume_wh, r, zone_fees)
        if q == 0:
            continue
        f = fee(zone_fees, (word >> 1) & 127)
        side = word & 1
        money = -(-(buy_price + f) * q // 1000) if side == BID else (sell_price - f) * q // 1000
        key = ("0x" + format(word >> 96, "040x"), side)
        e, a = out.get(key, (0, 0))
        out[key] = (e + q, a + money)
    return out


def _check_abi(book: Book) -> None:
    """The bounds the contract's ABI decoder enforces (a revert without reason there)."""
    orders, words, marks = book
    if len(orders) > MAX_ORDERS or len(words) != VALID_WORDS:
        raise ValueError("abi: orders above 2,048 or a valid bitmap not of 8 words (the contract reverts)")
    if any(not 0 <= v < 2**256 for v in [*orders, *words, marks]):
        raise ValueError("abi: a value outside uint256")


@dataclass
class SettlementModel:
    """The contract's state: balances, debts, notices, the meter registry and the settled bitmaps (as sets)."""

    owner: str
    community: int
    house: str
    utility_price: int
    notice_s: int
    zone_fees: int
    balances: dict[str, int] = field(default_factory=dict)
    debt: dict[str, int] = field(default_factory=dict)
    notice: dict[str, tuple[int, int]] = field(default_factory=dict)
    meter_of: dict[tuple[str, int], str] = field(default_factory=dict)
    holder: dict[str, tuple[str, int]] = field(default_factory=dict)
    settled: set[tuple[str, int]] = field(default_factory=set)  # (meter, k)
    party_settled: set[tuple[str, int, int]] = field(default_factory=set)  # (trader, side, k)
    total_held: int = 0

    @classmethod
    def create(
        cls,
        owner: str,
        interval_s: int,
        horizon: int,
        zone_fees: int,
        community: int,
        house: str,
        utility_price: int,
        notice_s: int,
    ) -> SettlementModel:
        """The constructor's checks, in the contract's order."""
        _fail(interval_s == INTERVAL_S, "interval not 900 s")
        _fail(1 <= utility_price < 2**64, "utility price out of range")
        _fail(house.lower() != ZERO, "zero house")
        _fail(horizon * INTERVAL_S + SETTLE_WINDOW_S <= notice_s <= MAX_NOTICE_S, "notice out of range")
        return cls(owner.lower(), community, house.lower(), utility_price, notice_s, zone_fees)

    # -- accounts ------------------------------------------------------------------------------------------
    def balance_of(self, account: str) -> int:
        return self.balances.get(account.lower(), 0)

    def _add(self, account: str, amount: int) -> None:
        self.balances[account] = self.balances.get(account, 0) + amount

    def deposit(self, sender: str, amount: int) -> int:
        """Returns the part that paid debt to the house."""
        _fail(amount > 0, "zero amount")
        sender = sender.lower()
        owed = self.debt.get(sender, 0)
        repaid = min(owed, amount)
        if repaid:
            self.debt[sender] = owed - repaid
            self._add(self.house, repaid)
        self._add(sender, amount - repaid)
        self.total_held += amount
        return repaid

    def request_withdrawal(self, sender: str, now: int, amount: int) -> int:
        """Returns when the withdrawal becomes possible [s]."""
        sender = sender.lower()
        _fail(amount <= self.balance_of(sender), "amount above balance")
        if amount == 0:
            self.notice.pop(sender, None)
        else:
            self.notice[sender] = (amount, now + self.notice_s)
        return now + self.notice_s

    def withdraw(self, sender: str, now: int) -> int:
        sender = sender.lower()
        amount, at = self.notice.get(sender, (0, 0))
        _fail(amount != 0, "no notice")
        _fail(now >= at, "notice running")
        paid = min(amount, self.balance_of(sender))
        del self.notice[sender]
        self._add(sender, -paid)
        self.total_held -= paid
        return paid

    # -- the meter registry --------------------------------------------------------------------------------
    def set_meter(self, sender: str, trader: str, side: int, meter: str, registered: tuple[str, int]) -> None:
        """`registered`: the metering contract's (owner, community) of `meter` (ZERO owner: not registered)."""
        if sender.lower() != self.owner:
            raise SettlementError("ownable: caller is not the owner")
        _fail(side <= 1, "unknown side")
        trader, meter = trader.lower(), meter.lower()
        if meter != ZERO:
            _fail(registered[0].lower() == trader, "meter not the trader's")
            _fail(registered[1] == self.community, "meter in another community")
            _fail(self.holder.get(meter, (trader, side)) == (trader, side), "meter taken")
        old = self.meter_of.pop((trader, side), ZERO)
        self.holder.pop(old, None)
        if meter != ZERO:
            self.meter_of[(trader, side)] = meter
            self.holder[meter] = (trader, side)

    # -- settlement ----------------------------------------------------------------------------------------
    def _debit(self, account: str, due: int) -> tuple[int, int]:
        taken = min(due, self.balance_of(account))
        self._add(account, -taken)
        self._add(self.house, taken)
        if due > taken:
            self.debt[account] = self.debt.get(account, 0) + due - taken
        return taken, due - taken

    def settle(
        self, interval: int, clearing: Clearing | None, book: Book, units: list[Unit], verify: Verifier
    ) -> list[UnitSettled]:
        """`clearing`: the market's `clearings(k)` (None: not cleared); `book`: (orders, valid bitmap, marks) as the
        clear hashed it. All checks run before anything changes (the contract reverts whole)."""
        _check_abi(book)
        _fail(clearing is not None, "not cleared")
        _fail(book_hash(*book) == clearing.book, "book mismatch")
        keys = [(u.trader.lower(), u.side) for u in units]
        _fail(len(set(keys)) == len(keys), "duplicate unit")
        fills = unit_fills(book, clearing.buy_price, clearing.sell_price, clearing.volume_wh, self.zone_fees)
        trial = copy.deepcopy(self)
        logs = [trial._settle_unit(interval, clearing, u, fills, verify) for u in units]
        self.__dict__.update(trial.__dict__)
        return logs

    def _settle_unit(self, k: int, clearing: Clearing, u: Unit, fills: dict, verify: Verifier) -> UnitSettled:
        trader = u.trader.lower()
        meter = self.meter_of.get((trader, u.side), ZERO)
        _fail(meter != ZERO, "no meter")
        e, amount = fills.get((trader, u.side), (0, 0))
        _fail(e > 0, "no fill")
        m = u.active_wh
        _fail(m <= MAX_READING_WH, "reading out of range")
        _fail(verify(meter, k * INTERVAL_S, u), "reading not proven")
        _fail((meter, k) not in self.settled and (trader, u.side, k) not in self.party_settled, "already settled")
        self.settled.add((meter, k))
        self.party_settled.add((trader, u.side, k))
        credited = debited = short = 0
        if u.side == BID:
            due = amount + (-(-self.utility_price * (m - e) // 1000) if m > e else 0)
            debited, short = self._debit(trader, due)
        else:
            d = min(e, m)
            earned = amount * d // e
            penalty = -(-max(self.utility_price, clearing.sell_price) * (e - d) // 1000)
            if earned >= penalty:
                credited = earned - penalty
                _fail(self.balance_of(self.house) >= credited, "house short")
                self._add(self.house, -credited)
                self._add(trader, credited)
            else:
                debited, short = self._debit(trader, penalty - earned)
        return UnitSettled(k, trader, u.side, meter, e, m, credited, debited, short)

    def held(self) -> int:
        """The sum of all balances (the invariant: == total_held)."""
        return sum(self.balances.values())
