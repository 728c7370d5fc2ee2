"""contracts/trade_notes.vy against its twin, call by call (tests/escrow/notes/harness.py): every refusal reached
with its reason and nothing changed, boundary tables (x passes, x + 1 reverts), the signature forms wallets
produce, the pushes and credit of an ETH pool, a coin pool, and the agreement of the contract's seed, hash and key
views with the Python side."""

from __future__ import annotations

import boa
import pytest

from gridchain.escrow.notes.model import EPOCH_SECONDS, INVALID_SIGNATURE, ZERO, NotesError, Payout, note_seed
from tests.committee.signatures import FORMS
from tests.escrow.notes.harness import DENOM, FILES, ISSUER, Pool, blinded_hash, refused
from tests.escrow.notes.keys import address, rsa, words
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import refused as _refused

FRESH, RELAYER, DEPOSITOR, OTHER = 5, 6, 2, 9


@pytest.fixture
def pool() -> Pool:
    p = Pool()
    p.register(address(ISSUER), p.epoch)
    return p


@pytest.fixture
def coin_pool() -> Pool:
    p = Pool(coin=True, denomination=10**6)
    p.register(address(ISSUER), p.epoch)
    return p


def ready(p: Pool, deposits: int = 1) -> int:
    """`deposits` notes deposited in the current epoch, then the next day: the epoch of the notes."""
    epoch = p.epoch
    for i in range(deposits):
        p.deposit(address(DEPOSITOR), blinded_hash(i))
    p.next_day()
    return epoch


def test_constructor_refuses_zero_denomination_and_issuer():
    with boa.reverts("trade_notes: denomination is zero"):
        load(FILES).deploy(ZERO, 0, address(ISSUER), ZERO)
    with boa.reverts("trade_notes: issuer is the zero address"):
        load(FILES).deploy(ZERO, 1, ZERO, ZERO)
    c = load(FILES).deploy(ZERO, 1, address(ISSUER), ZERO)
    assert c.DENOMINATION() == 1 and c.ISSUER().lower() == address(ISSUER) and c.COIN() == ZERO


def test_register_refusals_and_one_key_per_epoch(pool):
    e = pool.epoch
    n = rsa(1).public.n
    refused("trade_notes: caller is not the issuer", pool.register, address(OTHER), e + 1, 1)
    refused("trade_notes: epoch is over", pool.register, address(ISSUER), e - 1, 1)
    refused("trade_notes: modulus is not 2048 bits", pool.register, address(ISSUER), e + 1, modulus=n >> 1)
    refused("trade_notes: modulus is even", pool.register, address(ISSUER), e + 1, modulus=n - 1)
    refused("trade_notes: epoch key already registered", pool.register, address(ISSUER), e, 1)
    pool.register(address(ISSUER), e + 1, 1)
    assert pool.c.epoch_key(e + 1) == pool.model.epoch_key(e + 1) != b"\x00" * 32
    assert pool.c.staged_key() == [0] * 8  # transient: gone after the call
    code = boa.env.get_code(pool.c.epoch_key_address(e + 1))
    assert code == b"\x00" + rsa(1).public.modulus_bytes


def test_deposit_refusals_and_boundaries(pool):
    e = pool.epoch
    for named in (e - 1, e + 1):
        refused(
            "trade_notes: deposit epoch is not the current one",
            pool.deposit,
            address(DEPOSITOR),
            b"\x01" * 32,
            epoch=named,
        )
    refused("trade_notes: blinded hash is zero", pool.deposit, address(DEPOSITOR), b"\x00" * 32)
    refused("trade_notes: value is not the denomination", pool.deposit, address(DEPOSITOR), b"\x01" * 32, DENOM - 1)
    refused("trade_notes: value is not the denomination", pool.deposit, address(DEPOSITOR), b"\x01" * 32, DENOM + 1)
    refused("trade_notes: value is not the denomination", pool.deposit, address(DEPOSITOR), b"\x01" * 32, 0)
    assert pool.deposit(address(DEPOSITOR), b"\x01" * 32) == pool.epoch
    pool.next_day()  # no key for this epoch
    refused("trade_notes: no key registered for the epoch", pool.deposit, address(DEPOSITOR), b"\x01" * 32)


def test_coin_deposit_refusals_and_transfer(coin_pool):
    p = coin_pool
    refused("trade_notes: value sent to a coin pool", p.deposit, address(DEPOSITOR), b"\x01" * 32, 1)
    p.deposit(address(DEPOSITOR), b"\x01" * 32)
    poor = p.new_account()  # no coins, no allowance: the coin's own refusal
    with boa.env.prank(poor.address), boa.reverts():
        p.c.deposit(p.epoch, b"\x01" * 32)


def test_redeem_pays_fresh_and_relayer(pool):
    e = ready(pool)
    fee = 1234
    payouts = pool.redeem(address(RELAYER), e, address(FRESH), fee, signature=pool.consent(FRESH, e, fee))
    assert payouts == [Payout(address(FRESH), DENOM - fee), Payout(address(RELAYER), fee)]
    assert pool.c.held() == 0 and boa.env.get_balance(pool.c.address) == 0


def test_redeem_refusals_in_order(pool):
    e = ready(pool)
    fresh, relayer = address(FRESH), address(RELAYER)
    sig = pool.consent(FRESH, e, 10)
    r = lambda reason, *a, **k: refused(f"trade_notes: {reason}", pool.redeem, relayer, *a, **k)  # noqa: E731
    r("fresh is the zero address", e, ZERO, 10, signature=sig, token=pool.token(e, fresh))
    r("note epoch not over", e + 1, fresh, 10, signature=sig, token=pool.token(e, fresh))
    r("fee above the denomination", e, fresh, DENOM + 1, signature=sig)
    r("caller is not the named relayer", e, fresh, 10, address(OTHER), signature=sig)
    r("redemption not signed by the fresh address", e, fresh, 11, signature=sig)  # the relayer raised its fee
    r("redemption not signed by the fresh address", e, fresh, 10, relayer, signature=sig)  # named itself
    r("redemption not signed by the fresh address", e, fresh, 10, signature=pool.consent(OTHER, e, 10))
    r("signature is not 64 or 65 bytes", e, fresh, 10, signature=sig[:63])
    r("signature v is not 0, 1, 27 or 28", e, fresh, 10, signature=FORMS["bad_v"](sig))
    r("signature s in the upper half (malleable, EIP-2)", e, fresh, 10, signature=FORMS["high_s"](sig))
    with _refused_ecdsa():
        pool.redeem(relayer, e, fresh, 10, signature=FORMS["r_zero"](sig))
    r("epoch exhausted", e - 1, fresh, 10, signature=pool.consent(FRESH, e - 1, 10), token=pool.token(e, fresh))
    r("token is not below the modulus", e, fresh, 10, signature=sig, token=words(rsa(0).public.n))
    r(
        "token does not verify",
        e,
        fresh,
        10,
        signature=sig,
        token=words(int.from_bytes(_raw(pool.token(e, fresh)), "big") + 1),
    )
    r("token does not verify", e, fresh, 10, signature=sig, token=pool.token(e, address(OTHER)))  # another's note
    pool.redeem(relayer, e, fresh, 10, signature=sig)
    pool.register(address(ISSUER), pool.epoch)
    pool.deposit(address(DEPOSITOR), b"\x02" * 32)  # today: not for epoch e
    r("note already redeemed", e, fresh, 10, signature=sig)


def test_no_key_for_an_epoch_with_deposits_is_unreachable_but_refused_by_name(pool):
    """Deposits need the epoch's key, so an epoch with deposits has one; the check stays for defence in depth.
    An epoch with neither: the cap refuses first."""
    e = pool.epoch
    pool.next_day(2)
    refused("trade_notes: epoch exhausted", pool.redeem, address(FRESH), e + 1, address(FRESH), 0)


def test_fee_boundary_all_to_relayer_and_zero_fee(pool):
    e = ready(pool, 2)
    payouts = pool.redeem(address(RELAYER), e, address(FRESH), DENOM, signature=pool.consent(FRESH, e, DENOM))
    assert payouts == [Payout(address(RELAYER), DENOM)]
    assert pool.redeem(address(RELAYER), e, address(7), 0, signature=pool.consent(7, e, 0)) == [
        Payout(address(7), DENOM)
    ]


def test_epoch_boundary_redeem_from_the_first_second_of_the_next_epoch(pool):
    e = pool.epoch
    pool.deposit(address(DEPOSITOR), b"\x01" * 32)
    pool.travel_to((e + 1) * EPOCH_SECONDS - 1)
    refused("trade_notes: note epoch not over", pool.redeem, address(FRESH), e, address(FRESH), 0)
    pool.travel_to((e + 1) * EPOCH_SECONDS)
    pool.redeem(address(FRESH), e, address(FRESH), 0)


@pytest.mark.parametrize("form", ["rsv", "v01", "compact"])
def test_signature_forms_wallets_produce(pool, form):
    e = ready(pool)
    sig = FORMS[form](pool.consent(FRESH, e, 5, address(RELAYER)))
    pool.redeem(address(RELAYER), e, address(FRESH), 5, address(RELAYER), signature=sig)


def test_self_submitted_redemption_needs_no_signature(pool):
    e = ready(pool)
    assert pool.redeem(address(FRESH), e, address(FRESH), 0) == [Payout(address(FRESH), DENOM)]


def test_cap_per_epoch_and_other_epochs_untouched(pool):
    e = ready(pool, 1)
    pool.register(address(ISSUER), pool.epoch)
    pool.deposit(address(DEPOSITOR), b"\x03" * 32)
    pool.next_day()
    pool.redeem(address(7), e, address(7), 0)  # a forged note takes the one place of epoch e
    refused("trade_notes: epoch exhausted", pool.redeem, address(FRESH), e, address(FRESH), 0)
    pool.redeem(address(FRESH), e + 1, address(8), 0, signature=pool.consent(8, e + 1, 0))  # e + 1 is intact


def test_refused_pushes_are_credited_then_withdrawn(pool):
    wallets = [load(CONTRACTS.parent / "tests/support/fixtures/rejecting_wallet.vy").deploy() for _ in range(2)]
    fresh_wallet, relay_wallet = wallets
    pool.model.rejects |= {str(x.address).lower() for x in wallets}
    e = ready(pool, 2)
    owner = str(boa.env.eoa)
    # a contract fresh address submits itself (it cannot sign): its payout is credited
    payouts = pool.redeem(owner, e, str(fresh_wallet.address), 3, via=fresh_wallet)
    w = str(fresh_wallet.address).lower()
    assert payouts == [Payout(w, DENOM - 3, True), Payout(w, 3, True)]
    # a relayer contract that refuses its fee: credited, the fresh address paid all the same
    rw = str(relay_wallet.address).lower()
    payouts = pool.redeem(owner, e, address(FRESH), 9, signature=pool.consent(FRESH, e, 9), via=relay_wallet)
    assert payouts == [Payout(address(FRESH), DENOM - 9), Payout(rw, 9, True)]
    assert pool.c.held() == DENOM + 9
    refused("trade_notes: no credit", pool.withdraw, address(OTHER), address(OTHER))
    with boa.reverts("trade_notes: to is the zero address"), boa.env.prank(owner):
        fresh_wallet.execute(pool.c.address, pool.c.withdraw.prepare_calldata(ZERO), 0)
    with boa.env.prank(owner):
        fresh_wallet.execute(pool.c.address, pool.c.withdraw.prepare_calldata(address(OTHER)), 0)
    pool.model.withdraw(w, address(OTHER))
    pool.check()
    assert pool.c.held() == 9


def test_coin_redeem_pays_by_transfer(coin_pool):
    p = coin_pool
    e = ready(p)
    payouts = p.redeem(address(RELAYER), e, address(FRESH), 100, signature=p.consent(FRESH, e, 100))
    assert payouts == [Payout(address(FRESH), 10**6 - 100), Payout(address(RELAYER), 100)]
    assert p.coin.balanceOf(p.c.address) == 0


def test_views_agree_with_python(pool):
    e = pool.epoch
    assert pool.c.note_seed(e, address(FRESH)) == note_seed(pool.chain_id, pool.address, e, address(FRESH))
    assert pool.c.redemption_hash(e, 7, address(RELAYER)) == pool.model.redemption_hash(e, 7, address(RELAYER))
    assert pool.c.epoch_key(e + 5) == b"\x00" * 32


def _raw(token) -> bytes:
    return b"".join(w.to_bytes(32, "big") for w in token)


def _refused_ecdsa():
    return _refused(INVALID_SIGNATURE, NotesError)
