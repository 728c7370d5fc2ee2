"""The trade escrow's functions one by one against its twin (tests/escrow/harness.py): each external function's
success and each of its refusals in the contract's order, the boundary tables (x passes, x + 1 reverts) of the
amounts, the deadline and the intervals, the signature forms wallets produce, the energy lock's life, and the trade
id against eth_account's EIP-712 encoding."""

from __future__ import annotations

import boa
import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from gridchain.escrow.model import ETH, MAX_INTERVALS, ZERO
from tests.committee.signatures import FORMS
from tests.escrow.harness import AMOUNT, Escrow, address, key, meter, refused

B, S, A = 0, 1, 2  # pool keys of the default buyer, seller and arbiter
STRANGER = 5


@pytest.fixture
def e():
    with boa.env.anchor():
        yield Escrow()


def both(e, t, amount, signers=(S, A)):
    return [e.resolution(i, t, amount) for i in signers]


# ---- open ------------------------------------------------------------------------------------------------------


def test_open_eth_locks_the_intervals_and_holds_the_amount(e):
    t = e.terms(intervals=5)
    trade = e.open(address(B), t)
    assert e.c.status(trade) == 1 and e.c.held_eth() == AMOUNT
    assert [e.c.is_locked(t.meter, t.first_interval + i) for i in range(-1, 6)] == [False] + [True] * 5 + [False]
    assert boa.env.get_balance(e.address) == AMOUNT


def test_open_coin_pulls_the_coins(e):
    t = e.terms(token=e.coin_address())
    e.open(address(B), t)
    assert e.c.held_coin() == AMOUNT and e.c.held_eth() == 0


@pytest.mark.parametrize(
    "change, reason",
    [
        (dict(sender=STRANGER), "caller is not the buyer"),
        (dict(token="0x" + "11" * 20), "token is neither ETH nor the coin"),
        (dict(amount=0, value=0), "amount is zero"),
        (dict(value=AMOUNT - 1), "value is not the amount"),
        (dict(token="coin", value=1), "value sent with a coin trade"),
        (dict(deadline=0), "deadline passed"),
        (dict(intervals=0), "intervals out of range 1 .. 96"),
        (dict(intervals=MAX_INTERVALS + 1), "intervals out of range 1 .. 96"),
        (dict(first_interval=256 * 7000 + 255, intervals=2), "intervals cross a bitmap word"),
        (dict(seller=ZERO), "a role is the zero address"),
        (dict(arbiter=ZERO), "a role is the zero address"),
        (dict(seller=B), "roles not distinct"),
        (dict(arbiter=B), "roles not distinct"),
        (dict(arbiter=S), "roles not distinct"),
        (dict(meter_j="unregistered"), "meter not registered"),
        (dict(offer_by=STRANGER), "offer not signed by the meter's owner"),
    ],
)
def test_open_refusals_in_order(e, change, reason):
    change = dict(change)
    sender = address(change.pop("sender", B))
    value = change.pop("value", None)
    offer_by = change.pop("offer_by", None)
    if change.get("token") == "coin":
        change["token"] = e.coin_address()
    unregistered = change.get("meter_j") == "unregistered"
    if unregistered:
        del change["meter_j"]
    t = e.terms(**change)
    if unregistered:
        t = type(t)(**{**t.__dict__, "meter": meter(99)})
        offer = e.offer(type(t)(**{**t.__dict__, "meter": meter(0)}))
    else:
        offer = e.offer(t, offer_by)
    refused(f"trade_escrow: {reason}", e.open, sender, t, offer, value)


def test_open_twice_is_refused_and_a_second_trade_on_locked_energy_too(e):
    t = e.terms(intervals=4)
    e.open(address(B), t)
    refused("trade_escrow: trade used before", e.open, address(B), t)
    overlap = e.terms(first_interval=t.first_interval + 3, salt=1)
    refused("trade_escrow: energy already locked", e.open, address(B), overlap)
    beside = e.terms(first_interval=t.first_interval + 4, salt=1)
    e.open(address(B), beside)
    other_meter = e.terms(meter_j=1, salt=2)  # the same intervals of another meter are free
    e.open(address(B), other_meter)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_offer_signature_forms(e, form):
    t = e.terms()
    offer = FORMS[form](e.offer(t))
    reasons = {
        "high_s": "trade_escrow: signature s in the upper half (malleable, EIP-2)",
        "high_s_compact": "trade_escrow: signature s in the upper half (malleable, EIP-2)",
        "short": "trade_escrow: signature is not 64 or 65 bytes",
        "empty": "trade_escrow: signature is not 64 or 65 bytes",
        "bad_v": "trade_escrow: signature v is not 0, 1, 27 or 28",
        "r_zero": "ecdsa: invalid signature",
        "s_zero": "ecdsa: invalid signature",
        "r_off_curve": "ecdsa: invalid signature",
        "r_above_n": "ecdsa: invalid signature",
    }
    if form in reasons:
        refused(reasons[form], e.open, address(B), t, offer)
    else:
        e.open(address(B), t, offer)


def test_trade_id_is_eth_accounts_eip712_digest(e):
    t = e.terms(token=e.coin_address(), salt=7)
    types = {
        "Terms": [{"name": name, "type": kind} for kind, name in type(t).MEMBERS],
    }
    message = {name: getattr(t, {"firstInterval": "first_interval", "energyWh": "energy_wh"}.get(name, name))
               for _, name in type(t).MEMBERS}  # fmt: skip
    domain = e.model.domain().as_json()
    signable = encode_typed_data(domain_data=domain, message_types=types, message_data=message)
    expected = keccak(b"\x19" + signable.version + signable.header + signable.body)
    assert bytes(e.c.trade_id(t.as_tuple())) == expected == e.model.trade_id(t)


# ---- resolve ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("signers", [(B, S), (S, A), (B, A), (A, B), (B, S, A)])
def test_release_by_any_two_roles_pays_the_seller_and_keeps_the_energy_locked(e, signers):
    t = e.terms()
    e.open(address(B), t)
    bits = {B: 1, S: 2, A: 4}
    assert e.resolve(address(STRANGER), t, AMOUNT, both(e, t, AMOUNT, signers)) == sum(bits[i] for i in signers)
    assert e.c.is_locked(t.meter, t.first_interval) and e.c.held_eth() == 0


def test_revocation_by_buyer_and_seller_refunds_and_frees_the_energy(e):
    t = e.terms()
    e.open(address(B), t)
    e.resolve(address(B), t, 0, both(e, t, 0, (B, S)))
    assert not e.c.is_locked(t.meter, t.first_interval)
    e.open(address(B), e.terms(salt=1))  # the intervals can be sold again


def test_dispute_split_by_the_arbiter_and_a_party(e):
    t = e.terms(token=e.coin_address())
    e.open(address(B), t)
    e.resolve(address(A), t, AMOUNT // 3, both(e, t, AMOUNT // 3, (A, B)))
    assert e.c.is_locked(t.meter, t.first_interval)


def test_resolve_refusals(e):
    t = e.terms()
    refused("trade_escrow: trade not open", e.resolve, address(B), t, 0, both(e, t, 0))
    e.open(address(B), t)
    refused(
        "trade_escrow: seller amount above the amount", e.resolve, address(B), t, AMOUNT + 1, both(e, t, AMOUNT + 1)
    )
    refused("trade_escrow: fewer than two roles", e.resolve, address(B), t, 1, both(e, t, 1)[:1])
    refused("trade_escrow: fewer than two roles", e.resolve, address(B), t, 1, [])
    refused("trade_escrow: signer is not a role", e.resolve, address(B), t, 1, both(e, t, 1, (S, STRANGER)))
    refused("trade_escrow: one role signed twice", e.resolve, address(B), t, 1, both(e, t, 1, (S, S)))
    compact = FORMS["compact"](e.resolution(S, t, 1))
    refused("trade_escrow: one role signed twice", e.resolve, address(B), t, 1, [compact, e.resolution(S, t, 1)])
    e.resolve(address(B), t, 1, [compact, FORMS["v01"](e.resolution(A, t, 1))])
    refused("trade_escrow: trade not open", e.resolve, address(B), t, 1, both(e, t, 1))


# ---- approve ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("approver, signer", [(A, S), (S, B), (B, A), (A, B)])
def test_an_approval_and_one_signature_settle(e, approver, signer):
    t = e.terms()
    e.open(address(B), t)
    amount = AMOUNT // 3
    assert e.approve(address(approver), t, amount) == 1 << approver
    assert e.c.approvals(e.model.resolution_hash(e.model.trade_id(t), amount)) == 1 << approver
    assert e.resolve(address(STRANGER), t, amount, both(e, t, amount, (signer,))) == (1 << approver) | (1 << signer)
    assert e.c.status(e.model.trade_id(t)) == 2


def test_two_approvals_settle_with_no_signature(e):
    t = e.terms(token=e.coin_address())
    e.open(address(B), t)
    e.approve(address(A), t, 0)
    refused("trade_escrow: fewer than two roles", e.resolve, address(STRANGER), t, 0, [])
    e.approve(address(A), t, 0)  # again: one role still
    refused("trade_escrow: fewer than two roles", e.resolve, address(STRANGER), t, 0, [])
    e.approve(address(B), t, 0)
    assert e.resolve(address(STRANGER), t, 0, []) == 0b101
    assert not e.c.is_locked(t.meter, t.first_interval)


def test_two_signatures_do_not_read_the_approvals(e):
    """Signatures of two roles settle whatever was approved: the approvals word is read only below two roles."""
    t = e.terms()
    e.open(address(B), t)
    e.approve(address(B), t, AMOUNT)
    assert e.resolve(address(STRANGER), t, AMOUNT, both(e, t, AMOUNT)) == 0b110


def test_approve_refusals_in_order(e):
    t = e.terms()
    refused("trade_escrow: caller is not a role", e.approve, address(STRANGER), t, AMOUNT + 1)
    refused("trade_escrow: trade not open", e.approve, address(A), t, AMOUNT + 1)
    e.open(address(B), t)
    refused("trade_escrow: caller is not a role", e.approve, address(STRANGER), t, 0)
    refused("trade_escrow: seller amount above the amount", e.approve, address(A), t, AMOUNT + 1)
    e.approve(address(A), t, AMOUNT)
    e.resolve(address(S), t, AMOUNT, both(e, t, AMOUNT, (S,)))
    refused("trade_escrow: trade not open", e.approve, address(B), t, AMOUNT)


def test_resolve_after_the_deadline_is_allowed(e):
    t = e.terms()
    e.open(address(B), t)
    e.travel_to(t.deadline + 10)
    e.resolve(address(B), t, AMOUNT, both(e, t, AMOUNT))


# ---- claim -----------------------------------------------------------------------------------------------------


def test_claim_pays_the_voucher_and_refunds_the_rest(e):
    t = e.terms()
    e.open(address(B), t)
    e.claim(address(S), t, AMOUNT // 4, e.voucher(B, t, AMOUNT // 4))
    assert e.c.is_locked(t.meter, t.first_interval)
    refused("trade_escrow: trade not open", e.claim, address(S), t, AMOUNT // 2, e.voucher(B, t, AMOUNT // 2))


def test_claim_of_zero_frees_the_energy(e):
    t = e.terms(token=e.coin_address())
    e.open(address(B), t)
    e.claim(address(S), t, 0, e.voucher(B, t, 0))
    assert not e.c.is_locked(t.meter, t.first_interval)


def test_claim_refusals(e):
    t = e.terms()
    refused("trade_escrow: caller is not the seller", e.claim, address(B), t, 1, e.voucher(B, t, 1))
    refused("trade_escrow: trade not open", e.claim, address(S), t, 1, e.voucher(B, t, 1))
    e.open(address(B), t)
    refused(
        "trade_escrow: cumulative above the amount", e.claim, address(S), t, AMOUNT + 1, e.voucher(B, t, AMOUNT + 1)
    )
    refused("trade_escrow: voucher not signed by the buyer", e.claim, address(S), t, 1, e.voucher(S, t, 1))
    refused("trade_escrow: voucher not signed by the buyer", e.claim, address(S), t, 2, e.voucher(B, t, 1))
    e.travel_to(t.deadline)
    refused("trade_escrow: deadline passed", e.claim, address(S), t, 1, e.voucher(B, t, 1))


# ---- refund and withdraw ---------------------------------------------------------------------------------------


def test_refund_after_the_deadline_by_anyone(e):
    t = e.terms()
    refused("trade_escrow: trade not open", e.refund, address(STRANGER), t)
    e.open(address(B), t)
    refused("trade_escrow: deadline not reached", e.refund, address(STRANGER), t)
    e.travel_to(t.deadline)
    e.refund(address(STRANGER), t)
    assert not e.c.is_locked(t.meter, t.first_interval)
    refused("trade_escrow: trade not open", e.refund, address(STRANGER), t)


def test_withdraw_refusals(e):
    refused("trade_escrow: no credit", e.withdraw, address(B), address(B))


# ---- boundary tables: x passes, x + 1 reverts ----------------------------------------------------------------


@pytest.mark.parametrize("token", ["eth", "coin"])
def test_boundary_seller_amount_and_cumulative(e, token):
    token = ETH if token == "eth" else e.coin_address()
    t1, t2 = (
        e.terms(token=token, amount=1000),
        e.terms(token=token, amount=1000, first_interval=None, salt=1, meter_j=1),
    )
    e.open(address(B), t1)
    e.open(address(B), t2)
    refused("trade_escrow: seller amount above the amount", e.resolve, address(B), t1, 1001, both(e, t1, 1001))
    e.resolve(address(B), t1, 1000, both(e, t1, 1000))
    refused("trade_escrow: cumulative above the amount", e.claim, address(S), t2, 1001, e.voucher(B, t2, 1001))
    e.claim(address(S), t2, 1000, e.voucher(B, t2, 1000))


def test_boundary_amount_and_value(e):
    refused("trade_escrow: amount is zero", e.open, address(B), e.terms(amount=0), None, 0)
    e.open(address(B), e.terms(amount=1), None, 1)
    refused("trade_escrow: value is not the amount", e.open, address(B), e.terms(amount=5, salt=1, meter_j=1), None, 6)
    e.open(address(B), e.terms(amount=5, salt=1, meter_j=1), None, 5)


def test_boundary_open_deadline(e):
    now = e.now
    refused("trade_escrow: deadline passed", e.open, address(B), e.terms(deadline=now))
    e.open(address(B), e.terms(deadline=now + 1))


def test_boundary_claim_and_refund_deadline(e):
    t, u = e.terms(), e.terms(meter_j=1)
    e.open(address(B), t)
    e.open(address(B), u)
    e.travel_to(t.deadline - 1)
    refused("trade_escrow: deadline not reached", e.refund, address(B), t)
    e.claim(address(S), u, 1, e.voucher(B, u, 1))  # at deadline - 1
    e.travel_to(t.deadline)
    refused("trade_escrow: deadline passed", e.claim, address(S), t, 1, e.voucher(B, t, 1))
    e.refund(address(B), t)


def test_boundary_intervals(e):
    word = (e.now // 900 // 256 + 1) * 256
    e.open(address(B), e.terms(first_interval=word, intervals=MAX_INTERVALS))
    refused(
        "trade_escrow: intervals out of range 1 .. 96",
        e.open,
        address(B),
        e.terms(meter_j=1, intervals=MAX_INTERVALS + 1),
    )
    e.open(address(B), e.terms(meter_j=1, first_interval=word + 256 - 96, intervals=96))  # ends at the word's end
    refused(
        "trade_escrow: intervals cross a bitmap word",
        e.open, address(B), e.terms(meter_j=2, first_interval=word + 256 - 95, intervals=96),
    )  # fmt: skip
    e.open(address(B), e.terms(meter_j=2, first_interval=word + 255, intervals=1))
    refused("trade_escrow: intervals out of range 1 .. 96", e.open, address(B), e.terms(meter_j=2, salt=3, intervals=0))


# ---- coin balances ---------------------------------------------------------------------------------------------


def test_a_deposit_funds_a_fresh_address_that_opens_from_its_balance(e):
    """A relayer pays for a fresh buyer that holds no coins and allowed nothing: its trade is paid from the balance,
    no coin moves at the open, and the settlement pays by transfer as before (the rest to the buyer's wallet)."""
    fresh = e.new_account(0).address
    e.deposit(address(STRANGER), fresh, 3 * AMOUNT)
    assert e.c.coin_balance(fresh) == 3 * AMOUNT and e.c.held_coin() == 3 * AMOUNT
    t = e.terms(buyer=fresh, token=e.coin_address(), amount=2 * AMOUNT)
    e.open(fresh, t)
    assert e.c.coin_balance(fresh) == AMOUNT and e.c.held_coin() == 3 * AMOUNT
    assert e.coin.balanceOf(fresh) == 0 and e.coin.balanceOf(e.c.address) == 3 * AMOUNT
    e.resolve(address(A), t, AMOUNT // 2, both(e, t, AMOUNT // 2, (S, A)))
    assert e.coin.balanceOf(fresh) == 2 * AMOUNT - AMOUNT // 2 and e.c.coin_balance(fresh) == AMOUNT
    assert e.c.held_coin() == AMOUNT


def test_open_from_the_balance_is_all_or_nothing(e):
    """A balance one short of the amount is not touched: the whole amount comes by transferFrom (the old path)."""
    coin = e.coin_address()
    e.deposit(address(B), address(B), AMOUNT - 1)
    before = e.coin.balanceOf(address(B))
    e.open(address(B), e.terms(token=coin))
    assert e.c.coin_balance(address(B)) == AMOUNT - 1 and e.coin.balanceOf(address(B)) == before - AMOUNT
    e.deposit(address(B), address(B), 1)  # now exactly the amount: spent to zero
    e.open(address(B), e.terms(token=coin, meter_j=1))
    assert e.c.coin_balance(address(B)) == 0 and e.coin.balanceOf(address(B)) == before - AMOUNT - 1
    assert e.c.held_coin() == 2 * AMOUNT


def test_an_eth_trade_leaves_the_coin_balance(e):
    e.deposit(address(B), address(B), AMOUNT)
    e.open(address(B), e.terms())
    assert e.c.coin_balance(address(B)) == AMOUNT and e.c.held_eth() == AMOUNT


def test_open_from_the_balance_keeps_the_refusals(e):
    e.deposit(address(B), address(B), AMOUNT)
    coin = e.coin_address()
    refused("trade_escrow: value sent with a coin trade", e.open, address(B), e.terms(token=coin), None, 1)
    refused("trade_escrow: caller is not the buyer", e.open, address(STRANGER), e.terms(token=coin))
    t = e.terms(token=coin)
    e.open(address(B), t)
    refused("trade_escrow: trade used before", e.open, address(B), t)
    assert e.c.coin_balance(address(B)) == 0


@pytest.mark.parametrize(
    "account, amount, reason",
    [
        (ZERO, AMOUNT, "account is the zero address"),
        (ZERO, 0, "account is the zero address"),
        (B, 0, "amount is zero"),
    ],
)
def test_deposit_refusals_in_order(e, account, amount, reason):
    account = address(account) if isinstance(account, int) else account
    refused(f"trade_escrow: {reason}", e.deposit, address(STRANGER), account, amount)


def test_deposit_without_the_coins_or_the_allowance_reverts_in_the_coin(e):
    poor = e.new_account().address
    for amount, allowance in ((1, 0), (1, 10)):  # no allowance; an allowance but no coins
        with boa.env.prank(poor):
            e.coin.approve(e.c.address, allowance)
        before = e.snapshot()
        with boa.env.prank(poor), boa.reverts():
            e.c.deposit(poor, amount)
        assert e.snapshot() == before and e.c.coin_balance(poor) == 0


def test_withdraw_coin_part_then_all_to_any_address(e):
    e.deposit(address(STRANGER), address(B), 1000)
    e.withdraw_coin(address(B), address(7), 400)
    assert e.c.coin_balance(address(B)) == 600 and e.c.held_coin() == 600
    e.withdraw_coin(address(B), address(B), 600)
    assert e.c.coin_balance(address(B)) == 0 and e.c.held_coin() == 0 and e.coin.balanceOf(e.c.address) == 0


def test_withdraw_coin_refusals_in_order(e):
    e.deposit(address(B), address(B), 1000)
    refused("trade_escrow: to is the zero address", e.withdraw_coin, address(B), ZERO, 0)
    refused("trade_escrow: to is the zero address", e.withdraw_coin, address(B), ZERO, 1)
    refused("trade_escrow: amount is zero", e.withdraw_coin, address(B), address(B), 0)
    refused("trade_escrow: amount above the balance", e.withdraw_coin, address(B), address(B), 1001)
    refused("trade_escrow: amount above the balance", e.withdraw_coin, address(STRANGER), address(B), 1)


def test_boundary_withdraw_coin_amount(e):
    e.deposit(address(B), address(B), 1000)
    refused("trade_escrow: amount above the balance", e.withdraw_coin, address(B), address(B), 1001)
    e.withdraw_coin(address(B), address(B), 1000)
    refused("trade_escrow: amount above the balance", e.withdraw_coin, address(B), address(B), 1)


def test_boundary_deposit_amount(e):
    refused("trade_escrow: amount is zero", e.deposit, address(B), address(B), 0)
    e.deposit(address(B), address(B), 1)
    assert e.c.coin_balance(address(B)) == 1


def test_key_pool_is_fixed():
    assert key(0) == key(0) and address(0) != address(1)
