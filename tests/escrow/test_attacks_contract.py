"""PriWatt's attacks on the trade escrow, each with attacker accounts or attacker contracts as fixtures
(tests/support/attackers.py), every call through the harness (the twin refuses first with the same reason, and a
refused call changes nothing on either side): replayed and forged resolutions, a role counted twice, the arbiter
alone, stolen, stale, inflated and self-submitted vouchers, claims and refunds out of time, double opens and
double-sold energy, forged offers, reentrant and ETH-refusing recipients, a foreign token; on-chain approvals by a
non-role, of another amount or trade, after settlement, counted twice with the role's signature, or reentering; coin
balances withdrawn by another account, above the balance, spent on two trades, taken back by the depositor, paid
from with a value, or reentered through a coin that calls back from inside its transfers."""

from __future__ import annotations

import boa
import pytest

from gridchain.crypto.keys import sign_digest
from gridchain.escrow.model import ETH
from tests.committee.signatures import FORMS
from tests.escrow.harness import AMOUNT, OWNER_OF, Escrow, address, refused
from tests.support.mirrored import fresh_traces

B, S, A = 0, 1, 2


@pytest.fixture
def e():
    with boa.env.anchor():
        yield Escrow()


def sigs(e, t, amount, signers=(S, A)):
    return [e.resolution(i, t, amount) for i in signers]


# ---- resolutions -----------------------------------------------------------------------------------------------


def test_a_resolution_replayed_on_another_trade_of_the_same_parties(e, attacker):
    t, u = e.terms(), e.terms(meter_j=1, salt=1)
    e.open(address(B), t)
    e.open(address(B), u)
    signed_for_t = sigs(e, t, AMOUNT)
    refused("trade_escrow: signer is not a role", e.resolve, attacker.address, u, AMOUNT, signed_for_t)
    e.resolve(attacker.address, t, AMOUNT, signed_for_t)


def test_a_resolution_replayed_after_close(e, attacker):
    t = e.terms()
    e.open(address(B), t)
    signed = sigs(e, t, 0, (B, S))
    e.resolve(address(B), t, 0, signed)
    refused("trade_escrow: trade not open", e.resolve, attacker.address, t, 0, signed)
    # the same terms cannot be opened again either: the revoked offer does not replay
    refused("trade_escrow: trade used before", e.open, address(B), t)


def test_a_signature_by_a_non_role(e, attacker):
    t = e.terms()
    e.open(address(B), t)
    forged = sign_digest(attacker.key, e.model.resolution_hash(e.model.trade_id(t), AMOUNT))
    refused(
        "trade_escrow: signer is not a role",
        e.resolve,
        attacker.address,
        t,
        AMOUNT,
        [e.resolution(S, t, AMOUNT), forged],
    )
    # the meter's owner is no role either
    refused(
        "trade_escrow: signer is not a role",
        e.resolve,
        attacker.address,
        t,
        AMOUNT,
        sigs(e, t, AMOUNT, (S, OWNER_OF[0])),
    )


@pytest.mark.parametrize("form", ["rsv", "v01", "compact"])
def test_one_role_signing_twice_in_two_forms(e, form):
    t = e.terms()
    e.open(address(B), t)
    one = e.resolution(S, t, AMOUNT)
    refused("trade_escrow: one role signed twice", e.resolve, address(S), t, AMOUNT, [one, FORMS[form](one)])
    refused(
        "trade_escrow: signature s in the upper half (malleable, EIP-2)",
        e.resolve, address(S), t, AMOUNT, [one, FORMS["high_s"](one)],
    )  # fmt: skip


def test_the_arbiter_alone(e):
    t = e.terms()
    e.open(address(B), t)
    alone = e.resolution(A, t, AMOUNT)
    refused("trade_escrow: fewer than two roles", e.resolve, address(A), t, AMOUNT, [alone])
    refused("trade_escrow: one role signed twice", e.resolve, address(A), t, AMOUNT, [alone, alone])
    refused("trade_escrow: one role signed twice", e.resolve, address(A), t, AMOUNT, [alone, alone, alone])


def test_a_role_of_another_trade_does_not_count(e):
    t = e.terms()
    u = e.terms(buyer=3, seller=4, arbiter=5, meter_j=1)
    e.open(address(B), t)
    e.open(address(3), u)
    refused("trade_escrow: signer is not a role", e.resolve, address(4), t, AMOUNT, sigs(e, t, AMOUNT, (4, 5)))


# ---- on-chain approvals ----------------------------------------------------------------------------------------


def test_an_approval_by_a_non_role(e, attacker):
    t = e.terms()
    e.open(address(B), t)
    refused("trade_escrow: caller is not a role", e.approve, attacker.address, t, AMOUNT)
    refused("trade_escrow: caller is not a role", e.approve, address(OWNER_OF[0]), t, AMOUNT)  # the meter's owner
    refused("trade_escrow: fewer than two roles", e.resolve, attacker.address, t, AMOUNT, sigs(e, t, AMOUNT, (S,)))


def test_an_approval_of_one_amount_does_not_settle_another(e):
    t = e.terms()
    e.open(address(B), t)
    e.approve(address(A), t, AMOUNT // 2)  # the arbiter's split
    refused("trade_escrow: fewer than two roles", e.resolve, address(S), t, AMOUNT, sigs(e, t, AMOUNT, (S,)))
    refused("trade_escrow: fewer than two roles", e.resolve, address(S), t, AMOUNT // 2 + 1, [])
    e.resolve(address(B), t, AMOUNT // 2, sigs(e, t, AMOUNT // 2, (B,)))  # the split it approved


def test_one_roles_approval_and_signature_count_once(e):
    t = e.terms()
    e.open(address(B), t)
    e.approve(address(A), t, 7)
    refused("trade_escrow: fewer than two roles", e.resolve, address(A), t, 7, sigs(e, t, 7, (A,)))
    e.approve(address(A), t, 7)  # approving again adds nothing
    refused("trade_escrow: fewer than two roles", e.resolve, address(A), t, 7, sigs(e, t, 7, (A,)))
    refused("trade_escrow: one role signed twice", e.resolve, address(A), t, 7, sigs(e, t, 7, (A, A)))
    assert e.resolve(address(A), t, 7, sigs(e, t, 7, (S,))) == 0b110


def test_an_approval_after_settlement(e):
    t = e.terms()
    e.open(address(B), t)
    e.approve(address(A), t, 0)
    e.resolve(address(B), t, 0, sigs(e, t, 0, (B,)))  # revoked by the buyer's signature and the arbiter's approval
    refused("trade_escrow: trade not open", e.approve, address(S), t, 0)
    refused("trade_escrow: trade not open", e.resolve, address(S), t, 0, sigs(e, t, 0, (S,)))
    refused("trade_escrow: trade used before", e.open, address(B), t)  # the approvals outlive nothing


def test_an_approval_on_one_trade_used_for_another(e):
    t, u = e.terms(), e.terms(meter_j=1, salt=1)  # the same parties
    e.open(address(B), t)
    e.open(address(B), u)
    e.approve(address(A), t, AMOUNT)
    refused("trade_escrow: fewer than two roles", e.resolve, address(S), u, AMOUNT, sigs(e, u, AMOUNT, (S,)))
    assert e.c.approvals(e.model.resolution_hash(e.model.trade_id(u), AMOUNT)) == 0
    e.resolve(address(S), t, AMOUNT, sigs(e, t, AMOUNT, (S,)))


def test_a_contract_role_cannot_approve_from_inside_a_payout(e, hostile):
    """A contract seller reenters through `approve` (on another of its open trades) from inside its payment:
    the lock refuses it; from outside, afterwards, the same approval is taken (the positive control)."""
    wallet = hostile("reentrant_wallet")
    seller = str(wallet.address)
    t = e.terms(seller=seller)
    u = e.terms(seller=seller, meter_j=1, salt=1)
    e.open(address(B), t)
    e.open(address(B), u)
    h = e.model.resolution_hash(e.model.trade_id(u), AMOUNT)
    e.digests.add(h)
    wallet.arm(e.c.address, e.c.approve.prepare_calldata(u.as_tuple(), AMOUNT))
    e.resolve(address(A), t, AMOUNT, sigs(e, t, AMOUNT, (B, A)))
    assert wallet.reentry_tried() == 1 and wallet.reentry_succeeded() == 0 and wallet.received_wei() == AMOUNT
    assert e.c.approvals(h) == 0
    e.approve(seller, u, AMOUNT)  # from outside: the wallet is u's seller
    assert e.c.approvals(h) == 0b10
    e.resolve(address(A), u, AMOUNT, sigs(e, u, AMOUNT, (A,)))
    assert wallet.received_wei() == 2 * AMOUNT and wallet.reentry_succeeded() == 0


# ---- vouchers --------------------------------------------------------------------------------------------------


def test_a_voucher_of_another_trade(e):
    t, u = e.terms(), e.terms(meter_j=1, salt=1)
    e.open(address(B), t)
    e.open(address(B), u)
    refused("trade_escrow: voucher not signed by the buyer", e.claim, address(S), u, 7, e.voucher(B, t, 7))


def test_an_old_voucher(e):
    t = e.terms()
    e.open(address(B), t)
    old, new = e.voucher(B, t, 10), e.voucher(B, t, 20)
    refused("trade_escrow: voucher not signed by the buyer", e.claim, address(S), t, 20, old)  # not its amount
    e.claim(address(S), t, 20, new)
    refused("trade_escrow: trade not open", e.claim, address(S), t, 10, old)  # settled once


def test_a_voucher_above_the_amount(e):
    t = e.terms()
    e.open(address(B), t)
    refused(
        "trade_escrow: cumulative above the amount", e.claim, address(S), t, AMOUNT + 1, e.voucher(B, t, AMOUNT + 1)
    )


def test_the_buyer_submitting_its_own_voucher(e):
    t = e.terms()
    e.open(address(B), t)
    refused("trade_escrow: caller is not the seller", e.claim, address(B), t, 0, e.voucher(B, t, 0))
    refused("trade_escrow: caller is not the seller", e.claim, address(A), t, 0, e.voucher(B, t, 0))


def test_a_seller_forging_the_buyers_voucher(e, attacker):
    t = e.terms(seller=attacker.address)
    e.open(address(B), t)
    forged = sign_digest(attacker.key, e.model.voucher_hash(e.model.trade_id(t), AMOUNT))
    refused("trade_escrow: voucher not signed by the buyer", e.claim, attacker.address, t, AMOUNT, forged)


def test_claim_after_the_deadline_and_refund_before_it(e):
    t = e.terms()
    e.open(address(B), t)
    refused("trade_escrow: deadline not reached", e.refund, address(S), t)
    e.travel_to(t.deadline)
    refused("trade_escrow: deadline passed", e.claim, address(S), t, AMOUNT, e.voucher(B, t, AMOUNT))
    e.refund(address(S), t)


# ---- opening ---------------------------------------------------------------------------------------------------


def test_double_open_of_the_same_terms(e):
    t = e.terms(token=e.coin_address())
    e.open(address(B), t)
    refused("trade_escrow: trade used before", e.open, address(B), t)


def test_selling_locked_energy_again(e, attacker):
    """The seller side's double spending: while a trade holds the intervals, and after a paid trade for ever."""
    t = e.terms(intervals=8)
    e.open(address(B), t)
    again = e.terms(buyer=attacker.address, seller=4, first_interval=t.first_interval + 7, intervals=1)
    e.fund(attacker.address)
    refused("trade_escrow: energy already locked", e.open, attacker.address, again)
    e.resolve(address(B), t, 1, sigs(e, t, 1, (B, S)))  # one wei paid: the energy is sold
    refused("trade_escrow: energy already locked", e.open, attacker.address, again)


def test_an_offer_signed_by_someone_else(e, attacker):
    t = e.terms(seller=attacker.address)
    forged = sign_digest(attacker.key, e.model.trade_id(t))
    refused("trade_escrow: offer not signed by the meter's owner", e.open, address(B), t, forged)
    refused("trade_escrow: offer not signed by the meter's owner", e.open, address(B), t, e.offer(t, OWNER_OF[1]))
    other_meter = e.terms(seller=attacker.address, meter_j=1)  # meter 1's owner signs for meter 0's energy
    refused("trade_escrow: offer not signed by the meter's owner", e.open, address(B), t, e.offer(other_meter))


def test_a_foreign_token(e, attacker):
    from tests.support.deployers import CONTRACTS, load

    fake = load(CONTRACTS / "energy_coin.vy").deploy("fake coin", "FAKE")
    t = e.terms(token=str(fake.address))
    refused("trade_escrow: token is neither ETH nor the coin", e.open, address(B), t, None, 0)


# ---- hostile recipients ----------------------------------------------------------------------------------------


def test_a_reentrant_seller_cannot_take_twice(e, hostile):
    wallet = hostile("reentrant_wallet")
    t = e.terms(seller=str(wallet.address), token=ETH)
    u = e.terms(seller=str(wallet.address), meter_j=1, salt=1)
    e.open(address(B), t)
    e.open(address(B), u)
    # from inside its payment, the wallet tries to settle the other trade and to resolve this one again
    again = e.c.resolve.prepare_calldata(t.as_tuple(), AMOUNT, sigs(e, t, AMOUNT, (B, A)))
    wallet.arm(e.c.address, again)
    e.resolve(address(A), t, AMOUNT, sigs(e, t, AMOUNT, (B, A)))
    assert wallet.reentry_tried() == 1 and wallet.reentry_succeeded() == 0
    assert wallet.received_wei() == AMOUNT
    other = e.c.resolve.prepare_calldata(u.as_tuple(), AMOUNT, sigs(e, u, AMOUNT, (B, A)))
    wallet.arm(e.c.address, other)
    e.resolve(address(A), u, AMOUNT // 2, sigs(e, u, AMOUNT // 2, (B, A)))
    assert wallet.reentry_succeeded() == 0 and wallet.received_wei() == AMOUNT + AMOUNT // 2
    assert e.c.status(e.model.trade_id(u)) == 2


def test_a_seller_that_rejects_eth_blocks_nobody(e, hostile):
    wallet = hostile("rejecting_wallet")
    seller = str(wallet.address)
    t = e.terms(seller=seller)
    e.model.rejects.add(seller.lower())
    e.open(address(B), t)
    e.resolve(address(A), t, AMOUNT // 4, sigs(e, t, AMOUNT // 4, (B, A)))  # the buyer is paid its rest
    assert e.c.credit(seller) == AMOUNT // 4 and e.c.held_eth() == AMOUNT // 4
    refused("trade_escrow: to is the zero address", e.withdraw, seller, "0x" + "00" * 20)
    e.withdraw(seller, address(7))  # the wallet sends its credit elsewhere
    assert e.c.held_eth() == 0 and boa.env.get_balance(e.address) == 0


def test_a_buyer_that_rejects_eth_blocks_no_release(e, hostile):
    wallet = hostile("rejecting_wallet")
    buyer = str(wallet.address)
    e.track(buyer, 10**21)
    e.model.rejects.add(buyer.lower())
    t = e.terms(buyer=buyer)
    u = e.terms(buyer=buyer, meter_j=1)
    e.open(buyer, t)
    e.open(buyer, u)
    e.resolve(address(S), t, AMOUNT // 2, sigs(e, t, AMOUNT // 2))  # seller and arbiter split; the seller is paid
    e.travel_to(u.deadline)
    e.refund(address(S), u)
    assert e.c.credit(buyer) == AMOUNT // 2 + AMOUNT
    e.model.rejects.discard(buyer.lower())
    wallet.set_rejecting(False)
    e.withdraw(buyer, buyer)
    assert boa.env.get_balance(e.address) == 0


def test_withdraw_to_a_rejecting_address_reverts_and_keeps_the_credit(e, hostile):
    wallet = hostile("rejecting_wallet")
    seller = str(wallet.address)
    e.model.rejects.add(seller.lower())
    t = e.terms(seller=seller)
    e.open(address(B), t)
    e.resolve(address(A), t, AMOUNT, sigs(e, t, AMOUNT, (B, A)))
    with boa.env.prank(seller), boa.reverts():
        e.c.withdraw(seller)
    assert e.c.credit(seller) == AMOUNT
    e.check()


def test_a_reentrant_seller_cannot_settle_another_trade_from_inside_its_payment(e, hostile):
    """A cheap reentry (a refund of an expired trade, well within the pushed gas): only the lock stops it."""
    wallet = hostile("reentrant_wallet")
    t = e.terms(seller=str(wallet.address))
    u = e.terms(meter_j=1, deadline=e.now + 60)
    e.open(address(B), t)
    e.open(address(B), u)
    e.travel_to(u.deadline)
    wallet.arm(e.c.address, e.c.refund.prepare_calldata(u.as_tuple()))
    e.resolve(address(A), t, AMOUNT, sigs(e, t, AMOUNT, (B, A)))
    assert wallet.reentry_tried() == 1 and wallet.reentry_succeeded() == 0
    e.refund(address(A), u)  # from outside, afterwards: fine


# ---- coin balances ---------------------------------------------------------------------------------------------


def test_withdrawing_another_accounts_balance(e, attacker):
    e.deposit(address(B), address(B), AMOUNT)
    refused("trade_escrow: amount above the balance", e.withdraw_coin, attacker.address, attacker.address, 1)
    refused("trade_escrow: amount above the balance", e.withdraw_coin, attacker.address, address(B), AMOUNT)
    assert e.c.coin_balance(address(B)) == AMOUNT
    e.withdraw_coin(address(B), address(B), AMOUNT)  # its owner can


def test_withdrawing_more_than_the_balance(e):
    e.deposit(address(B), address(B), 1000)
    refused("trade_escrow: amount above the balance", e.withdraw_coin, address(B), address(B), 1001)
    refused("trade_escrow: amount above the balance", e.withdraw_coin, address(B), address(B), 2**256 - 1)
    e.withdraw_coin(address(B), address(B), 999)
    refused("trade_escrow: amount above the balance", e.withdraw_coin, address(B), address(B), 2)
    e.withdraw_coin(address(B), address(B), 1)
    assert e.c.held_coin() == 0 and e.coin.balanceOf(e.c.address) == 0


def test_a_balance_spent_on_two_trades(e):
    """A fresh buyer funded for one trade opens it from its balance; its second trade finds the balance spent and
    falls back on transferFrom, which its empty wallet cannot pay: reverted in the coin, nothing changed. A
    funded buyer's second trade is pulled from its wallet (the harness checks the wallet paid it)."""
    fresh = e.new_account().address
    e.deposit(address(5), fresh, AMOUNT)
    t = e.terms(buyer=fresh, token=e.coin_address())
    u = e.terms(buyer=fresh, token=e.coin_address(), meter_j=1, salt=1)
    e.open(fresh, t)
    assert e.c.coin_balance(fresh) == 0
    before = e.snapshot()
    with boa.env.prank(fresh), boa.reverts():
        e.c.open(u.as_tuple(), e.offer(u))
    assert e.snapshot() == before and e.c.status(e.model.trade_id(u)) == 0
    e.deposit(address(B), address(B), AMOUNT)
    e.open(address(B), e.terms(token=e.coin_address(), meter_j=2))
    e.open(address(B), e.terms(token=e.coin_address(), meter_j=2, first_interval=t.first_interval + 8, salt=2))
    assert e.c.coin_balance(address(B)) == 0 and e.c.held_coin() == 3 * AMOUNT


def test_a_depositor_cannot_take_back_what_it_deposited_for_another(e, attacker):
    e.fund(attacker.address)
    e.deposit(attacker.address, address(B), AMOUNT)
    refused("trade_escrow: amount above the balance", e.withdraw_coin, attacker.address, attacker.address, AMOUNT)
    refused("trade_escrow: amount above the balance", e.withdraw_coin, attacker.address, attacker.address, 1)
    e.open(address(B), e.terms(token=e.coin_address()))  # the account spends it
    assert e.c.coin_balance(address(B)) == 0 and e.c.coin_balance(attacker.address) == 0


def test_open_from_the_balance_with_a_value(e):
    e.deposit(address(B), address(B), AMOUNT)
    t = e.terms(token=e.coin_address())
    refused("trade_escrow: value sent with a coin trade", e.open, address(B), t, None, AMOUNT)
    refused("trade_escrow: value sent with a coin trade", e.open, address(B), t, None, 1)
    assert e.c.coin_balance(address(B)) == AMOUNT and boa.env.get_balance(e.address) == 0
    e.open(address(B), t)


def test_a_coin_that_reenters_from_inside_its_transfers(hostile):
    """The coin is fixed at deployment (energy_coin has no hooks), so an escrow is deployed on a hostile coin that
    calls back from inside its transfers: from inside a withdrawal it tries to withdraw the coin's own balance
    again, from inside a deposit's transferFrom to withdraw it, from inside a settlement to open another trade;
    the lock refuses each (the outer call completes); from outside, the same withdrawal is taken (the positive
    control)."""
    with boa.env.anchor():
        fresh_traces()
        coin = hostile("reentrant_coin")
        e = Escrow(coin)
        hook = str(coin.address)
        e.deposit(address(B), hook, 1000)  # the coin's own balance in the escrow
        take = e.c.withdraw_coin.prepare_calldata(hook, 1000)
        coin.arm(e.c.address, take)
        e.deposit(address(B), address(B), AMOUNT + 1)  # transferFrom reenters
        e.withdraw_coin(address(B), address(B), 1)  # transfer reenters
        t = e.terms(token=str(coin.address))
        u = e.terms(token=str(coin.address), meter_j=1, salt=1)
        e.open(address(B), t)  # from the balance: no transfer, no reentry
        assert coin.reentry_tried() == 2
        coin.arm(e.c.address, e.c.open.prepare_calldata(u.as_tuple(), e.offer(u)))
        e.resolve(address(A), t, AMOUNT // 2, sigs(e, t, AMOUNT // 2, (B, A)))  # two transfers reenter
        assert coin.reentry_tried() == 4 and coin.reentry_succeeded() == 0
        assert e.c.coin_balance(hook) == 1000 and e.c.status(e.model.trade_id(u)) == 0
        coin.arm(e.c.address, b"")
        e.withdraw_coin(hook, hook, 1000)  # from outside: taken
        assert e.c.coin_balance(hook) == 0 and coin.reentry_succeeded() == 0
        e.check()
