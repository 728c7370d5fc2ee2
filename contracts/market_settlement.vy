# pragma version ~=0.4.3
"""
@title The clearing house of one call market: fills settled in energy coins against anchored meter readings
@custom:contract-name market_settlement
@license MIT (compiled together with snekmate's AGPL-3.0-only `ownable`)
@author gridchain
@notice Issue 19, item 3 (specification v1, on the market's v2 book; shared with the Python twin
        `gridchain.market.settlement.model`).
        The utility (owner) runs the community's clearing house; `HOUSE`, its treasury's account here, is the
        central counterparty: buyers pay it, sellers are paid by it, and imbalances are settled with it at the
        utility's price (`UTILITY_PRICE`, micro-coins per kWh).

        Accounts hold energy coins (micro-coins): `deposit` pulls coins in (a debtor's deposit pays its debt to
        the house first), a withdrawal needs a notice of NOTICE_S (`request_withdrawal`, then `withdraw`), at
        least the market's horizon plus two days, so a trader cannot leave before the orders it committed
        earlier are settled. The owner binds each trader's side to one meter of the community (`set_meter`:
        side 0 its consumption meter, 1 its feed-in meter).

        `settle(k, orders, valid, marks, units)`: anyone hands in cleared interval k's book as the clear
        hashed it (specification v2: every revealed order, the 8-word bitmap of the valid reveals and the
        keeper's marks; keccak256(abi_encode(orders, valid, marks)) must be the market's stored book) and units
        (trader, side, the meter's signed reading for k with its Merkle proof). The fills are replayed from the
        marks in one pass over the orders, as the market defines them: with a volume, a valid order of a
        unit's (trader, side) ranked before its side's boundary (bid B, ask A; bids by effective price
        descending, asks ascending, ties by reveal position) is filled whole, the boundary gets the volume less
        the energy ranked before it (the marks carry it), every other order nothing; without a volume nothing
        is filled. Each filled order of a unit's trader adds its fill and its amount, rounded per order as the
        market's payments (buyers ceil((buy price + fee) q / 1000), sellers floor((sell price - fee) q /
        1000)). A buyer owes its amounts plus its over-drawn energy (metered above filled) at the utility's
        price; a seller is paid for the part of its fill its meter recorded, amounts D / E, less its shortfall
        bought at max(utility price, sell price), so not delivering never pays. What a party owes is debited
        from its balance to the house, the rest becomes `debt`; a positive net is paid by the house.

        Invariant: coin.balanceOf(self) >= total_held == the sum of all balances (the house's included).
        Deposits and withdrawals move both by the same amount; settlement moves coins between balances only.
        Every function that moves coins asserts `coin.balanceOf(self) >= total_held` (>=: coins can be sent in).
        A (meter, interval) and a (trader, side, interval) are settled at most once (two bitmaps, 256
        intervals a word): no energy is settled twice.
@dev Where spec v1 has holes, this contract: (1) keeps a second bitmap per (trader, side): with the meter's alone
     a trader whose meter the owner replaces could settle an interval again with the new meter; (2) refuses a
     reading above 2**64 - 1 Wh ("reading out of range", before the proof: the over-drawn charge could
     overflow); (3) checks "duplicate unit" for all units first (when the transient map is filled), then per
     unit in order "no meter", "no fill", "reading out of range", "reading not proven", "already settled",
     "house short"; units settle in the order given (the house's balance moves with them); (4) refuses a
     zero deposit ("zero amount") and a side above 1 in set_meter ("unknown side"); request_withdrawal(0)
     cancels a notice; (5) `UnitSettled.shortfall` is the part of the debit the balance could not cover
     (added to `debt`); the short energy is filled_wh - min(filled_wh, metered_wh) for a seller.
     (6) the balance view is `balance_of(account)`: Vyper reserves `self.balance` (spec v1's `balance(a)`).
     The transient map is cleared in the second pass, so two settles in one transaction do not interfere.
     (7) the replay trusts the marks once the book's hash matches: the market's clear checked them (B and A
     valid, of their side, the volume in their cumulative ranges), so the pass only ranks. The pass reads the
     transient map first, keyed trader << 96 | side (one hash), and skips an order of no unit at once: most
     orders of a call belong to no unit. A unit whose side is above 1 (it has no order, and fails "no meter")
     is kept in a second map only to catch a duplicate. The ranking calls the market's own
     `double_auction_walk.effective_price` rather than inline it: only the units' orders pay for the call
     (inlined, the gas report's 1,000-order book settled about 730 gas a unit cheaper).
"""

from ethereum.ercs import IERC20
from snekmate.auth import ownable
from interfaces import IMetering
from modules import double_auction_walk as walk

initializes: ownable
exports: (ownable.owner, ownable.transfer_ownership)


interface ICallMarket:
    def INTERVAL_S() -> uint256: view
    def HORIZON() -> uint256: view
    def ZONE_FEES() -> uint256: view
    def cleared(interval: uint256) -> bool: view
    def clearings(interval: uint256) -> (uint64, uint64, uint64, uint32, bytes32): view


struct Unit:
    trader: address
    side: uint256  # 0 bid (consumption meter), 1 ask (feed-in meter)
    active_wh: uint256  # the meter's signed reading for the interval
    reactive_varh: uint256
    r: uint256  # the meter's EIP-2098 signature of the Reading
    vs: uint256
    proof: DynArray[bytes32, 32]  # Merkle proof to the meter's anchored day root


event Deposited:
    account: indexed(address)
    amount: uint256
    repaid: uint256  # of it, the debt paid to the house


event WithdrawalRequested:
    account: indexed(address)
    amount: uint256
    available_at: uint256


event Withdrawn:
    account: indexed(address)
    amount: uint256


event MeterSet:
    trader: indexed(address)
    side: uint256
    meter: address


event UnitSettled:
    interval: indexed(uint256)
    trader: indexed(address)
    side: uint256
    meter: address
    filled_wh: uint256
    metered_wh: uint256
    credited: uint256  # paid by the house to the trader
    debited: uint256  # taken from the trader's balance to the house
    shortfall: uint256  # owed and not covered by the balance: added to the trader's debt


MAX: constant(uint256) = 2048  # the market's orders per interval
VALID_WORDS: constant(uint256) = MAX // 256  # the clear's bitmap of valid reveals
MAX_UNITS: constant(uint256) = 128
INTERVAL_S: constant(uint256) = 900
MAX_NOTICE_S: constant(uint256) = 60 * 86400
SETTLE_WINDOW_S: constant(uint256) = 2 * 86400
MAX_READING_WH: constant(uint256) = 2**64 - 1
MASK16: constant(uint256) = 2**16 - 1
MASK24: constant(uint256) = 2**24 - 1
MASK32: constant(uint256) = 2**32 - 1
MASK48: constant(uint256) = 2**48 - 1
MASK128: constant(uint256) = 2**128 - 1
HELD: constant(uint256) = 1 << 161  # a holder word's presence flag
KEY: constant(uint256) = max_value(uint256) ^ (2**96 - 2)  # an order word's trader << 96 | side

COIN: public(immutable(IERC20))
METERING: public(immutable(IMetering))
MARKET: public(immutable(ICallMarket))
COMMUNITY: public(immutable(uint256))
HOUSE: public(immutable(address))
UTILITY_PRICE: public(immutable(uint256))  # [micro-coins per kWh]
NOTICE_S: public(immutable(uint256))
ZONE_FEES: immutable(uint256)  # the market's, 32 bits a zone

balances: HashMap[address, uint256]  # [micro-coins]
debt: public(HashMap[address, uint256])  # [micro-coins] owed to the house
total_held: public(uint256)  # [micro-coins] the sum of all balances
notice: HashMap[address, uint256]  # amount (0-127) | available at [s] (128-255)
meter_of: public(HashMap[address, HashMap[uint256, address]])  # trader -> side -> meter
holder: HashMap[address, uint256]  # meter -> HELD | side << 160 | trader
settled: public(HashMap[address, HashMap[uint256, uint256]])  # meter -> word -> bit i: interval 256 word + i
party_settled: public(HashMap[address, HashMap[uint256, uint256]])  # trader -> 2 word + side -> bits
slot_of: transient(HashMap[uint256, uint256])  # during settle: trader << 96 | side (0 or 1) -> unit + 1
other_unit: transient(HashMap[address, HashMap[uint256, bool]])  # during settle: a unit of a side above 1


@deploy
def __init__(
    coin: IERC20,
    metering: IMetering,
    market: ICallMarket,
    community: uint256,
    house: address,
    utility_price: uint256,
    notice_s: uint256,
):
    """
    @dev The deployer becomes the owner (the utility). Checks in the header's order, one reason each.
    @param coin The energy coin.
    @param metering The metering contract whose anchored readings settle the fills.
    @param market The call market (interval 900 s) whose clearings this house settles.
    @param community The community whose meters may be bound.
    @param house The utility treasury's account here, the central counterparty.
    @param utility_price The utility's tariff for imbalances [micro-coins per kWh], 1 .. 2**64 - 1.
    @param notice_s Notice before a withdrawal [s], HORIZON x 900 + 2 days .. 60 days.
    """
    assert staticcall market.INTERVAL_S() == INTERVAL_S, "market_settlement: interval not 900 s"
    assert utility_price >= 1 and utility_price < 2**64, "market_settlement: utility price out of range"
    assert house != empty(address), "market_settlement: zero house"
    least: uint256 = staticcall market.HORIZON() * INTERVAL_S + SETTLE_WINDOW_S
    assert notice_s >= least and notice_s <= MAX_NOTICE_S, "market_settlement: notice out of range"
    ownable.__init__()
    COIN = coin
    METERING = metering
    MARKET = market
    COMMUNITY = community
    HOUSE = house
    UTILITY_PRICE = utility_price
    NOTICE_S = notice_s
    ZONE_FEES = staticcall market.ZONE_FEES()


# -- accounts ----------------------------------------------------------------------------------------------
@internal
@view
def _check_held():
    assert staticcall COIN.balanceOf(self) >= self.total_held, "market_settlement: invariant broken"


@external
def deposit(amount: uint256):
    """
    @dev Pull `amount` coins from the sender (approved before); its debt, if any, is paid to the house first.
    @param amount [micro-coins], more than 0.
    """
    assert amount > 0, "market_settlement: zero amount"
    owed: uint256 = self.debt[msg.sender]
    repaid: uint256 = min(owed, amount)
    if repaid > 0:
        self.debt[msg.sender] = owed - repaid
        self.balances[HOUSE] += repaid
    self.balances[msg.sender] += amount - repaid
    self.total_held += amount
    assert extcall COIN.transferFrom(msg.sender, self, amount, default_return_value=True), "market_settlement: transfer failed"
    self._check_held()
    log Deposited(account=msg.sender, amount=amount, repaid=repaid)


@external
def request_withdrawal(amount: uint256):
    """
    @dev Announce a withdrawal of `amount`, possible NOTICE_S from now; replaces an earlier notice (0 cancels).
    @param amount [micro-coins], at most the balance now.
    """
    assert amount <= self.balances[msg.sender], "market_settlement: amount above balance"
    available_at: uint256 = block.timestamp + NOTICE_S
    if amount == 0:
        self.notice[msg.sender] = 0
    else:
        self.notice[msg.sender] = amount | (available_at << 128)
    log WithdrawalRequested(account=msg.sender, amount=amount, available_at=available_at)


@external
def withdraw() -> uint256:
    """
    @dev Once the notice has run, pay min(noticed amount, balance) to the sender and clear the notice.
    @return uint256 What was paid [micro-coins].
    """
    word: uint256 = self.notice[msg.sender]
    assert word & MASK128 != 0, "market_settlement: no notice"
    assert block.timestamp >= word >> 128, "market_settlement: notice running"
    paid: uint256 = min(word & MASK128, self.balances[msg.sender])
    self.notice[msg.sender] = 0
    self.balances[msg.sender] -= paid
    self.total_held -= paid
    assert extcall COIN.transfer(msg.sender, paid, default_return_value=True), "market_settlement: transfer failed"
    self._check_held()
    log Withdrawn(account=msg.sender, amount=paid)
    return paid


@external
@view
def balance_of(account: address) -> uint256:
    """
    @dev An account's coins here.
    @param account The account.
    @return uint256 Its balance [micro-coins].
    """
    return self.balances[account]


@external
@view
def withdrawal_notice(account: address) -> (uint256, uint256):
    """
    @dev An account's announced withdrawal.
    @param account The account.
    @return uint256 Its amount [micro-coins] (0: none).
    @return uint256 When it becomes possible [s].
    """
    word: uint256 = self.notice[account]
    return word & MASK128, word >> 128


# -- the meter registry ------------------------------------------------------------------------------------
@external
def set_meter(trader: address, side: uint256, meter: address):
    """
    @dev Owner only: bind `trader`'s `side` to `meter` (the zero address unbinds).
    @param trader The trader.
    @param side 0: its consumption meter (bids), 1: its feed-in meter (asks).
    @param meter A meter of the trader in this community, not bound to another (trader, side).
    """
    ownable._check_owner()
    assert side <= 1, "market_settlement: unknown side"
    key: uint256 = HELD | (side << 160) | convert(trader, uint256)
    if meter != empty(address):
        owner: address = empty(address)
        community: uint256 = 0
        premises: uint256 = 0
        owner, community, premises = staticcall METERING.meter(meter)
        assert owner == trader, "market_settlement: meter not the trader's"
        assert community == COMMUNITY, "market_settlement: meter in another community"
        held: uint256 = self.holder[meter]
        assert held == 0 or held == key, "market_settlement: meter taken"
    old: address = self.meter_of[trader][side]
    if old != empty(address):
        self.holder[old] = 0
    self.meter_of[trader][side] = meter
    if meter != empty(address):
        self.holder[meter] = key
    log MeterSet(trader=trader, side=side, meter=meter)


@external
@view
def is_settled(meter: address, interval: uint256) -> bool:
    """
    @dev Whether a meter's reading of `interval` has settled a fill.
    @param meter The meter.
    @param interval The interval k.
    @return bool True iff settled.
    """
    return (self.settled[meter][interval // 256] >> (interval % 256)) & 1 == 1


# -- settlement --------------------------------------------------------------------------------------------
@internal
def _debit(account: address, due: uint256) -> (uint256, uint256):
    """
    @dev Move up to `due` from `account` to the house; the rest becomes debt.
    @param account The account.
    @param due [micro-coins].
    @return uint256 Debited.
    @return uint256 Added to the debt.
    """
    held: uint256 = self.balances[account]
    taken: uint256 = min(due, held)
    self.balances[account] = held - taken
    self.balances[HOUSE] += taken
    short: uint256 = due - taken
    if short > 0:
        self.debt[account] += short
    return taken, short


@internal
def _mark(meter: address, trader: address, side: uint256, interval: uint256):
    """
    @dev Mark (meter, interval) and (trader, side, interval) settled; either marked before: "already settled".
    @param meter The meter.
    @param trader The trader.
    @param side Its side.
    @param interval The interval.
    """
    bit: uint256 = 1 << (interval % 256)
    w: uint256 = interval // 256
    word: uint256 = self.settled[meter][w]
    pw: uint256 = 2 * w + side
    party: uint256 = self.party_settled[trader][pw]
    assert word & bit == 0 and party & bit == 0, "market_settlement: already settled"
    self.settled[meter][w] = word | bit
    self.party_settled[trader][pw] = party | bit


@external
def settle(
    interval: uint256,
    orders: DynArray[uint256, MAX],
    valid: uint256[VALID_WORDS],
    marks: uint256,
    units: DynArray[Unit, MAX_UNITS],
):
    """
    @dev Settle cleared interval `interval`'s fills of each unit's (trader, side) against its meter's reading.
         Anyone may call it; the book is the clear's (orders, valid, marks), checked against its stored hash.
    @param interval The interval k.
    @param orders Every revealed order word of k, as handed to the clear.
    @param valid The clear's bitmap of the valid reveals (bit r % 256 of word r // 256).
    @param marks The clear's marks: bid B (bits 32-47) and ask A (48-63), each side's last filled order, and
           the energy [Wh] of the bids ranked before B (96-143) and of the asks ranked before A (144-191).
    @param units Per (trader, side) at most one: the meter's signed, proven reading of k.
    """
    assert staticcall MARKET.cleared(interval), "market_settlement: not cleared"
    buy: uint64 = 0
    sell: uint64 = 0
    volume: uint64 = 0
    n_orders: uint32 = 0
    book: bytes32 = empty(bytes32)
    buy, sell, volume, n_orders, book = staticcall MARKET.clearings(interval)
    assert keccak256(abi_encode(orders, valid, marks)) == book, "market_settlement: book mismatch"

    n: uint256 = len(units)
    for i: uint256 in range(n, bound=MAX_UNITS):
        u: Unit = units[i]
        if u.side <= 1:
            key: uint256 = (convert(u.trader, uint256) << 96) | u.side
            assert self.slot_of[key] == 0, "market_settlement: duplicate unit"
            self.slot_of[key] = i + 1
        else:  # no order has this side (the unit fails "no meter"): only a duplicate to catch
            assert not self.other_unit[u.trader][u.side], "market_settlement: duplicate unit"
            self.other_unit[u.trader][u.side] = True

    # one pass over the orders: a valid order of a unit's (trader, side) ranked before its side's boundary is
    # filled whole, the boundary gets the volume less the energy before it, the rest nothing
    filled: uint256[MAX_UNITS] = empty(uint256[MAX_UNITS])
    amount: uint256[MAX_UNITS] = empty(uint256[MAX_UNITS])
    total: uint256 = convert(volume, uint256)
    if total > 0:
        bp: uint256 = (marks >> 32) & MASK16
        ap: uint256 = (marks >> 48) & MASK16
        eff_b: uint256 = walk.effective_price(orders[bp], ZONE_FEES)
        eff_a: uint256 = walk.effective_price(orders[ap], ZONE_FEES)
        r: uint256 = 0
        for order: uint256 in orders:
            s: uint256 = self.slot_of[order & KEY]
            if s != 0:
                if (valid[r >> 8] >> (r & 255)) & 1 == 1:
                    eff: uint256 = walk.effective_price(order, ZONE_FEES)
                    q: uint256 = 0
                    if order & 1 == 0:
                        if r == bp:
                            q = total - ((marks >> 96) & MASK48)
                        elif eff > eff_b or (eff == eff_b and r < bp):
                            q = (order >> 8) & MASK24
                    elif r == ap:
                        q = total - (marks >> 144)
                    elif eff < eff_a or (eff == eff_a and r < ap):
                        q = (order >> 8) & MASK24
                    if q > 0:
                        fee: uint256 = (ZONE_FEES >> ((order & 254) << 4)) & MASK32
                        filled[s - 1] += q
                        if order & 1 == 0:
                            amount[s - 1] += ((convert(buy, uint256) + fee) * q + 999) // 1000
                        else:
                            amount[s - 1] += (convert(sell, uint256) - fee) * q // 1000
            r = unsafe_add(r, 1)

    start: uint256 = interval * INTERVAL_S
    for i: uint256 in range(n, bound=MAX_UNITS):
        u: Unit = units[i]
        if u.side <= 1:
            self.slot_of[(convert(u.trader, uint256) << 96) | u.side] = 0
        else:
            self.other_unit[u.trader][u.side] = False
        meter: address = self.meter_of[u.trader][u.side]
        assert meter != empty(address), "market_settlement: no meter"
        e: uint256 = filled[i]
        assert e > 0, "market_settlement: no fill"
        m: uint256 = u.active_wh
        assert m <= MAX_READING_WH, "market_settlement: reading out of range"
        assert staticcall METERING.verify_reading(
            meter, start, m, u.reactive_varh, u.r, u.vs, u.proof
        ), "market_settlement: reading not proven"
        self._mark(meter, u.trader, u.side, interval)
        credited: uint256 = 0
        debited: uint256 = 0
        short: uint256 = 0
        if u.side == 0:
            due: uint256 = amount[i]
            if m > e:
                due += (UTILITY_PRICE * (m - e) + 999) // 1000
            debited, short = self._debit(u.trader, due)
        else:
            d: uint256 = min(e, m)
            earned: uint256 = amount[i] * d // e
            penalty: uint256 = (max(UTILITY_PRICE, convert(sell, uint256)) * (e - d) + 999) // 1000
            if earned >= penalty:
                credited = earned - penalty
                house: uint256 = self.balances[HOUSE]
                assert house >= credited, "market_settlement: house short"
                self.balances[HOUSE] = house - credited
                self.balances[u.trader] += credited
            else:
                debited, short = self._debit(u.trader, penalty - earned)
        log UnitSettled(
            interval=interval,
            trader=u.trader,
            side=u.side,
            meter=meter,
            filled_wh=e,
            metered_wh=m,
            credited=credited,
            debited=debited,
            shortfall=short,
        )
    self._check_held()
