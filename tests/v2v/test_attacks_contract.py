"""Attacks on the V2V auction (contracts/v2v_auction.vy), each named after the hole of issue 14 it shows.

Hole 4: a consumer that never ends its auction locked the winning provider's collateral for ever (only the
consumer could end it). Hole 5: a bid of 1 wei/kWh won any auction for almost nothing (collateral = rate x
amount / 1000: 20 wei for 20 kWh, 0 below 1 kWh), and a winner that delivered nothing got its collateral
back in full. Attackers are funded accounts with keys (`attacker`, `attackers`) and hostile contracts
(`hostile("hostile_ev", ...)`, tests/support/fixtures/); every attack goes through the contract's public
interface as an outsider would, and every test asserts the harm (money lost or locked), so it fails where
the hole is open. docs/security.md (V2V auction) says how each is excluded.

To add an attack: take the `market` fixture (the contract, its owner and admitted EVs), make an attacker, act
through `market.c`, and assert what the victim keeps.
"""

from __future__ import annotations

from pathlib import Path

import boa
import pytest

from gridchain.v2v.client import sign_receipt
from tests.support.attackers import FUNDS, Attacker
from tests.support.deployers import load

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "v2v_auction.vy"
VALIDITY, GRACE = 3_600, 1_800  # [s]
BIDDING = 600  # [s]
AMOUNT = 20_000  # [Wh]
START_RATE = 300 * 10**12  # [wei/kWh]
RATE = 250 * 10**12


def cost(rate_wei_per_kwh: int, energy_wh: int) -> int:
    return rate_wei_per_kwh * energy_wh // 1000


def succeeds(call, *args, **kwargs) -> bool:
    """Whether an attacker's (or a victim's) call goes through: False if the contract refuses it or has no
    such function (the interface of the branch point has fewer ways out)."""
    try:
        call(*args, **kwargs)
    except Exception:  # a revert, or no function with these arguments
        return False
    return True


class V2VMarket:
    """The auction deployed by its owner (the organisation), with funded EVs that it admitted."""

    def __init__(self, evs: list[Attacker]) -> None:
        self.c = load(CONTRACT).deploy(VALIDITY, GRACE)
        self.chain_id = self.c.eip712Domain()[3]
        for ev in evs:
            self.admit(ev.address)

    def admit(self, address: str) -> None:
        self.c.add_ev(address, "EV")

    @property
    def now(self) -> int:
        return boa.env.evm.patch.timestamp

    def travel_to(self, t: int) -> None:
        if t > self.now:
            boa.env.time_travel(seconds=t - self.now)

    def start(self, consumer: str, amount_wh: int = AMOUNT, deposit: int | None = None) -> int:
        """The paper's call: amount, bidding time, start rate, and a deposit (the cost at the start rate). Returns
        the closing time."""
        deposit = cost(START_RATE, amount_wh) if deposit is None else deposit
        with boa.env.prank(consumer):
            self.c.start_auction(amount_wh, BIDDING, START_RATE, value=deposit)
        return self.now + BIDDING

    def auction(self, consumer: str) -> tuple:
        return tuple(self.c.auction(consumer))

    def minimum(self, consumer: str) -> int:
        """The auction's minimum collateral (the view of the branch point has none: 0)."""
        fields = self.auction(consumer)
        return fields[8] if len(fields) > 8 else 0

    def bid(self, provider: str, consumer: str, rate: int, collateral: int) -> None:
        with boa.env.prank(provider):
            self.c.place_bid(consumer, rate, value=collateral)

    def cheapest_bid(self, provider: str, consumer: str, rate: int) -> int:
        """Bid `rate` with the least collateral the contract takes: the paper's rate x amount if accepted, else
        the auction's minimum. Returns the collateral posted."""
        amount = self.auction(consumer)[3]
        for collateral in (cost(rate, amount), max(cost(rate, amount), self.minimum(consumer))):
            if succeeds(self.bid, provider, consumer, rate, collateral):
                return collateral
        raise AssertionError("no collateral is accepted for this bid")

    def end(self, consumer: str, sender: str | None = None) -> bool:
        """`sender` (default: the consumer, by the paper's call) ends `consumer`'s auction."""
        if sender is None or sender == consumer:
            with boa.env.prank(consumer):
                return succeeds(self.c.end_auction)
        with boa.env.prank(sender):
            return succeeds(self.c.end_auction, consumer)

    def receipt(self, consumer: Attacker, delivered_wh: int):
        return sign_receipt(
            consumer.key, self.chain_id, str(self.c.address), self.c.token(consumer.address), delivered_wh
        )

    def expire(self, consumer: str, sender: str) -> bool:
        with boa.env.prank(sender):
            return succeeds(self.c.expire, consumer)

    def withdraw(self, account: str) -> None:
        if self.c.pending_returns(account):
            with boa.env.prank(account):
                self.c.withdraw()


@pytest.fixture
def evs(attackers):
    """Honest EVs (funded accounts with keys): a consumer and two providers."""
    return attackers(3)


@pytest.fixture
def market(evs, attacker):
    with boa.env.anchor():
        m = V2VMarket([*evs, attacker])
        yield m


def balance(account) -> int:
    return boa.env.get_balance(account if isinstance(account, str) else account.address)


# ---- hole 4: a consumer that never ends its auction ---------------------------------------------------------


def test_hole4_a_consumer_that_never_ends_cannot_lock_the_winners_collateral(market, evs, attacker):
    """The attacker opens an auction, lets an honest provider win it, and never ends it. GRACE after the
    closing time the provider ends it itself; nobody delivers, and after the token's validity and GRACE anyone
    expires it: the provider gets its whole collateral back (the consumer did not end in time, so nothing is
    forfeited), the attacker its deposit, and the contract keeps nothing."""
    provider, stranger = evs[1].address, evs[2].address
    closing = market.start(attacker.address)
    collateral = market.cheapest_bid(provider, attacker.address, RATE)
    market.travel_to(closing + GRACE)
    ended = market.end(attacker.address, provider)
    market.travel_to(market.now + VALIDITY + GRACE)
    expired = market.expire(attacker.address, stranger)
    market.withdraw(provider)
    assert balance(provider) == FUNDS, (
        f"the winner's collateral ({collateral} wei) is locked: ended by the provider {ended}, expired {expired}"
    )
    market.withdraw(attacker.address)
    assert balance(attacker) == FUNDS and balance(market.c.address) == 0


def test_hole4_a_hostile_consumer_contract_that_refuses_value_cannot_lock_it_either(market, evs, hostile):
    """The consumer is a contract that never ends its auction and reverts on every transfer. A stranger ends
    it GRACE after the closing time and expires it; the provider gets its collateral back, and the consumer's
    deposit, which it refuses, waits in pending_returns instead of blocking the close."""
    consumer = hostile("hostile_ev", market.c.address)
    consumer.set_mode(2)  # reverts on receiving value
    boa.env.set_balance(str(consumer.address), 0)
    market.admit(str(consumer.address))
    provider, stranger = evs[1].address, evs[2].address
    deposit = cost(START_RATE, AMOUNT)
    boa.env.set_balance(boa.env.eoa, FUNDS)
    consumer.ask(AMOUNT, BIDDING, START_RATE, value=deposit)
    collateral = market.cheapest_bid(provider, str(consumer.address), RATE)
    market.travel_to(market.now + BIDDING + GRACE)
    ended = market.end(str(consumer.address), stranger)
    market.travel_to(market.now + VALIDITY + GRACE)
    expired = market.expire(str(consumer.address), stranger)
    market.withdraw(provider)
    assert balance(provider) == FUNDS, f"the collateral ({collateral} wei) is locked: ended {ended}, expired {expired}"
    assert market.c.pending_returns(consumer.address) == deposit == balance(market.c.address)


def test_hole4_another_may_end_only_after_the_consumers_grace(market, evs, attacker):
    """The attacker, a provider that won, would like to start the token's clock before the consumer is ready
    (it could then deliver nothing and keep its collateral): it cannot end the auction before closing + GRACE;
    the consumer can from the closing time on."""
    consumer = evs[0].address
    closing = market.start(consumer)
    market.cheapest_bid(attacker.address, consumer, RATE)
    market.travel_to(closing)
    assert not market.end(consumer, attacker.address)
    market.travel_to(closing + GRACE - 1)
    assert not market.end(consumer, attacker.address), "the winner ended the auction within the consumer's grace"
    assert market.end(consumer)  # the consumer, within its grace
    assert market.auction(consumer)[2] == closing + GRACE - 1


def test_hole4_a_stranger_that_ends_an_auction_gains_nothing_and_the_trade_goes_on(market, evs, attacker):
    """The attacker ends an honest consumer's auction GRACE after its closing time. It gets nothing: the token
    is the consumer's and the winner's, and the trade settles between them as usual; an auction without a bid
    credits its deposit to the consumer, not to the one who ended it."""
    consumer, provider = evs[0], evs[1].address
    closing = market.start(consumer.address)
    collateral = market.cheapest_bid(provider, consumer.address, RATE)
    market.travel_to(closing + GRACE)
    assert market.end(consumer.address, attacker.address), "nobody but the consumer can end its auction"
    with boa.env.prank(provider):
        market.c.settle(consumer.address, *market.receipt(consumer, AMOUNT).as_args())
    assert balance(provider) == FUNDS + cost(RATE, AMOUNT) and balance(consumer) == FUNDS - cost(RATE, AMOUNT)
    assert collateral > 0 and balance(attacker) == FUNDS and market.c.pending_returns(attacker.address) == 0
    closing = market.start(consumer.address)
    market.travel_to(closing + GRACE)
    assert market.end(consumer.address, attacker.address)
    assert market.c.pending_returns(consumer.address) == cost(START_RATE, AMOUNT)
    assert market.c.pending_returns(attacker.address) == 0


# ---- hole 5: a 1 wei/kWh bid wins for almost nothing and risks nothing --------------------------------------


@pytest.mark.parametrize("amount_wh", [AMOUNT, 999])  # 20 kWh: 20 wei; below 1 kWh: 0 wei
def test_hole5_a_1_wei_bid_cannot_win_with_a_negligible_collateral(market, evs, attacker, amount_wh):
    """The attacker underbids every honest bid with 1 wei/kWh. Through the paper's interface (no minimum
    given: the consumer's deposit is the minimum) its collateral must be meaningful: at least the deposit."""
    consumer = evs[0].address
    deposit = cost(START_RATE, amount_wh)
    market.start(consumer, amount_wh, deposit)
    market.cheapest_bid(evs[1].address, consumer, RATE)
    won_cheaply = succeeds(market.bid, attacker.address, consumer, 1, cost(1, amount_wh))
    assert not won_cheaply, f"a 1 wei/kWh bid won {amount_wh} Wh with {cost(1, amount_wh)} wei of collateral"
    posted = market.cheapest_bid(attacker.address, consumer, 1)
    assert posted >= deposit and market.auction(consumer)[7] == posted


def test_hole5_a_winner_that_delivers_nothing_pays_its_collateral_to_the_consumer(market, evs, attacker):
    """The griefer wins with 1 wei/kWh, the consumer ends in time and waits, nothing is delivered, and anyone
    expires the trade: the griefer loses its whole collateral, to the consumer."""
    consumer, stranger = evs[0].address, evs[2].address
    closing = market.start(consumer)
    collateral = market.cheapest_bid(attacker.address, consumer, 1)
    market.travel_to(closing)
    assert market.end(consumer)
    market.travel_to(market.now + VALIDITY + GRACE)
    assert market.expire(consumer, stranger)
    market.withdraw(attacker.address)
    lost = FUNDS - balance(attacker)
    assert lost == collateral, f"a winner that delivered nothing lost {lost} of its {collateral} wei collateral"
    assert collateral >= cost(START_RATE, AMOUNT), f"the griefer risked only {collateral} wei"
    assert balance(consumer) == FUNDS + collateral


@pytest.mark.parametrize("delivered", [1, 6_000, AMOUNT - 1])
def test_hole5_undelivered_energy_costs_the_provider_its_share_of_the_collateral(market, evs, attacker, delivered):
    """The attacker wins, delivers part of the amount and settles with the consumer's receipt: it is paid for
    what it delivered and gets back only the collateral of that part; the rest goes to the consumer."""
    consumer = evs[0]
    closing = market.start(consumer.address)
    collateral = market.cheapest_bid(attacker.address, consumer.address, RATE)
    market.travel_to(closing)
    assert market.end(consumer.address)
    with boa.env.prank(attacker.address):
        market.c.settle(consumer.address, *market.receipt(consumer, delivered).as_args())
    share = collateral * (AMOUNT - delivered) // AMOUNT
    assert balance(attacker) == FUNDS + cost(RATE, delivered) - share, "undelivered energy cost the provider nothing"
    assert balance(consumer) == FUNDS - cost(RATE, delivered) + share
    assert balance(market.c.address) == 0


def test_hole5_a_griefer_contract_cannot_dodge_the_forfeit(market, evs, hostile):
    """The griefer is a contract that reverts on every transfer: the forfeited collateral reaches the consumer
    all the same, and what the griefer is owed (the price and collateral of what it did deliver) waits in
    pending_returns."""
    consumer = evs[0]
    griefer = hostile("hostile_ev", market.c.address)
    griefer.set_mode(2)
    market.admit(str(griefer.address))
    closing = market.start(consumer.address)
    boa.env.set_balance(boa.env.eoa, FUNDS)
    collateral = max(cost(1, AMOUNT), market.minimum(consumer.address))
    griefer.bid(consumer.address, 1, value=collateral)
    market.travel_to(closing)
    assert market.end(consumer.address)
    with boa.env.prank(consumer.address):
        market.c.post_receipt(consumer.address, *market.receipt(consumer, 5_000).as_args())
    market.travel_to(market.now + VALIDITY + GRACE)
    assert market.expire(consumer.address, evs[2].address)
    kept = collateral - collateral * 15_000 // AMOUNT
    assert market.c.pending_returns(griefer.address) == cost(1, 5_000) + kept, "the griefer kept the whole collateral"
    assert balance(consumer) == FUNDS - cost(1, 5_000) + collateral - kept


def test_hole5_the_winner_cannot_escape_the_forfeit_by_ending_the_auction_itself(market, evs, attacker):
    """The griefer's way out of the forfeit would be an auction ended after the consumer's grace; only the
    consumer can end it before then, so a consumer that ends in time keeps its claim."""
    consumer = evs[0].address
    closing = market.start(consumer)
    collateral = market.cheapest_bid(attacker.address, consumer, 1)
    market.travel_to(closing)
    assert not market.end(consumer, attacker.address)
    market.travel_to(closing + GRACE - 1)
    assert not market.end(consumer, attacker.address)
    assert market.end(consumer)
    market.travel_to(market.now + VALIDITY + GRACE)
    assert market.expire(consumer, attacker.address)
    market.withdraw(attacker.address)
    assert FUNDS - balance(attacker) == collateral > 0, "the griefer got its collateral back"


def test_hole5_residual_a_consumer_that_takes_nothing_gains_at_most_the_collateral(market, evs, attacker):
    """The risk the fix leaves (docs/security.md): the contract cannot tell a provider that delivers nothing
    from a consumer that takes nothing. An attacker consumer that ends in time and never authenticates or signs
    gains the winner's collateral, and no more: the minimum it set, public before anyone bid, at most its own
    deposit."""
    provider = evs[1].address
    deposit = cost(START_RATE, AMOUNT)
    closing = market.start(attacker.address, deposit=deposit)
    minimum = market.minimum(attacker.address)
    collateral = market.cheapest_bid(provider, attacker.address, RATE)
    market.travel_to(closing)
    assert market.end(attacker.address)
    market.travel_to(market.now + VALIDITY)  # the consumer may settle a receipt for 0 after the validity
    with boa.env.prank(attacker.address):
        market.c.settle(attacker.address, *market.receipt(attacker, 0).as_args())
    gained = balance(attacker) - FUNDS
    assert gained == collateral == max(cost(RATE, AMOUNT), minimum) <= deposit
    assert balance(provider) == FUNDS - collateral


@pytest.mark.parametrize("minimum", [cost(START_RATE, AMOUNT) + 1, 2**80, 2**256 - 1])
def test_hole5_a_consumer_cannot_demand_more_collateral_than_it_deposits(market, evs, attacker, minimum):
    """The minimum collateral is the consumer's new lever: a consumer that takes nothing gains the undelivered
    collateral, so an attacker consumer would ask for a huge one to harvest it. It is bounded by the consumer's
    own deposit: anything above is refused, and no auction opens."""
    deposit = cost(START_RATE, AMOUNT)
    before = balance(attacker)
    with boa.env.prank(attacker.address):
        assert not succeeds(market.c.start_auction, AMOUNT, BIDDING, START_RATE, minimum, value=deposit)
    assert market.auction(attacker.address)[1] == 0  # no closing time: no auction
    assert balance(attacker) == before
    with boa.env.prank(attacker.address):  # at the bound it opens: what a provider risks is public and bounded
        market.c.start_auction(AMOUNT, BIDDING, START_RATE, deposit, value=deposit)
    assert market.minimum(attacker.address) == deposit
