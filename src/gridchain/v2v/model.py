"""Twin of contracts/v2v_auction.vy: the reverse auction, its access token and receipt settlement.

Abou El Houda et al., Section III: a consumer EV asks for energy with a deposit, provider EVs underbid each
other with a collateral each, the lowest wins and gets an access token; payment follows the consumer's
signed cumulative delivery receipts (our addition; the paper pays the whole cost at the end). Issue 14 made
the collateral meaningful whatever the bid (at least a minimum the consumer sets, by default its deposit),
made undelivered energy cost the provider its share of the collateral, and let anyone end an auction GRACE
after its closing time. Every method raises V2VError with the contract's revert reason where the contract
reverts, and then changes nothing.

Units: energy [Wh], rates [wei/kWh], money [wei], times [s]; cost = rate x energy // 1000 (paper Eq. 1).
Addresses are compared lower-case. The model sends money the way the contract does: the caller is paid
directly, anyone else by a push that falls back to `pending` if the receiver refuses it (`refusing`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_abi import encode
from eth_utils import keccak

from gridchain.errors import ContractRevert

MASK64 = 2**64 - 1
MASK80 = 2**80 - 1  # rates [wei/kWh] and money [wei] (deposit, collateral, minimum collateral)
MAX_BIDDING_TIME_S = 7 * 86400
MAX_PERIOD_S = 30 * 86400
MIN_GRACE_S = 60  # the consumer's least time to end its own auction
ZERO = "0x" + "00" * 20


class V2VError(ContractRevert):
    """A call the contract would revert, with the contract's reason (`v2v: ...`)."""


def cost(rate_wei_per_kwh: int, energy_wh: int) -> int:
    """Paper Eq. 1 in integer units [wei]."""
    return rate_wei_per_kwh * energy_wh // 1000


def required_collateral(rate_wei_per_kwh: int, amount_wh: int, min_collateral_wei: int) -> int:
    """A bid's collateral: its cost (paper Eq. 1), but never below the auction's minimum [wei]."""
    return max(cost(rate_wei_per_kwh, amount_wh), min_collateral_wei)


def undelivered_share(collateral_wei: int, amount_wh: int, delivered_wh: int) -> int:
    """The collateral of the energy not delivered, collateral x (amount - delivered) / amount rounded down [wei]."""
    return collateral_wei * (amount_wh - delivered_wh) // amount_wh


def access_token(consumer: str, provider: str, ended_at: int, validity_s: int) -> bytes:
    """keccak256(abi_encode(consumer, provider, block timestamp, validity)), as `AuctionEnded` carries it."""
    return keccak(encode(["address", "address", "uint256", "uint256"], [consumer, provider, ended_at, validity_s]))


@dataclass
class Auction:
    """A consumer's open auction, as the contract's `auction(consumer)` view returns it."""

    provider: str = ZERO
    closing_time: int = 0
    ended_at: int = 0
    amount_wh: int = 0
    rate_wei_per_kwh: int = 0
    delivered_wh: int = 0
    deposit_wei: int = 0
    collateral_wei: int = 0
    min_collateral_wei: int = 0

    def as_tuple(self) -> tuple:
        return (
            self.provider,
            self.closing_time,
            self.ended_at,
            self.amount_wh,
            self.rate_wei_per_kwh,
            self.delivered_wh,
            self.deposit_wei,
            self.collateral_wei,
            self.min_collateral_wei,
        )

    def ended_in_time(self, grace_s: int) -> bool:
        """The consumer ended it within its grace (nobody else can end it then): undelivered energy costs the
        provider its share of the collateral."""
        return self.ended_at != 0 and self.ended_at < self.closing_time + grace_s


@dataclass(frozen=True)
class Closed:
    """The outcome of a settled or expired trade (the `TradeClosed` event)."""

    consumer: str
    provider: str
    delivered_wh: int
    to_provider_wei: int
    to_consumer_wei: int
    expired: bool


def _fail(ok: bool, reason: str) -> None:
    if not ok:
        raise V2VError(f"v2v: {reason}")


@dataclass
class V2VModel:
    owner: str
    validity_s: int
    grace_s: int
    active: bool = True
    admitted: dict[str, int] = field(default_factory=dict)  # EV -> admission time
    auctions: dict[str, Auction] = field(default_factory=dict)  # consumer -> open auction
    pending: dict[str, int] = field(default_factory=dict)  # [wei] withdrawable
    balance: int = 0  # [wei] what the contract holds
    paid: dict[str, int] = field(default_factory=dict)  # [wei] sent out to each account, over all time
    refusing: set[str] = field(default_factory=set)  # accounts whose receive reverts (a push to them fails)

    def __post_init__(self) -> None:
        _fail(0 < self.validity_s <= MAX_PERIOD_S, "validity_s out of range")
        _fail(MIN_GRACE_S <= self.grace_s <= MAX_PERIOD_S, "grace_s out of range")
        self.owner = self.owner.lower()

    # -- the organisation ------------------------------------------------------------------------------
    def _check_owner(self, sender: str) -> None:
        _fail(sender.lower() == self.owner, "caller is not the owner")

    def add_ev(self, sender: str, now: int, ev: str) -> None:
        self._check_owner(sender)
        _fail(ev.lower() != ZERO, "ev is the zero address")
        _fail(ev.lower() not in self.admitted, "EV already admitted")
        self.admitted[ev.lower()] = now

    def remove_ev(self, sender: str, ev: str) -> None:
        self._check_owner(sender)
        _fail(ev.lower() in self.admitted, "EV not admitted")
        del self.admitted[ev.lower()]

    def change_status(self, sender: str, active: bool) -> None:
        self._check_owner(sender)
        self.active = active

    # -- the auction -----------------------------------------------------------------------------------
    def _check_trading(self, ev: str) -> None:
        _fail(self.active, "trading is paused")
        _fail(ev in self.admitted, "EV not admitted")

    def start_auction(
        self,
        sender: str,
        now: int,
        value: int,
        amount_wh: int,
        bidding_time_s: int,
        start_rate_wei_per_kwh: int,
        min_collateral_wei: int | None = None,
    ) -> Auction:
        """`min_collateral_wei` None: the contract's default, the deposit (`value`)."""
        consumer = sender.lower()
        minimum = value if min_collateral_wei is None else min_collateral_wei
        self._check_trading(consumer)
        _fail(consumer not in self.auctions, "consumer has an open auction")
        _fail(0 < amount_wh <= MASK64, "amount_wh out of range")
        _fail(0 < bidding_time_s <= MAX_BIDDING_TIME_S, "bidding_time_s out of range")
        _fail(0 < start_rate_wei_per_kwh <= MASK80, "start rate out of range")
        _fail(value <= MASK80, "deposit out of range")
        _fail(value >= cost(start_rate_wei_per_kwh, amount_wh), "deposit below the cost at the start rate")
        _fail(minimum <= value, "min collateral over deposit")
        auction = Auction(
            closing_time=now + bidding_time_s,
            amount_wh=amount_wh,
            rate_wei_per_kwh=start_rate_wei_per_kwh,
            deposit_wei=value,
            min_collateral_wei=minimum,
        )
        self.auctions[consumer] = auction
        self.balance += value
        return auction

    def place_bid(self, sender: str, now: int, value: int, consumer: str, rate_wei_per_kwh: int) -> None:
        provider, consumer = sender.lower(), consumer.lower()
        self._check_trading(provider)
        _fail(provider != consumer, "a consumer cannot bid in its own auction")
        a = self.auctions.get(consumer)
        _fail(a is not None, "no open auction for this consumer")
        assert a is not None
        _fail(now < a.closing_time, "bidding is closed")  # an ended auction's closing time has passed
        _fail(rate_wei_per_kwh > 0, "rate is 0")
        _fail(rate_wei_per_kwh < a.rate_wei_per_kwh, "bid not lower than the current rate")
        _fail(
            value == required_collateral(rate_wei_per_kwh, a.amount_wh, a.min_collateral_wei),
            "collateral must be max(rate x amount, minimum)",
        )
        if a.provider != ZERO:
            self.pending[a.provider] = self.pending.get(a.provider, 0) + a.collateral_wei
        a.provider, a.rate_wei_per_kwh, a.collateral_wei = provider, rate_wei_per_kwh, value
        self.balance += value

    def end_auction(self, sender: str, now: int, consumer: str | None = None) -> bytes | None:
        """`consumer`'s (default: the sender's) access token, or None when nobody bid (the deposit goes back).
        The consumer may end once bidding has closed, anyone else GRACE later."""
        sender = sender.lower()
        consumer = sender if consumer is None else consumer.lower()
        a = self.auctions.get(consumer)
        _fail(a is not None, "no open auction for this consumer")
        assert a is not None
        _fail(a.ended_at == 0, "auction already ended")
        _fail(now >= a.closing_time, "bidding still open")
        if sender != consumer:
            _fail(now >= a.closing_time + self.grace_s, "consumer's grace not over")
        if a.provider == ZERO:
            del self.auctions[consumer]
            self.pending[consumer] = self.pending.get(consumer, 0) + a.deposit_wei
            return None
        a.ended_at = now
        return self.token(consumer)

    def token(self, consumer: str) -> bytes | None:
        a = self.auctions.get(consumer.lower())
        if a is None or a.ended_at == 0:
            return None
        return access_token(consumer, a.provider, a.ended_at, self.validity_s)

    def _check_party(self, sender: str, consumer: str) -> Auction:
        a = self.auctions.get(consumer)
        _fail(a is not None and a.ended_at != 0, "no ended trade for this consumer")
        assert a is not None
        _fail(sender in (consumer, a.provider), "caller is not a party")
        return a

    def _check_receipt(self, a: Auction, consumer: str, delivered_wh: int, signer: str) -> None:
        """`signer` is whom the receipt's signature recovers to (`gridchain.v2v.client.receipt_signer`)."""
        _fail(delivered_wh <= a.amount_wh, "receipt above the amount")
        _fail(signer.lower() == consumer, "receipt not signed by the consumer")

    def post_receipt(self, sender: str, consumer: str, delivered_wh: int, signer: str) -> None:
        consumer = consumer.lower()
        a = self._check_party(sender.lower(), consumer)
        self._check_receipt(a, consumer, delivered_wh, signer)
        _fail(delivered_wh > a.delivered_wh, "receipt not above the one posted")
        a.delivered_wh = delivered_wh

    def settle(self, sender: str, now: int, consumer: str, delivered_wh: int, signer: str) -> Closed:
        sender, consumer = sender.lower(), consumer.lower()
        a = self._check_party(sender, consumer)
        self._check_receipt(a, consumer, delivered_wh, signer)
        if sender == consumer:
            _fail(
                delivered_wh == a.amount_wh or now >= a.ended_at + self.validity_s,
                "the consumer settles after the token's validity",
            )
        return self._close(sender, consumer, a, max(delivered_wh, a.delivered_wh), expired=False)

    def expire(self, sender: str, now: int, consumer: str) -> Closed:
        consumer = consumer.lower()
        a = self.auctions.get(consumer)
        _fail(a is not None and a.ended_at != 0, "no ended trade for this consumer")
        assert a is not None
        _fail(now >= a.ended_at + self.validity_s + self.grace_s, "trade not expired yet")
        return self._close(sender.lower(), consumer, a, a.delivered_wh, expired=True)

    def withdraw(self, sender: str) -> int:
        sender = sender.lower()
        amount = self.pending.get(sender, 0)
        _fail(amount > 0, "nothing to withdraw")
        self.pending[sender] = 0
        self.balance -= amount
        self.paid[sender] = self.paid.get(sender, 0) + amount
        return amount

    def _close(self, sender: str, consumer: str, a: Auction, delivered_wh: int, expired: bool) -> Closed:
        price = cost(a.rate_wei_per_kwh, delivered_wh)
        forfeit = undelivered_share(a.collateral_wei, a.amount_wh, delivered_wh) if a.ended_in_time(self.grace_s) else 0
        closed = Closed(
            consumer,
            a.provider,
            delivered_wh,
            price + a.collateral_wei - forfeit,
            a.deposit_wei - price + forfeit,
            expired,
        )
        del self.auctions[consumer]
        self._pay(a.provider, closed.to_provider_wei, caller=sender == a.provider)
        self._pay(consumer, closed.to_consumer_wei, caller=sender == consumer)
        return closed

    def _pay(self, to: str, amount: int, caller: bool) -> None:
        if amount == 0:
            return
        if not caller and to in self.refusing:
            self.pending[to] = self.pending.get(to, 0) + amount
            return
        self.balance -= amount
        self.paid[to] = self.paid.get(to, 0) + amount

    # -- the invariant ---------------------------------------------------------------------------------
    def liabilities(self) -> int:
        """What the contract owes: live deposits and collaterals plus pending returns [wei]."""
        return sum(a.deposit_wei + a.collateral_wei for a in self.auctions.values()) + sum(self.pending.values())
