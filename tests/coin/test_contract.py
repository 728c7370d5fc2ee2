"""The energy coin's every external function, through its twin first (tests/coin/harness.py): one positive and one
negative case each, and boundary tables (x passes, x + 1 reverts)."""

from __future__ import annotations

import boa
import pytest
from eth_utils import keccak

from gridchain.coin.client import payment_reference
from gridchain.coin.model import MALLEABILITY_THRESHOLD, MAX_UINT256, UNIT, ZERO, ZERO32, CoinModel, Permit
from gridchain.crypto import eip712
from tests.coin.harness import NAME, SYMBOL, Coin, deployer, refused

COINS = 100 * UNIT


@pytest.fixture
def k():
    with boa.env.anchor():
        coin = Coin()
        coin.mint(coin.owner, coin.holders[0].address, COINS)
        yield coin


def holder(k, i=0) -> str:
    return k.holders[i].address


# ---- deployment and views ----------------------------------------------------------------------------------------


def test_deploy_names_decimals_domain_owner_minter(k):
    c = k.c
    assert (c.name(), c.symbol(), c.decimals()) == (NAME, SYMBOL, 6)
    assert str(c.owner()) == k.owner and c.is_minter(k.owner)
    fields = c.eip712Domain()
    assert (fields[1], fields[2], fields[3], str(fields[4])) == (NAME, "1", k.chain_id, k.address)
    assert c.DOMAIN_SEPARATOR() == k.model.domain().separator


def test_deploy_refuses_a_name_over_25_characters():
    with boa.env.anchor(), pytest.raises(Exception, match="String"):  # the ABI type String[25] refuses it
        deployer().deploy("x" * 26, SYMBOL)


# ---- mint and mint_with_reference ---------------------------------------------------------------------------------


def test_mint_by_the_owner_raises_balance_and_supply(k):
    k.mint(k.owner, holder(k, 1), 5 * UNIT)
    assert k.c.balanceOf(holder(k, 1)) == 5 * UNIT and k.c.totalSupply() == COINS + 5 * UNIT
    assert k.events["Transfer"] == [{"sender": ZERO, "receiver": holder(k, 1).lower(), "value": 5 * UNIT}]


def test_mint_by_a_holder_is_denied(k):
    refused("erc20: access is denied", k.mint, holder(k), holder(k), 1)


def test_mint_to_the_zero_address_is_refused(k):
    refused("erc20: mint to the zero address", k.mint, k.owner, ZERO, 1)


@pytest.mark.parametrize(("amount", "ok"), [(MAX_UINT256 - COINS, True), (MAX_UINT256 - COINS + 1, False)])
def test_mint_supply_boundary(k, amount, ok):
    if ok:
        k.mint(k.owner, holder(k, 1), amount)
        assert k.c.totalSupply() == MAX_UINT256
    else:
        refused("", k.mint, k.owner, holder(k, 1), amount)  # Vyper's checked addition: no reason


def test_mint_with_reference_logs_the_payment_once(k):
    ref = payment_reference("bank transfer 2026-12-01 #17")
    k.mint_with_reference(k.owner, holder(k, 1), 7 * UNIT, ref)
    assert k.events["MintedAgainst"] == [
        {"minter": k.owner.lower(), "to": holder(k, 1).lower(), "reference": ref, "amount": 7 * UNIT}
    ]
    assert k.c.reference_used(ref)
    refused("energy_coin: reference already used", k.mint_with_reference, k.owner, holder(k, 2), 1, ref)


@pytest.mark.parametrize(
    ("sender", "to", "amount", "reference", "reason"),
    [
        ("holder", "holder", 1, b"\x01" * 32, "erc20: access is denied"),
        ("owner", "holder", 0, b"\x01" * 32, "energy_coin: amount is zero"),
        ("owner", "holder", 1, ZERO32, "energy_coin: reference is zero"),
        ("owner", ZERO, 1, b"\x01" * 32, "erc20: mint to the zero address"),
        ("owner", "holder", 1, b"\x00" * 31 + b"\x01", None),  # the least reference and amount pass
    ],
)
def test_mint_with_reference_table(k, sender, to, amount, reference, reason):
    sender = k.owner if sender == "owner" else holder(k)
    to = holder(k) if to == "holder" else to
    if reason is None:
        k.mint_with_reference(sender, to, amount, reference)
    else:
        refused(reason, k.mint_with_reference, sender, to, amount, reference)


def test_a_granted_minter_mints_and_a_revoked_one_cannot(k):
    treasury = holder(k, 2)
    k.set_minter(k.owner, treasury, True)
    k.mint_with_reference(treasury, holder(k, 1), UNIT, payment_reference("p1"))
    k.set_minter(k.owner, treasury, False)
    refused("erc20: access is denied", k.mint_with_reference, treasury, holder(k, 1), UNIT, payment_reference("p2"))


# ---- set_minter -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "minter", "reason"),
    [
        ("holder", "holder1", "ownable: caller is not the owner"),
        ("owner", ZERO, "erc20: minter is the zero address"),
        ("owner", "owner", "erc20: minter is owner address"),  # the owner stays a minter
        ("owner", "holder1", None),
    ],
)
def test_set_minter_table(k, sender, minter, reason):
    who = {"owner": k.owner, "holder": holder(k), "holder1": holder(k, 1)}
    args = (who[sender], who.get(minter, minter), reason is None)
    if reason is None:
        k.set_minter(*args)
        assert k.c.is_minter(holder(k, 1))
        assert k.events["RoleMinterChanged"] == [{"minter": holder(k, 1).lower(), "status": True}]
    else:
        refused(reason, k.set_minter, *args)


# ---- transfer ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "ok"), [(0, True), (COINS, True), (COINS + 1, False)])
def test_transfer_balance_boundary(k, amount, ok):
    if ok:
        k.transfer(holder(k), holder(k, 1), amount)
        assert k.c.balanceOf(holder(k, 1)) == amount
    else:
        refused("erc20: transfer amount exceeds balance", k.transfer, holder(k), holder(k, 1), amount)


def test_transfer_to_the_zero_address_is_refused(k):
    refused("erc20: transfer to the zero address", k.transfer, holder(k), ZERO, 1)


def test_transfer_to_oneself_changes_nothing_but_logs(k):
    k.transfer(holder(k), holder(k), COINS)
    assert k.c.balanceOf(holder(k)) == COINS
    assert len(k.events["Transfer"]) == 1


# ---- approve / transferFrom ---------------------------------------------------------------------------------------


def test_approve_sets_the_allowance(k):
    k.approve(holder(k), holder(k, 1), 5)
    assert k.c.allowance(holder(k), holder(k, 1)) == 5
    assert k.events["Approval"] == [{"owner": holder(k).lower(), "spender": holder(k, 1).lower(), "value": 5}]


def test_approve_to_the_zero_address_is_refused(k):
    refused("erc20: approve to the zero address", k.approve, holder(k), ZERO, 5)


@pytest.mark.parametrize(
    ("allowance", "amount", "reason"),
    [
        (10, 10, None),
        (10, 11, "erc20: insufficient allowance"),
        (COINS + 1, COINS + 1, "erc20: transfer amount exceeds balance"),  # allowance checked first, then balance
        (MAX_UINT256, COINS, None),  # infinite: never decreased
    ],
)
def test_transfer_from_table(k, allowance, amount, reason):
    owner, spender, to = holder(k), holder(k, 1), holder(k, 2)
    k.approve(owner, spender, allowance)
    if reason:
        refused(reason, k.transfer_from, spender, owner, to, amount)
        return
    k.transfer_from(spender, owner, to, amount)
    assert k.c.balanceOf(to) == amount
    assert k.c.allowance(owner, spender) == (MAX_UINT256 if allowance == MAX_UINT256 else allowance - amount)


def test_transfer_from_the_zero_address(k):
    refused("erc20: insufficient allowance", k.transfer_from, holder(k), ZERO, holder(k), 1)
    # zero coins from the zero address: the allowance passes, re-approving it does not
    refused("erc20: approve from the zero address", k.transfer_from, holder(k), ZERO, holder(k), 0)


def test_transfer_from_to_the_zero_address_is_refused(k):
    k.approve(holder(k), holder(k, 1), 1)
    refused("erc20: transfer to the zero address", k.transfer_from, holder(k, 1), holder(k), ZERO, 1)


# ---- burn / burn_from ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "ok"), [(COINS, True), (COINS + 1, False)])
def test_burn_boundary(k, amount, ok):
    if ok:
        k.burn(holder(k), amount)
        assert k.c.totalSupply() == 0 and k.c.balanceOf(holder(k)) == 0
    else:
        refused("erc20: burn amount exceeds balance", k.burn, holder(k), amount)


def test_burn_from_redeems_with_an_allowance(k):
    k.approve(holder(k), k.owner, COINS)
    k.burn_from(k.owner, holder(k), COINS // 2)
    assert k.c.totalSupply() == COINS // 2 and k.c.allowance(holder(k), k.owner) == COINS // 2


@pytest.mark.parametrize(
    ("allowance", "amount", "reason"),
    [
        (5, 6, "erc20: insufficient allowance"),
        (COINS + 1, COINS + 1, "erc20: burn amount exceeds balance"),
    ],
)
def test_burn_from_refusals(k, allowance, amount, reason):
    k.approve(holder(k), k.owner, allowance)
    refused(reason, k.burn_from, k.owner, holder(k), amount)


# ---- permit ---------------------------------------------------------------------------------------------------


def test_permit_by_a_relayer_sets_the_allowance_and_uses_the_nonce(k):
    signed = k.sign(holder(k), holder(k, 1), 42, k.now + 60)
    k.permit(holder(k, 2), *signed.as_args())  # a relayer pays the gas
    assert k.c.allowance(holder(k), holder(k, 1)) == 42 and k.c.nonces(holder(k)) == 1
    k.transfer_from(holder(k, 1), holder(k), holder(k, 2), 42)


@pytest.mark.parametrize(("offset_s", "reason"), [(0, None), (-1, "erc20: expired deadline")])
def test_permit_deadline_boundary(k, offset_s, reason):
    deadline = k.now + 100
    signed = k.sign(holder(k), holder(k, 1), 1, deadline)
    k.travel_to(deadline)  # the next block's timestamp is now; the deadline is inclusive
    boa.env.evm.patch.timestamp = deadline - offset_s
    if reason:
        refused(reason, k.permit, holder(k), *signed.as_args())
    else:
        k.permit(holder(k), *signed.as_args())


def test_permit_signed_by_another_is_refused(k):
    signed = k.sign(holder(k, 1), holder(k, 2), 1, k.now + 60)
    args = signed.as_args()
    args[0] = holder(k)  # claims to be holder 0's approval
    refused("erc20: invalid signature", k.permit, holder(k), *args)


def test_permit_to_the_zero_spender_is_refused(k):
    signed = k.sign(holder(k), ZERO, 1, k.now + 60)
    refused("erc20: approve to the zero address", k.permit, holder(k), *signed.as_args())


@pytest.mark.parametrize(
    ("s", "reason"),
    [
        (MALLEABILITY_THRESHOLD, "erc20: invalid signature"),  # accepted as low s, recovers someone else
        (MALLEABILITY_THRESHOLD + 1, "ecdsa: invalid signature `s` value"),
    ],
)
def test_permit_s_boundary(k, s, reason):
    signed = k.sign(holder(k), holder(k, 1), 1, k.now + 60)
    args = signed.as_args()
    args[6] = s.to_bytes(32, "big")
    refused(reason, k.permit, holder(k), *args)


@pytest.mark.parametrize("v", [0, 1, 26, 29])
def test_permit_with_v_other_than_27_28_recovers_nobody(k, v):
    signed = k.sign(holder(k), holder(k, 1), 1, k.now + 60)
    args = signed.as_args()
    args[4] = v
    refused("ecdsa: invalid signature", k.permit, holder(k), *args)


def test_permit_struct_hash_is_eip2612s():
    permit = Permit(ZERO, ZERO, 1, 2, 3)
    assert Permit.TYPEHASH == keccak(
        text="Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"
    )
    assert eip712.typed_data(CoinModel(ZERO).domain(), permit)["primaryType"] == "Permit"


# ---- ownership ---------------------------------------------------------------------------------------------------


def test_transfer_ownership_moves_the_minter_role(k):
    k.transfer_ownership(k.owner, holder(k, 2))
    assert str(k.c.owner()) == holder(k, 2) and k.c.is_minter(holder(k, 2)) and not k.c.is_minter(k.owner)
    refused("erc20: access is denied", k.mint, k.owner, holder(k), 1)


@pytest.mark.parametrize(
    ("sender", "new_owner", "reason"),
    [
        ("holder", "holder", "ownable: caller is not the owner"),
        ("owner", ZERO, "erc20: new owner is the zero address"),
    ],
)
def test_transfer_ownership_refusals(k, sender, new_owner, reason):
    sender = k.owner if sender == "owner" else holder(k)
    refused(reason, k.transfer_ownership, sender, holder(k) if new_owner == "holder" else new_owner)


def test_renounce_ownership_by_the_owner_and_not_by_others(k):
    refused("ownable: caller is not the owner", k.renounce_ownership, holder(k))
    k.renounce_ownership(k.owner)
    assert str(k.c.owner()) == ZERO and not k.c.is_minter(k.owner)
