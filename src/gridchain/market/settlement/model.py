"""Twin of contracts/market_settlement.vy: the community's clearing house settling a call market's fills in energy
coins against each party's anchored meter readings (specification v1 with the contract's header @dev choices).

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
from gridchain.market.model import MASK24, MASK32, book_hash

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


def unit_fills(
    orders: list[int], positions: list[int], volume_wh: int, side: int, price: int, zone_fees: int
) -> dict[str, tuple[int, int]]:
    """Per trader of one side: (filled energy [Wh], amount [micro-coin]) with the list filled in order up to the
    volume; a bid's amount ceil((price + fee) q / 1000), an ask's floor((price - fee) q / 1000), per order."""
    out: dict[str, tuple[int, int]] = {}
    left = volume_wh
    for p in positions:
        if left == 0:
            break
        word = orders[p]
        q = min((word >> 8) & MASK24, left)
        left -= q
        f = (zone_fees >> (32 * ((word >> 1) & 127))) & MASK32
        money = -(-(price + f) * q // 1000) if side == BID else (price - f) * q // 1000
        trader = "0x" + format(word >> 96, "040x")
        e, a = out.get(trader, (0, 0))
        out[trader] = (e + q, a + money)
    return out


def _unpack16(words: list[int], n: int) -> list[int]:
    return [(words[t // 16] >> (16 * (t % 16))) & 0xFFFF for t in range(n)]


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
        self,
        interval: int,
        clearing: Clearing | None,
        book: tuple[list[int], list[int], int, list[int], int],
        units: list[Unit],
        verify: Verifier,
    ) -> list[UnitSettled]:
        """`clearing`: the market's `clearings(k)` (None: not cleared); `book`: (orders, bids, n_bids, asks,
        n_asks) as handed to the clear. All checks run before anything changes (the contract reverts whole)."""
        _fail(clearing is not None, "not cleared")
        orders, bids, n_bids, asks, n_asks = book
        _fail(book_hash(orders, bids, n_bids, asks, n_asks) == clearing.book, "book mismatch")
        keys = [(u.trader.lower(), u.side) for u in units]
        _fail(len(set(keys)) == len(keys), "duplicate unit")
        fills = (
            unit_fills(orders, _unpack16(bids, n_bids), clearing.volume_wh, BID, clearing.buy_price, self.zone_fees),
            unit_fills(orders, _unpack16(asks, n_asks), clearing.volume_wh, ASK, clearing.sell_price, self.zone_fees),
        )
        trial = copy.deepcopy(self)
        logs = [trial._settle_unit(interval, clearing, u, fills, verify) for u in units]
        self.__dict__.update(trial.__dict__)
        return logs

    def _settle_unit(self, k: int, clearing: Clearing, u: Unit, fills: tuple, verify: Verifier) -> UnitSettled:
        trader = u.trader.lower()
        meter = self.meter_of.get((trader, u.side), ZERO)
        _fail(meter != ZERO, "no meter")
        e, amount = fills[u.side].get(trader, (0, 0))
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
