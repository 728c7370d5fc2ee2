"""The V2V reverse auction (contracts/v2v_auction.vy) against its Python twin (gridchain.v2v.model): every call goes
to both, and they must agree on the outcome (the auction, pending returns, balances and events on success; the
revert reason, with nothing changed on either side, on failure). One positive and one negative test per
external function and per revert reason, boundary tables, the access token and the money of a settlement."""

from __future__ import annotations

import boa
import pytest

from gridchain.v2v.model import (
    ZERO,
    Auction,
    Closed,
    V2VModel,
    access_token,
    cost,
    undelivered_share,
)
from tests.v2v.harness import (
    AMOUNT,
    BIDDING,
    GRACE,
    RATE,
    START_RATE,
    VALIDITY,
    ZERO32,
    Market,
    deployer,
    refused,
)

DAY = 86400
FUNDS = Market.FUNDS
DEPOSIT = cost(START_RATE, AMOUNT) + 99  # [wei] a deposit above the cost at the start rate

REFUSING_SRC = """
# pragma version ~=0.4.3
received: public(uint256)

@external
@payable
def __default__():
    self.received += msg.value  # a storage write: more than a 2,300-gas push allows
"""


@pytest.fixture
def m():
    with boa.env.anchor():
        yield Market()


# ---- deployment ----------------------------------------------------------------------------------------------


def test_deploy_sets_owner_periods_domain_and_active(m):
    assert str(m.c.owner()) == m.owner
    assert (m.c.VALIDITY(), m.c.GRACE()) == (VALIDITY, GRACE)
    assert m.c.active() is True
    domain = m.c.eip712Domain()
    assert (domain[1], domain[2], str(domain[4])) == ("gridchain v2v", "1", m.address)


@pytest.mark.parametrize(
    ("validity_s", "grace_s", "reason"),
    [
        (1, 60, None),
        (30 * DAY, 30 * DAY, None),
        (0, GRACE, "validity_s out of range"),
        (30 * DAY + 1, GRACE, "validity_s out of range"),
        (VALIDITY, 59, "grace_s out of range"),  # the consumer's least time to end its own auction
        (VALIDITY, 0, "grace_s out of range"),
        (VALIDITY, 30 * DAY + 1, "grace_s out of range"),
    ],
)
def test_deploy_period_bounds(validity_s, grace_s, reason):
    with boa.env.anchor():
        if reason is None:
            V2VModel(str(boa.env.eoa), validity_s, grace_s)
            c = deployer().deploy(validity_s, grace_s)
            assert (c.VALIDITY(), c.GRACE()) == (validity_s, grace_s)
        else:
            refused(reason, V2VModel, str(boa.env.eoa), validity_s, grace_s)
            with boa.reverts(f"v2v: {reason}"):
                deployer().deploy(validity_s, grace_s)


# ---- add_ev / remove_ev / change_status -------------------------------------------------------------------------


def test_add_ev_admits_at_block_time(m):
    ev = m.new_account().address
    m.travel_to(m.now + 77)
    m.add_ev(ev, "Nissan Leaf, 40 kWh")
    assert m.c.admitted_at(ev) == m.now


def test_add_ev_by_non_owner_refused(m):
    refused("caller is not the owner", m.add_ev, m.new_account().address, sender=m.ev(0))


def test_add_ev_zero_address_refused(m):
    refused("ev is the zero address", m.add_ev, ZERO)


def test_add_ev_already_admitted_refused(m):
    refused("EV already admitted", m.add_ev, m.ev(0))


def test_remove_ev_stops_its_new_auctions_and_bids(m):
    m.start(m.ev(1))
    m.remove_ev(m.ev(0))
    assert m.c.admitted_at(m.ev(0)) == 0
    refused("EV not admitted", m.start, m.ev(0))
    refused("EV not admitted", m.bid, m.ev(0), m.ev(1))
    m.add_ev(m.ev(0))  # re-admission works
    m.bid(m.ev(0), m.ev(1))


def test_remove_ev_by_non_owner_refused(m):
    refused("caller is not the owner", m.remove_ev, m.ev(1), sender=m.ev(0))


def test_remove_ev_not_admitted_refused(m):
    refused("EV not admitted", m.remove_ev, m.new_account().address)


def test_removed_evs_open_trade_still_settles(m):
    m.trade()
    m.remove_ev(m.ev(0))
    m.remove_ev(m.ev(1))
    m.post(m.ev(1), m.ev(0), m.receipt(m.evs[0], 4_000))
    closed = m.settle(m.ev(1), m.ev(0), m.receipt(m.evs[0], 5_000))
    assert closed.delivered_wh == 5_000


def test_change_status_pauses_and_resumes(m):
    m.change_status(False)
    assert m.c.active() is False
    m.change_status(False)  # idempotent
    m.change_status(True)
    assert m.c.active() is True
    m.start(m.ev(0))


def test_change_status_by_non_owner_refused(m):
    refused("caller is not the owner", m.change_status, False, sender=m.ev(0))


def test_paused_refuses_start_and_bid(m):
    m.start(m.ev(0))
    m.change_status(False)
    refused("trading is paused", m.start, m.ev(1))
    refused("trading is paused", m.bid, m.ev(2), m.ev(0))
    refused("trading is paused", m.start, m.new_account().address)  # paused is checked before admission


def test_paused_still_ends_settles_expires_and_withdraws(m):
    # consumer 0: a trade to settle; consumer 2: a trade to expire; consumer 3: no bid, deposit withdrawable
    m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0), RATE)
    m.bid(m.ev(2), m.ev(0), RATE - 1)  # ev1's collateral becomes withdrawable
    m.start(m.ev(3))
    closing = m.model.auctions[m.ev(0).lower()].closing_time
    m.change_status(False)
    m.travel_to(closing)
    m.end(m.ev(0))
    assert m.end(m.ev(3)) is None
    m.settle(m.ev(2), m.ev(0), m.receipt(m.evs[0], 1_000))
    assert m.withdraw(m.ev(1)) == cost(RATE, AMOUNT)
    assert m.withdraw(m.ev(3)) == cost(START_RATE, AMOUNT)
    m.change_status(True)
    m.trade(consumer=2, provider=1)
    m.change_status(False)
    m.travel_to(m.now + VALIDITY + GRACE)
    m.expire(m.new_account().address, m.ev(2))


# ---- start_auction ----------------------------------------------------------------------------------------------


def test_start_auction_records_the_terms(m):
    a = m.start(m.ev(0), 5_000, 300, 4 * 10**14, deposit=cost(4 * 10**14, 5_000) + 7)
    assert m.chain_auction(m.ev(0)) == (ZERO, m.now + 300, 0, 5_000, 4 * 10**14, 0, cost(4 * 10**14, 5_000) + 7, 0, 0)
    assert a.closing_time == m.now + 300
    assert bytes(m.c.token(m.ev(0))) == ZERO32


def test_start_by_unadmitted_ev_refused(m):
    refused("EV not admitted", m.start, m.new_account().address)


def test_start_with_an_open_auction_refused(m):
    m.start(m.ev(0))
    refused("consumer has an open auction", m.start, m.ev(0))
    m.bid(m.ev(1), m.ev(0))
    m.travel_to(m.now + BIDDING)
    m.end(m.ev(0))
    refused("consumer has an open auction", m.start, m.ev(0))  # ended but not settled: still open
    m.settle(m.ev(1), m.ev(0), m.receipt(m.evs[0], 0))
    m.start(m.ev(0))


@pytest.mark.parametrize(
    ("amount_wh", "ok"),
    [(0, False), (1, True), (2**64 - 1, True), (2**64, False)],
)
def test_start_amount_bounds(m, amount_wh, ok):
    if ok:
        m.start(m.ev(0), amount_wh=amount_wh, start_rate=1)
    else:
        refused("amount_wh out of range", m.start, m.ev(0), amount_wh=amount_wh, start_rate=1, deposit=0)


@pytest.mark.parametrize(
    ("bidding_time_s", "ok"),
    [(0, False), (1, True), (7 * DAY, True), (7 * DAY + 1, False)],
)
def test_start_bidding_time_bounds(m, bidding_time_s, ok):
    if ok:
        a = m.start(m.ev(0), bidding_time_s=bidding_time_s)
        assert a.closing_time == m.now + bidding_time_s
    else:
        refused("bidding_time_s out of range", m.start, m.ev(0), bidding_time_s=bidding_time_s)


@pytest.mark.parametrize(
    ("start_rate", "ok"),
    [(0, False), (1, True), (2**80 - 1, True), (2**80, False)],
)
def test_start_rate_bounds(m, start_rate, ok):
    m.refund(m.ev(0), 2**100)
    if ok:
        m.start(m.ev(0), amount_wh=1_000, start_rate=start_rate)  # cost = start_rate <= the largest deposit
    else:
        refused("start rate out of range", m.start, m.ev(0), amount_wh=1_000, start_rate=start_rate, deposit=0)


@pytest.mark.parametrize(("deposit", "ok"), [(2**80 - 1, True), (2**80, False), (2**128, False)])
def test_start_deposit_bounds(m, deposit, ok):
    consumer = m.ev(0)
    m.refund(consumer, 2**129)
    if ok:
        m.start(consumer, deposit=deposit)
    else:
        refused("deposit out of range", m.start, consumer, deposit=deposit)


@pytest.mark.parametrize(("delta", "ok"), [(-1, False), (0, True), (1, True)])
def test_start_deposit_against_the_cost_at_the_start_rate(m, delta, ok):
    rate, amount = 123_456_789_012_345, 7_777  # cost rounds down: 960_123_648_249_007_065 // 1000
    deposit = cost(rate, amount) + delta
    if ok:
        m.start(m.ev(0), amount, BIDDING, rate, deposit)
    else:
        refused("deposit below the cost at the start rate", m.start, m.ev(0), amount, BIDDING, rate, deposit)


@pytest.mark.parametrize(
    ("minimum", "ok"),
    [
        (0, True),
        (1, True),
        (DEPOSIT, True),
        (DEPOSIT + 1, False),
        (2**80, False),
        (2**256 - 1, False),
    ],
)
def test_start_min_collateral_at_most_the_deposit(m, minimum, ok):
    if ok:
        a = m.start(m.ev(0), deposit=DEPOSIT, min_collateral=minimum)
        assert a.min_collateral_wei == m.chain_auction(m.ev(0))[8] == minimum
    else:
        refused("min collateral over deposit", m.start, m.ev(0), deposit=DEPOSIT, min_collateral=minimum)


def test_start_min_collateral_defaults_to_the_deposit(m):
    """The three-argument call (the paper's interface): every bid then stakes what the consumer deposited."""
    a = m.start(m.ev(0), deposit=DEPOSIT, min_collateral=None)
    assert a.min_collateral_wei == m.chain_auction(m.ev(0))[8] == DEPOSIT
    m.bid(m.ev(1), m.ev(0), 1)  # 1 wei/kWh: its cost is 10 wei, its collateral the deposit
    assert m.chain_auction(m.ev(0))[7] == DEPOSIT


# ---- place_bid -------------------------------------------------------------------------------------------------


def test_bid_records_provider_rate_and_collateral(m):
    m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0), RATE)
    a = m.model.auctions[m.ev(0).lower()]
    assert (a.provider, a.rate_wei_per_kwh, a.collateral_wei) == (m.ev(1).lower(), RATE, cost(RATE, AMOUNT))


def test_outbid_collateral_becomes_withdrawable(m):
    m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0), RATE)
    m.bid(m.ev(2), m.ev(0), RATE - 10)
    m.bid(m.ev(1), m.ev(0), RATE - 20)  # ev1 again: its new collateral is live, the old one pending
    m.bid(m.ev(3), m.ev(0), RATE - 30)
    assert m.c.pending_returns(m.ev(1)) == cost(RATE, AMOUNT) + cost(RATE - 20, AMOUNT)
    assert m.c.pending_returns(m.ev(2)) == cost(RATE - 10, AMOUNT)
    assert m.withdraw(m.ev(1)) == cost(RATE, AMOUNT) + cost(RATE - 20, AMOUNT)


def test_bid_by_unadmitted_ev_refused(m):
    m.start(m.ev(0))
    refused("EV not admitted", m.bid, m.new_account().address, m.ev(0))


def test_bid_in_own_auction_refused(m):
    m.start(m.ev(0))
    refused("a consumer cannot bid in its own auction", m.bid, m.ev(0), m.ev(0))


def test_bid_without_an_open_auction_refused(m):
    refused("no open auction for this consumer", m.bid, m.ev(1), m.ev(0))


def test_bid_at_exactly_the_closing_time_refused(m):
    a = m.start(m.ev(0))
    m.travel_to(a.closing_time - 1)
    m.bid(m.ev(1), m.ev(0), RATE)
    m.travel_to(a.closing_time)
    refused("bidding is closed", m.bid, m.ev(2), m.ev(0), RATE - 1)


def test_bid_after_the_end_refused(m):
    m.trade()
    refused("bidding is closed", m.bid, m.ev(2), m.ev(0), RATE - 1)


def test_bid_at_rate_0_refused(m):
    m.start(m.ev(0))
    refused("rate is 0", m.bid, m.ev(1), m.ev(0), 0)


@pytest.mark.parametrize(
    ("first", "rate", "ok"),
    [
        (None, START_RATE, False),
        (None, START_RATE - 1, True),
        (RATE, RATE, False),
        (RATE, RATE - 1, True),
        (RATE, RATE + 1, False),
    ],
)
def test_bid_must_be_strictly_lower(m, first, rate, ok):
    m.start(m.ev(0))
    if first is not None:
        m.bid(m.ev(1), m.ev(0), first)
    if ok:
        m.bid(m.ev(2), m.ev(0), rate)
    else:
        refused("bid not lower than the current rate", m.bid, m.ev(2), m.ev(0), rate)


@pytest.mark.parametrize("above", [False, True])  # the minimum above or below the bid's cost
@pytest.mark.parametrize(("delta", "ok"), [(-1, False), (0, True), (1, False)])
def test_bid_collateral_must_equal_the_max_of_its_cost_and_the_minimum(m, above, delta, ok):
    rate, amount = 123_456_789_012_345, 7_777
    price = cost(rate, amount)
    minimum = price + 12_345 if above else price - 12_345
    m.start(m.ev(0), amount, BIDDING, rate + 1, deposit=cost(rate + 1, amount) + 20_000, min_collateral=minimum)
    collateral = max(price, minimum) + delta
    if ok:
        m.bid(m.ev(1), m.ev(0), rate, collateral)
        assert m.chain_auction(m.ev(0))[7] == (minimum if above else price)
    else:
        refused("collateral must be max(rate x amount, minimum)", m.bid, m.ev(1), m.ev(0), rate, collateral)
    refused("collateral must be max(rate x amount, minimum)", m.bid, m.ev(2), m.ev(0), rate - 1, price)


def test_an_outbid_minimum_collateral_is_withdrawable_in_full(m):
    floor = cost(START_RATE, AMOUNT) // 2
    m.start(m.ev(0), min_collateral=floor)
    m.bid(m.ev(1), m.ev(0), RATE)  # cost(RATE, AMOUNT) > floor
    m.bid(m.ev(2), m.ev(0), 2)  # the floor
    m.bid(m.ev(3), m.ev(0), 1)  # the floor again
    assert m.c.pending_returns(m.ev(1)) == cost(RATE, AMOUNT)
    assert m.withdraw(m.ev(2)) == floor
    assert m.chain_auction(m.ev(0))[7] == floor


# ---- end_auction ------------------------------------------------------------------------------------------------


def test_end_publishes_the_access_token(m):
    m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0))
    m.travel_to(m.now + BIDDING + 123)
    token = m.end(m.ev(0))
    assert token == access_token(m.ev(0), m.ev(1), m.now, VALIDITY)
    assert bytes(m.c.token(m.ev(0))) == token
    assert m.chain_auction(m.ev(0))[2] == m.now  # ended_at
    assert m.c.token(m.ev(1)) == ZERO32


def test_end_before_the_closing_time_refused(m):
    a = m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0))
    m.travel_to(a.closing_time - 1)
    refused("bidding still open", m.end, m.ev(0))
    m.travel_to(a.closing_time)
    m.end(m.ev(0))


@pytest.mark.parametrize("who", ["provider", "stranger", "outbid"])
def test_end_by_anyone_from_closing_time_plus_grace(m, who):
    a = m.start(m.ev(0))
    m.bid(m.ev(2), m.ev(0), RATE)
    m.bid(m.ev(1), m.ev(0), RATE - 1)
    sender = {"provider": m.ev(1), "stranger": m.new_account().address, "outbid": m.ev(2)}[who]
    m.travel_to(a.closing_time)
    refused("consumer's grace not over", m.end, m.ev(0), sender)
    m.travel_to(a.closing_time + GRACE - 1)
    refused("consumer's grace not over", m.end, m.ev(0), sender)
    m.travel_to(a.closing_time + GRACE)
    token = m.end(m.ev(0), sender)  # Market.end checks the event and the token
    assert token == access_token(m.ev(0), m.ev(1), m.now, VALIDITY)  # the consumer's and winner's, not the caller's
    assert bytes(m.c.token(m.ev(0))) == token and m.c.token(sender) == ZERO32
    refused("auction already ended", m.end, m.ev(0))
    refused("auction already ended", m.end, m.ev(0), sender)


def test_end_by_another_before_the_closing_time_says_bidding_is_open(m):
    a = m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0))
    m.travel_to(a.closing_time - 1)
    refused("bidding still open", m.end, m.ev(0), m.ev(1))
    refused("no open auction for this consumer", m.end, m.ev(3), m.ev(1))


def test_end_by_another_without_bids_credits_the_consumer(m):
    a = m.start(m.ev(0), deposit=DEPOSIT)
    stranger = m.new_account().address
    m.travel_to(a.closing_time + GRACE)
    assert m.end(m.ev(0), stranger) is None
    assert m.c.pending_returns(m.ev(0)) == DEPOSIT and m.c.pending_returns(stranger) == 0
    refused("nothing to withdraw", m.withdraw, stranger)
    assert m.withdraw(m.ev(0)) == DEPOSIT


def test_the_consumer_may_still_end_after_its_grace(m):
    a = m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0))
    m.travel_to(a.closing_time + GRACE + 5 * DAY)
    assert m.end(m.ev(0)) == access_token(m.ev(0), m.ev(1), m.now, VALIDITY)


def test_end_twice_refused(m):
    m.trade()
    refused("auction already ended", m.end, m.ev(0))


def test_end_without_an_auction_refused(m):
    refused("no open auction for this consumer", m.end, m.ev(0))


def test_end_without_bids_returns_the_deposit_to_withdraw(m):
    deposit = cost(START_RATE, AMOUNT) + 5
    a = m.start(m.ev(0), deposit=deposit)
    m.travel_to(a.closing_time)
    assert m.end(m.ev(0)) is None  # the AuctionEnded token is empty (checked in Market.end)
    assert m.chain_auction(m.ev(0)) == Auction().as_tuple()
    assert m.c.pending_returns(m.ev(0)) == deposit
    refused("no open auction for this consumer", m.end, m.ev(0))
    assert m.withdraw(m.ev(0)) == deposit
    assert boa.env.get_balance(m.ev(0)) == FUNDS
    m.start(m.ev(0))  # free to ask again


# ---- post_receipt ----------------------------------------------------------------------------------------------


def test_post_receipt_by_either_party(m):
    m.trade()
    m.post(m.ev(1), m.ev(0), m.receipt(m.evs[0], 1_000))
    m.post(m.ev(0), m.ev(0), m.receipt(m.evs[0], 2_500))
    m.post(m.ev(1), m.ev(0), m.receipt(m.evs[0], AMOUNT))
    assert m.chain_auction(m.ev(0))[5] == AMOUNT


def test_post_receipt_by_a_stranger_refused(m):
    m.trade()
    refused("caller is not a party", m.post, m.ev(2), m.ev(0), m.receipt(m.evs[0], 1_000))


def test_post_receipt_before_the_end_refused(m):
    m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0))
    refused("no ended trade for this consumer", m.post, m.ev(1), m.ev(0), m.receipt(m.evs[0], 1_000))
    refused("no ended trade for this consumer", m.post, m.ev(1), m.ev(2), m.receipt(m.evs[2], 1_000))


def test_post_forged_receipt_refused(m):
    m.trade()
    forged = m.receipt(m.evs[0], 1_000, key=m.evs[1].key)  # the provider signs for the consumer
    refused("receipt not signed by the consumer", m.post, m.ev(1), m.ev(0), forged)


def test_post_receipt_for_another_contract_refused(m):
    m.trade()
    other = m.receipt(m.evs[0], 1_000, contract=str(boa.env.generate_address()))
    refused("receipt not signed by the consumer", m.post, m.ev(1), m.ev(0), other)


def test_post_receipt_above_the_amount_refused(m):
    m.trade()
    refused("receipt above the amount", m.post, m.ev(1), m.ev(0), m.receipt(m.evs[0], AMOUNT + 1))


@pytest.mark.parametrize(("second", "ok"), [(2_999, False), (3_000, False), (3_001, True)])
def test_post_receipt_must_be_above_the_one_posted(m, second, ok):
    m.trade()
    m.post(m.ev(1), m.ev(0), m.receipt(m.evs[0], 3_000))
    if ok:
        m.post(m.ev(1), m.ev(0), m.receipt(m.evs[0], second))
    else:
        refused("receipt not above the one posted", m.post, m.ev(1), m.ev(0), m.receipt(m.evs[0], second))


def test_post_receipt_of_0_refused(m):
    m.trade()
    refused("receipt not above the one posted", m.post, m.ev(1), m.ev(0), m.receipt(m.evs[0], 0))


def test_stale_receipt_of_an_earlier_trade_refused(m):
    first = m.trade()
    stale = m.receipt(m.evs[0], 8_000)
    m.settle(m.ev(1), m.ev(0), m.receipt(m.evs[0], 2_000))
    m.travel_to(m.now + 1)
    second = m.trade()  # the same two EVs, ended later: another token
    assert second != first and stale.token == first
    refused("receipt not signed by the consumer", m.post, m.ev(1), m.ev(0), stale)
    refused("receipt not signed by the consumer", m.settle, m.ev(1), m.ev(0), stale)
    m.post(m.ev(1), m.ev(0), m.receipt(m.evs[0], 8_000))  # the same amount for this trade is fine


# ---- settle ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("minimum", [0, None])  # the paper's collateral (cost), the default (the deposit)
@pytest.mark.parametrize("delivered", [0, 1, 3_333, AMOUNT])
def test_provider_settle_moves_the_money(m, delivered, minimum):
    consumer, provider = m.ev(0), m.ev(1)
    deposit = cost(START_RATE, AMOUNT) + 1_234
    m.trade(deposit=deposit, min_collateral=minimum)
    collateral = cost(RATE, AMOUNT) if minimum == 0 else deposit
    c0, p0 = boa.env.get_balance(consumer), boa.env.get_balance(provider)
    assert (c0, p0) == (FUNDS - deposit, FUNDS - collateral)
    closed = m.settle(provider, consumer, m.receipt(m.evs[0], delivered))
    price = cost(RATE, delivered)
    forfeit = collateral * (AMOUNT - delivered) // AMOUNT  # the collateral of the energy not delivered
    assert closed == Closed(
        consumer.lower(), provider.lower(), delivered, price + collateral - forfeit, deposit - price + forfeit, False
    )
    assert boa.env.get_balance(provider) - p0 == price + collateral - forfeit  # its own send was the collateral
    assert boa.env.get_balance(provider) == FUNDS + price - forfeit
    assert boa.env.get_balance(consumer) - c0 == deposit - price + forfeit
    assert boa.env.get_balance(consumer) == FUNDS - price + forfeit
    assert boa.env.get_balance(m.address) == 0
    assert m.chain_auction(consumer) == Auction().as_tuple()


@pytest.mark.parametrize(("late", "forfeits"), [(GRACE - 1, True), (GRACE, False), (GRACE + DAY, False)])
def test_forfeiture_only_if_the_consumer_ended_within_its_grace(m, late, forfeits):
    """The consumer ends at closing + `late`: within its grace undelivered energy costs the provider its share of
    the collateral; from closing + GRACE anyone could have ended it, and the paper's rule applies."""
    a = m.start(m.ev(0), min_collateral=None)
    m.bid(m.ev(1), m.ev(0), RATE)
    m.travel_to(a.closing_time + late)
    m.end(m.ev(0))
    closed = m.settle(m.ev(1), m.ev(0), m.receipt(m.evs[0], 2_500))
    collateral = cost(START_RATE, AMOUNT)  # the default minimum: the deposit
    share = collateral * 7_500 // AMOUNT if forfeits else 0
    assert (closed.to_provider_wei, closed.to_consumer_wei) == (
        cost(RATE, 2_500) + collateral - share,
        cost(START_RATE, AMOUNT) - cost(RATE, 2_500) + share,
    )


@pytest.mark.parametrize(
    ("amount", "collateral", "delivered"),
    [
        (7_777, 1, 7_776),
        (7_777, 3, 1),
        (3, 2**80 - 1, 1),
        (2**64 - 1, 2**80 - 1, 1),
        (2**64 - 1, 2**80 - 1, 2**64 - 2),
        (1, 5, 0),
        (1, 5, 1),
        (999, 10**18 + 7, 500),
    ],
)
def test_undelivered_share_rounds_down_and_keeps_the_invariant(m, amount, collateral, delivered):
    """The share is collateral x (amount - delivered) // amount: rounded down (the provider keeps the remainder
    of a wei), never above the collateral; what the trade pays out is exactly what it held (Market.check)."""
    m.refund(m.ev(0), 2**81)
    m.refund(m.ev(1), 2**81)
    deposit = max(collateral, cost(2, amount))
    a = m.start(m.ev(0), amount_wh=amount, start_rate=2, deposit=deposit, min_collateral=collateral)
    m.bid(m.ev(1), m.ev(0), 1)
    collateral = max(collateral, cost(1, amount))
    assert m.chain_auction(m.ev(0))[7] == collateral
    m.travel_to(a.closing_time)
    m.end(m.ev(0))
    closed = m.settle(m.ev(1), m.ev(0), m.receipt(m.evs[0], delivered))
    share = undelivered_share(collateral, amount, delivered)
    assert 0 <= share <= collateral and share == collateral * (amount - delivered) // amount
    assert closed.to_provider_wei == cost(1, delivered) + collateral - share
    assert closed.to_provider_wei + closed.to_consumer_wei == deposit + collateral
    assert boa.env.get_balance(m.address) == 0


def test_consumer_settles_early_only_with_a_receipt_for_the_whole_amount(m):
    m.trade()
    ended = m.model.auctions[m.ev(0).lower()].ended_at
    m.travel_to(ended + VALIDITY - 1)
    refused(
        "the consumer settles after the token's validity", m.settle, m.ev(0), m.ev(0), m.receipt(m.evs[0], AMOUNT - 1)
    )
    closed = m.settle(m.ev(0), m.ev(0), m.receipt(m.evs[0], AMOUNT))
    assert closed.to_consumer_wei == cost(START_RATE, AMOUNT) - cost(RATE, AMOUNT)


def test_consumer_settles_a_partial_receipt_at_exactly_the_end_of_validity(m):
    m.trade()
    ended = m.model.auctions[m.ev(0).lower()].ended_at
    m.travel_to(ended + VALIDITY)
    closed = m.settle(m.ev(0), m.ev(0), m.receipt(m.evs[0], 4_000))
    assert closed.delivered_wh == 4_000


@pytest.mark.parametrize(("given", "used"), [(1_000, 6_000), (6_000, 6_000), (9_000, 9_000), (0, 6_000)])
def test_settle_uses_the_larger_of_given_and_posted(m, given, used):
    m.trade()
    m.post(m.ev(0), m.ev(0), m.receipt(m.evs[0], 6_000))
    assert m.settle(m.ev(1), m.ev(0), m.receipt(m.evs[0], given)).delivered_wh == used


def test_settle_by_a_stranger_refused(m):
    m.trade()
    refused("caller is not a party", m.settle, m.ev(2), m.ev(0), m.receipt(m.evs[0], 1_000))


def test_settle_before_the_end_refused(m):
    m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0))
    refused("no ended trade for this consumer", m.settle, m.ev(1), m.ev(0), m.receipt(m.evs[0], 0))


def test_settle_forged_receipt_refused(m):
    m.trade()
    forged = m.receipt(m.evs[0], AMOUNT, key=m.evs[2].key)
    refused("receipt not signed by the consumer", m.settle, m.ev(1), m.ev(0), forged)
    refused("receipt not signed by the consumer", m.settle, m.ev(0), m.ev(0), forged)


def test_settle_receipt_above_the_amount_refused(m):
    m.trade()
    refused("receipt above the amount", m.settle, m.ev(1), m.ev(0), m.receipt(m.evs[0], AMOUNT + 1))


def test_settle_twice_refused(m):
    m.trade()
    m.settle(m.ev(1), m.ev(0), m.receipt(m.evs[0], 10))
    refused("no ended trade for this consumer", m.settle, m.ev(1), m.ev(0), m.receipt(m.evs[0], 10, token=ZERO32))


def test_settle_pushes_to_a_refusing_provider_into_pending_returns(m):
    """The consumer settles (the caller, paid directly); the provider is a contract whose receive needs more than
    the 2,300-gas push: its payout is credited to pending_returns and it withdraws it with full gas."""
    provider = str(boa.loads(REFUSING_SRC).address)
    m.track(provider, FUNDS)
    m.model.refusing.add(provider.lower())
    m.add_ev(provider)
    a = m.start(m.ev(0))
    m.bid(provider, m.ev(0))
    m.travel_to(a.closing_time)
    m.end(m.ev(0))
    m.travel_to(m.now + VALIDITY)
    closed = m.settle(m.ev(0), m.ev(0), m.receipt(m.evs[0], 2_000))
    kept = cost(RATE, AMOUNT) - cost(RATE, AMOUNT) * 8_000 // AMOUNT  # the collateral less the undelivered share
    assert m.c.pending_returns(provider) == closed.to_provider_wei == cost(RATE, 2_000) + kept
    assert m.withdraw(provider) == closed.to_provider_wei
    assert boa.env.get_balance(provider) == FUNDS + cost(RATE, 2_000) + kept - cost(RATE, AMOUNT)


# ---- expire -----------------------------------------------------------------------------------------------------


def test_expire_at_exactly_validity_plus_grace_by_a_stranger(m):
    m.trade()
    m.post(m.ev(1), m.ev(0), m.receipt(m.evs[0], 7_000))
    ended = m.model.auctions[m.ev(0).lower()].ended_at
    stranger = m.new_account().address
    m.travel_to(ended + VALIDITY + GRACE - 1)
    refused("trade not expired yet", m.expire, stranger, m.ev(0))
    m.travel_to(ended + VALIDITY + GRACE)
    closed = m.expire(stranger, m.ev(0))
    share = cost(RATE, AMOUNT) * 3_000 // AMOUNT
    assert closed == Closed(
        m.ev(0).lower(),
        m.ev(1).lower(),
        7_000,
        cost(RATE, 7_000) + cost(RATE, AMOUNT) - share,
        cost(START_RATE, AMOUNT) - cost(RATE, 7_000) + share,
        True,
    )
    assert boa.env.get_balance(stranger) == FUNDS


def test_expire_without_a_receipt_gives_the_collateral_to_the_consumer(m):
    m.trade()
    m.travel_to(m.now + VALIDITY + GRACE)
    closed = m.expire(m.ev(3), m.ev(0))
    assert (closed.delivered_wh, closed.to_provider_wei, closed.to_consumer_wei) == (
        0,
        0,
        cost(START_RATE, AMOUNT) + cost(RATE, AMOUNT),
    )
    assert boa.env.get_balance(m.ev(0)) == FUNDS + cost(RATE, AMOUNT)
    assert boa.env.get_balance(m.ev(1)) == FUNDS - cost(RATE, AMOUNT)


def test_expire_of_a_trade_ended_by_another_returns_collateral_and_deposit(m):
    a = m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0))
    m.travel_to(a.closing_time + GRACE)
    m.end(m.ev(0), m.ev(1))  # the consumer never ended it: its winner did
    m.travel_to(m.now + VALIDITY + GRACE)
    closed = m.expire(m.ev(3), m.ev(0))
    assert (closed.delivered_wh, closed.to_provider_wei, closed.to_consumer_wei) == (
        0,
        cost(RATE, AMOUNT),
        cost(START_RATE, AMOUNT),
    )
    assert boa.env.get_balance(m.ev(0)) == boa.env.get_balance(m.ev(1)) == FUNDS


def test_expire_before_the_end_refused(m):
    a = m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0))
    m.travel_to(a.closing_time + VALIDITY + GRACE)
    refused("no ended trade for this consumer", m.expire, m.ev(2), m.ev(0))
    refused("no ended trade for this consumer", m.expire, m.ev(2), m.ev(3))


def test_expire_with_the_least_grace():
    with boa.env.anchor():
        m = Market(validity_s=60, grace_s=60)
        m.trade()
        m.travel_to(m.now + 119)
        refused("trade not expired yet", m.expire, m.ev(2), m.ev(0))
        m.travel_to(m.now + 1)
        m.expire(m.ev(2), m.ev(0))


# ---- withdraw -----------------------------------------------------------------------------------------------------


def test_withdraw_nothing_refused(m):
    refused("nothing to withdraw", m.withdraw, m.ev(0))
    refused("nothing to withdraw", m.withdraw, m.new_account().address)


def test_double_withdraw_pays_once(m):
    m.start(m.ev(0))
    m.bid(m.ev(1), m.ev(0), RATE)
    m.bid(m.ev(2), m.ev(0), RATE - 1)
    assert m.withdraw(m.ev(1)) == cost(RATE, AMOUNT)
    refused("nothing to withdraw", m.withdraw, m.ev(1))
    assert boa.env.get_balance(m.ev(1)) == FUNDS


# ---- views --------------------------------------------------------------------------------------------------------


def test_views_of_a_consumer_without_an_auction_are_empty(m):
    assert m.chain_auction(m.ev(0)) == Auction().as_tuple()
    assert bytes(m.c.token(m.ev(0))) == ZERO32
    assert m.c.pending_returns(m.ev(0)) == 0


@pytest.mark.parametrize(
    ("rate", "energy"),
    [
        (0, 0),
        (1, 999),
        (1, 1_000),
        (999, 1),
        (START_RATE, AMOUNT),
        (123_456_789_012_345, 7_777),
        (2**96 - 1, 2**64 - 1),
    ],
)
def test_cost_view_agrees_with_the_model(m, rate, energy):
    assert m.c.cost(rate, energy) == cost(rate, energy)
