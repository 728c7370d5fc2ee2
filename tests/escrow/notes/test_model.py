"""The notes twin alone: each rule's refusal with its reason, changing nothing; the payouts and books of a
redemption; the per-epoch cap; the invariant."""

from __future__ import annotations

import copy

import pytest

from gridchain.crypto.keys import sign_digest
from gridchain.escrow.notes.model import ETH, ZERO, NotesError, NotesModel, Payout, note_message
from tests.escrow.notes.keys import address, key, note, rsa

DAY = 86_400
T0 = 20_000 * DAY + 3_600  # epoch 20,000, an hour in
DENOM = 10**17
ISSUER = address(0)
POOL = "0x" + "77" * 20
H = b"\x01" * 32


def pool(coin: str = ETH) -> NotesModel:
    m = NotesModel(coin, DENOM, ISSUER, chain_id=5, address=POOL)
    m.register_epoch_key(ISSUER, 20_000, rsa(0).public.n, T0)
    return m


def refused(m: NotesModel, reason: str, call, *args) -> None:
    before = copy.deepcopy(m)
    with pytest.raises(NotesError) as e:
        call(*args)
    assert e.value.reason == f"trade_notes: {reason}"
    assert m == before


def token(m: NotesModel, fresh: str, epoch: int = 20_000, k: int = 0) -> int:
    return note(rsa(k), note_message(m.chain_id, m.address, epoch, fresh))


def signed(m: NotesModel, i: int, fee: int, relayer: str = ZERO, epoch: int = 20_000) -> bytes:
    return sign_digest(key(i), m.redemption_hash(epoch, fee, relayer))


def test_register_refusals():
    m = pool()
    n = rsa(1).public.n
    refused(m, "caller is not the issuer", m.register_epoch_key, address(1), 20_001, n, T0)
    refused(m, "epoch is over", m.register_epoch_key, ISSUER, 19_999, n, T0)
    refused(m, "modulus is not 2048 bits", m.register_epoch_key, ISSUER, 20_001, n >> 1, T0)
    refused(m, "modulus is even", m.register_epoch_key, ISSUER, 20_001, n - 1, T0)
    refused(m, "epoch key already registered", m.register_epoch_key, ISSUER, 20_000, n, T0)
    m.register_epoch_key(ISSUER, 20_001, n, T0)
    assert m.keys == {20_000: rsa(0).public.n, 20_001: n}


def test_deposit_refusals_and_count():
    m = pool()
    refused(m, "deposit epoch is not the current one", m.deposit, address(2), 20_001, H, DENOM, T0)
    refused(m, "deposit epoch is not the current one", m.deposit, address(2), 19_999, H, DENOM, T0)
    refused(m, "blinded hash is zero", m.deposit, address(2), 20_000, b"\x00" * 32, DENOM, T0)
    refused(m, "value is not the denomination", m.deposit, address(2), 20_000, H, DENOM - 1, T0)
    refused(m, "value is not the denomination", m.deposit, address(2), 20_000, H, DENOM + 1, T0)
    refused(m, "no key registered for the epoch", m.deposit, address(2), 20_001, H, DENOM, T0 + DAY)
    assert m.deposit(address(2), 20_000, H, DENOM, T0) == 20_000
    assert m.deposit(address(3), 20_000, H, DENOM, T0 + DAY - 3601) == 20_000
    assert m.deposits == {20_000: 2} and m.held == 2 * DENOM
    c = pool("0x" + "c0" * 20)
    refused(c, "value sent to a coin pool", c.deposit, address(2), 20_000, H, 1, T0)
    assert c.deposit(address(2), 20_000, H, 0, T0) == 20_000
    m.check_invariant()


def test_redeem_pays_fresh_and_fee_once():
    m = pool()
    m.deposit(address(2), 20_000, H, DENOM, T0)
    fresh, relayer = address(5), address(6)
    t = token(m, fresh)
    payouts = m.redeem(relayer, 20_000, fresh, 1000, ZERO, t, signed(m, 5, 1000), T0 + DAY)
    assert payouts == [Payout(fresh, DENOM - 1000), Payout(relayer, 1000)]
    assert m.held == 0 and m.spent == {fresh} and m.redemptions == {20_000: 1}
    m.check_invariant()
    m.deposit(
        address(2), 20_000, H, DENOM, T0 + 3600
    )  # same epoch: the replay below fails on the spent note, not the cap
    refused(m, "note already redeemed", m.redeem, relayer, 20_000, fresh, 1000, ZERO, t, signed(m, 5, 1000), T0 + DAY)


def test_redeem_refusals_in_order():
    m = pool()
    m.deposit(address(2), 20_000, H, DENOM, T0)
    fresh, relayer, later = address(5), address(6), T0 + DAY
    t, sig = token(m, fresh), signed(m, 5, 10)
    refused(m, "fresh is the zero address", m.redeem, relayer, 20_000, ZERO, 10, ZERO, t, sig, later)
    refused(m, "note epoch not over", m.redeem, relayer, 20_000, fresh, 10, ZERO, t, sig, T0 + DAY - 3601)
    refused(m, "fee above the denomination", m.redeem, relayer, 20_000, fresh, DENOM + 1, ZERO, t, sig, later)
    refused(m, "caller is not the named relayer", m.redeem, relayer, 20_000, fresh, 10, address(7), t, sig, later)
    refused(m, "redemption not signed by the fresh address", m.redeem, relayer, 20_000, fresh, 11, ZERO, t, sig, later)
    refused(m, "signature is not 64 or 65 bytes", m.redeem, relayer, 20_000, fresh, 10, ZERO, t, sig[:63], later)
    other = address(8)
    refused(m, "epoch exhausted", m.redeem, other, 19_999, other, 0, ZERO, t, b"", later)
    m.deposits[19_999] = 1  # an epoch with deposits and no key (the issuer registered none): only a twin can
    refused(m, "no key registered for the epoch", m.redeem, other, 19_999, other, 0, ZERO, t, b"", later)
    del m.deposits[19_999]
    refused(
        m, "token is not below the modulus", m.redeem, relayer, 20_000, fresh, 10, ZERO, rsa(0).public.n, sig, later
    )
    refused(m, "token does not verify", m.redeem, relayer, 20_000, fresh, 10, ZERO, t + 1, sig, later)
    refused(m, "token does not verify", m.redeem, other, 20_000, other, 0, ZERO, t, b"", later)  # another's note
    # the fresh address submits itself: no signature needed, and a fee to itself is its own business
    assert m.redeem(fresh, 20_000, fresh, 10, ZERO, t, b"", later) == [Payout(fresh, DENOM - 10), Payout(fresh, 10)]
    m.check_invariant()


def test_cap_refuses_the_note_beyond_the_deposits():
    m = pool()
    m.deposit(address(2), 20_000, H, DENOM, T0)
    forged = address(9)  # the issuer signs a note nobody paid for, and its accomplice redeems it first
    m.redeem(forged, 20_000, forged, 0, ZERO, token(m, forged), b"", T0 + DAY)
    honest = address(5)
    refused(m, "epoch exhausted", m.redeem, honest, 20_000, honest, 0, ZERO, token(m, honest), b"", T0 + DAY)
    m.check_invariant()


def test_refused_push_is_credited_and_withdrawn():
    m = pool()
    fresh, relayer = address(5), address(6)
    m.rejects = {fresh, relayer}
    m.deposit(address(2), 20_000, H, DENOM, T0)
    payouts = m.redeem(relayer, 20_000, fresh, 7, relayer, token(m, fresh), signed(m, 5, 7, relayer), T0 + DAY)
    assert payouts == [Payout(fresh, DENOM - 7, True), Payout(relayer, 7, True)]
    assert m.held == DENOM
    m.check_invariant()
    refused(m, "no credit", m.withdraw, address(2), address(2))
    refused(m, "to is the zero address", m.withdraw, fresh, ZERO)
    assert m.withdraw(fresh, address(3)) == DENOM - 7
    assert m.held == 7 and m.credit == {relayer: 7}
    m.check_invariant()


def test_coin_pool_never_credits():
    m = pool("0x" + "c0" * 20)
    fresh = address(5)
    m.rejects = {fresh}
    m.deposit(address(2), 20_000, H, 0, T0)
    assert m.redeem(fresh, 20_000, fresh, 0, ZERO, token(m, fresh), b"", T0 + DAY) == [Payout(fresh, DENOM)]
