"""Attacks on the energy coin, each through the twin first (tests/coin/harness.py): what a holder, a spender, a
relayer or a former owner might try, and what the contract does about it (docs/coin.md, "Attacks")."""

from __future__ import annotations

import boa
import pytest

from gridchain.coin.client import payment_reference
from gridchain.coin.model import SECP256K1_N, UNIT, ZERO, domain
from gridchain.crypto.keys import compact, normalize_signature
from tests.coin.harness import Coin, deploy, refused

COINS = 100 * UNIT


@pytest.fixture
def k():
    with boa.env.anchor():
        coin = Coin()
        for h in coin.holders:
            coin.mint(coin.owner, h.address, COINS)
        yield coin


def names(k):
    victim, thief, relayer = (h.address for h in k.holders)
    return victim, thief, relayer


# ---- permit --------------------------------------------------------------------------------------------------------


def test_permit_replay_is_refused_by_the_nonce(k):
    victim, thief, relayer = names(k)
    args = k.sign(victim, thief, COINS // 2, k.now + 600).as_args()
    k.permit(relayer, *args)
    k.transfer_from(thief, victim, thief, COINS // 2)
    refused("erc20: invalid signature", k.permit, thief, *args)  # nonce 1 now: the digest recovers someone else
    refused("erc20: insufficient allowance", k.transfer_from, thief, victim, thief, 1)


def test_permit_signed_for_another_chain_is_refused(k):
    victim, thief, _ = names(k)
    other_chain = domain(k.model.name, k.chain_id + 1, k.address)
    args = k.sign(victim, thief, COINS, k.now + 600, domain=other_chain).as_args()
    refused("erc20: invalid signature", k.permit, thief, *args)


def test_permit_signed_for_another_coin_is_refused(k):
    victim, thief, _ = names(k)
    twin_coin = deploy()  # the same name and version at another address: another domain
    args = k.sign(victim, thief, COINS, k.now + 600, domain=domain(k.model.name, k.chain_id, str(twin_coin.address)))
    twin_coin.permit(*args.as_args())  # good there...
    refused("erc20: invalid signature", k.permit, thief, *args.as_args())  # ...not here


def test_malleable_high_s_permit_is_refused(k):
    victim, thief, _ = names(k)
    args = k.sign(victim, thief, COINS, k.now + 600).as_args()
    args[4] = 55 - args[4]  # the mirrored signature (r, n - s, other v) recovers the same signer...
    args[6] = (SECP256K1_N - int.from_bytes(args[6], "big")).to_bytes(32, "big")
    refused("ecdsa: invalid signature `s` value", k.permit, thief, *args)  # ...but snekmate refuses high s


def test_eip2098_compact_signature_is_refused_raw_and_accepted_expanded(k):
    victim, spender, relayer = names(k)
    amount = COINS
    signed = k.sign(victim, spender, amount, k.now + 600)
    while signed.v != 28:  # a signature with y odd: its compact vs has the top bit set (random keys: search)
        amount -= 1
        signed = k.sign(victim, spender, amount, k.now + 600)
    r, vs = compact(signed.r + signed.s + bytes([signed.v]))
    raw = [*signed.as_args()[:6], vs.to_bytes(32, "big")]  # vs passed as s: the parity bit makes it high
    refused("ecdsa: invalid signature `s` value", k.permit, relayer, *raw)
    expanded = normalize_signature(r.to_bytes(32, "big") + vs.to_bytes(32, "big"))  # what clients must do
    k.permit(relayer, *raw[:4], expanded[64], expanded[:32], expanded[32:64])
    assert k.c.allowance(victim, spender) == amount


def test_permit_after_its_deadline_is_refused(k):
    victim, thief, _ = names(k)
    args = k.sign(victim, thief, COINS, k.now + 60).as_args()
    k.travel_to(k.now + 61)
    refused("erc20: expired deadline", k.permit, thief, *args)


def test_permit_for_the_zero_address_with_a_null_signature_is_refused(k):
    _, thief, _ = names(k)
    # ecrecover of garbage is the zero address: snekmate refuses it before comparing with owner = 0
    refused("ecdsa: invalid signature", k.permit, thief, ZERO, thief, COINS, k.now + 60, 27, b"\x00" * 32, b"\x00" * 32)


def test_a_front_run_permit_gives_the_same_allowance(k):
    victim, spender, griefer = names(k)
    args = k.sign(victim, spender, COINS, k.now + 600).as_args()
    k.permit(griefer, *args)  # a griefer submits it first (from the mempool)...
    refused("erc20: invalid signature", k.permit, spender, *args)  # ...the spender's own submission fails...
    k.transfer_from(spender, victim, spender, COINS)  # ...but the allowance is there: check it, do not re-permit


# ---- minting -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_reference", [False, True])
def test_a_non_minter_cannot_mint(k, with_reference):
    _, thief, _ = names(k)
    if with_reference:
        refused("erc20: access is denied", k.mint_with_reference, thief, thief, COINS, payment_reference("fake"))
    else:
        refused("erc20: access is denied", k.mint, thief, thief, COINS)
    refused("ownable: caller is not the owner", k.set_minter, thief, thief, True)


def test_a_payment_reference_mints_once(k):
    _, _, treasury = names(k)
    k.set_minter(k.owner, treasury, True)
    ref = payment_reference("bank transfer #1")
    k.mint_with_reference(k.owner, treasury, COINS, ref)
    refused("energy_coin: reference already used", k.mint_with_reference, treasury, treasury, COINS, ref)


def test_owner_renouncing_then_minting(k):
    _, _, treasury = names(k)
    k.set_minter(k.owner, treasury, True)
    k.renounce_ownership(k.owner)
    refused("erc20: access is denied", k.mint, k.owner, k.owner, COINS)  # the former owner lost its role
    refused("ownable: caller is not the owner", k.set_minter, k.owner, k.owner, True)
    # snekmate's documented warning: a minter granted before renouncing keeps minting, and nobody can revoke it
    k.mint(treasury, treasury, COINS)
    refused("ownable: caller is not the owner", k.set_minter, treasury, treasury, False)


def test_revoking_minters_before_renouncing_freezes_the_supply(k):
    _, _, treasury = names(k)
    k.set_minter(k.owner, treasury, True)
    k.set_minter(k.owner, treasury, False)
    k.renounce_ownership(k.owner)
    for minter in (k.owner, treasury):
        refused("erc20: access is denied", k.mint, minter, minter, 1)


# ---- allowances ------------------------------------------------------------------------------------------------


def test_approve_front_running_race(k):
    """ERC-20's classic race: the victim lowers an allowance from 100 to 50 coins; the spender, seeing the change
    pending, spends the 100 first and the 50 after: 150. snekmate 0.1.2 has no increase/decrease_allowance."""
    victim, spender, _ = names(k)
    k.approve(victim, spender, COINS)
    k.transfer_from(spender, victim, spender, COINS)  # front-runs the change
    k.approve(victim, spender, COINS // 2)
    k.mint(k.owner, victim, COINS)
    k.transfer_from(spender, victim, spender, COINS // 2)
    assert k.c.balanceOf(spender) == COINS + COINS + COINS // 2  # took 150 where 100 or 50 was meant


def test_approve_race_mitigated_by_zero_first(k):
    """The mitigation: set the allowance to 0, see what was spent in between (Transfer events, balances), then
    grant what is still meant. The spender can take at most the old allowance, never old + new. (Or spend a
    permit's exact amount in the transaction that submits it: no standing allowance is left to race for.)"""
    victim, spender, _ = names(k)
    k.approve(victim, spender, COINS)
    k.transfer_from(spender, victim, spender, COINS)  # front-runs the change
    k.approve(victim, spender, 0)
    refused("erc20: insufficient allowance", k.transfer_from, spender, victim, spender, 1)
    assert k.c.balanceOf(spender) == 2 * COINS  # its own 100 and the old allowance's 100: no more


# ---- the coin's own address -------------------------------------------------------------------------------------


def test_coins_sent_to_the_coin_itself_are_locked_forever(k):
    victim, thief, _ = names(k)
    k.transfer(victim, k.address, COINS)
    assert k.c.balanceOf(k.address) == COINS and k.c.totalSupply() == 3 * COINS  # still in the supply
    # nobody can move them: the coin never approves, and it has no key to sign a permit
    refused("erc20: insufficient allowance", k.transfer_from, k.owner, k.address, k.owner, 1)
    refused("erc20: insufficient allowance", k.burn_from, k.owner, k.address, 1)
