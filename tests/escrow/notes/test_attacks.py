"""The notes pool under attack, each attack through the twin and the contract (tests/escrow/notes/harness.py) or
the parties: a relayer that raises its fee, redirects the payout, or submits for a fee named to another; a
front-runner; replays of a note, in this pool and another; tokens of another pool, chain or epoch under the same
issuer key; consents of another pool; an issuer that signs notes nobody paid for (the per-epoch cap holds: the
forged notes take honest places, the honest note left is refused "epoch exhausted", nothing else moves); a
depositor that asks twice on one deposit or with another blinded message; recipients that refuse ETH or re-enter;
a note redeemed in its own deposit's epoch."""

from __future__ import annotations

import boa
import pytest

from gridchain.chain.anvil import dev_keys
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.errors import Refused
from gridchain.escrow.notes.client import NotesClient
from gridchain.escrow.notes.model import ETH, ZERO, Payout, note_message
from gridchain.escrow.notes.parties import Depositor, Issuer, SignRequest
from tests.escrow.notes.harness import DENOM, ISSUER, Pool, blinded_hash, refused
from tests.escrow.notes.keys import address, rsa, words
from tests.support import exponents
from tests.support.deployers import CONTRACTS, load

FRESH, RELAYER, THIEF = 5, 6, 9
FIXTURES = CONTRACTS.parent / "tests/support/fixtures"


def from_words(words: list[int]) -> int:
    """A token's 8 big-endian words as one integer."""
    return int.from_bytes(b"".join(w.to_bytes(32, "big") for w in words), "big")


@pytest.fixture
def pool() -> Pool:
    """Two days of keys, both rsa(0) (an issuer that reuses its key: only the note's seed tells the epochs
    apart), two notes deposited on the first day, and the clock on the second."""
    p = Pool()
    p.register(address(ISSUER), p.epoch, 0)
    p.register(address(ISSUER), p.epoch + 1, 0)
    p.deposit(address(2), blinded_hash(0))
    p.deposit(address(3), blinded_hash(1))
    p.next_day()
    return p


def test_relayer_cannot_raise_its_fee(pool):
    e = pool.epoch - 1
    sig = pool.consent(FRESH, e, 100)
    for fee in (101, DENOM, 0):  # a lower fee is a change too: the consent is for exactly one fee
        refused("trade_notes: redemption not signed by the fresh address", pool.redeem, address(RELAYER), e,
                address(FRESH), fee, signature=sig)  # fmt: skip
    pool.redeem(address(RELAYER), e, address(FRESH), 100, signature=sig)


def test_relayer_cannot_redirect_the_payout(pool):
    """The note names its fresh address: the relayer's own address with its own consent has no token, and the
    note's token under another address does not verify."""
    e = pool.epoch - 1
    token = pool.token(e, address(FRESH))
    thief_sig = pool.consent(THIEF, e, 0)
    refused("trade_notes: token does not verify", pool.redeem, address(THIEF), e, address(THIEF), 0, token=token,
            signature=thief_sig)  # fmt: skip
    refused("trade_notes: token does not verify", pool.redeem, address(RELAYER), e, address(THIEF), 0, token=token,
            signature=thief_sig)  # fmt: skip
    pool.redeem(address(RELAYER), e, address(FRESH), 0, signature=pool.consent(FRESH, e, 0))


@pytest.mark.parametrize("kind", exponents.OTHER)
def test_a_token_under_another_public_exponent_is_refused(pool, kind):
    """The issuer's modulus, the note's message, a valid RSA signature under e = 65537 (notes made before issue 22)
    or another exponent: refused by the contract and its twin; the note's e = 3 token then redeems."""
    e = pool.epoch - 1
    message = note_message(pool.chain_id, pool.address, e, address(FRESH))
    token = words(exponents.sign_with(rsa(0), exponents.exponent(rsa(0), kind), message))
    sig = pool.consent(FRESH, e, 0)
    refused("trade_notes: token does not verify", pool.redeem, address(RELAYER), e, address(FRESH), 0, token=token,
            signature=sig)  # fmt: skip
    pool.redeem(address(RELAYER), e, address(FRESH), 0, signature=sig)


def test_named_relayer_cannot_be_front_run_and_anyone_pays_the_fresh_address_the_same(pool):
    e = pool.epoch - 1
    named = pool.consent(FRESH, e, 50, address(RELAYER))
    refused("trade_notes: caller is not the named relayer", pool.redeem, address(THIEF), e, address(FRESH), 50,
            address(RELAYER), signature=named)  # fmt: skip
    refused("trade_notes: redemption not signed by the fresh address", pool.redeem, address(THIEF), e,
            address(FRESH), 50, address(THIEF), signature=named)  # fmt: skip
    # a consent for anyone: a front-runner takes the fee, never the fresh address's share
    anyone = pool.consent(7, e, 50)
    assert pool.redeem(address(THIEF), e, address(7), 50, signature=anyone) == [
        Payout(address(7), DENOM - 50), Payout(address(THIEF), 50)
    ]  # fmt: skip


def test_replay_is_refused_here_and_worthless_in_another_pool():
    """Two pools of the same issuer with the same key on the same day: a note redeemed in one is refused again
    there, and neither its token nor its consent is worth anything in the other."""
    p, q = Pool(), Pool()
    for x in (p, q):
        x.register(address(ISSUER), x.epoch, 0)
        x.deposit(address(2), blinded_hash(0))
    e = p.epoch
    p.next_day()
    sig = p.consent(FRESH, e, 0)
    p.redeem(address(RELAYER), e, address(FRESH), 0, signature=sig)
    refused("trade_notes: note already redeemed", p.redeem, address(RELAYER), e, address(FRESH), 0, signature=sig)
    refused("trade_notes: note already redeemed", p.redeem, address(FRESH), e, address(FRESH), 0)
    token = p.token(e, address(FRESH))
    refused(
        "trade_notes: redemption not signed by the fresh address",
        q.redeem,
        address(RELAYER),
        e,
        address(FRESH),
        0,
        token=token,
        signature=sig,
    )  # fmt: skip  (the consent's domain is its pool)
    refused("trade_notes: token does not verify", q.redeem, address(FRESH), e, address(FRESH), 0, token=token)
    q.redeem(address(FRESH), e, address(FRESH), 0)  # q's own note for the same address is another note


def test_tokens_of_another_pool_chain_or_epoch_do_not_verify(pool):
    e = pool.epoch - 1
    fresh = address(FRESH)
    for token in (
        pool.token(e, fresh, pool="0x" + "ab" * 20),
        pool.token(e, fresh, chain_id=pool.chain_id + 1),
        pool.token(e + 1, fresh),  # tomorrow's note (same key): not today's
        pool.token(e - 1, fresh, k=0),
    ):
        refused("trade_notes: token does not verify", pool.redeem, fresh, e, fresh, 0, token=token)
    # another key's signature on the right note: refused by the range check when it is not below the epoch's key
    other = pool.token(e, fresh, k=1)
    reason = "does not verify" if from_words(other) < rsa(0).public.n else "is not below the modulus"
    refused(f"trade_notes: token {reason}", pool.redeem, fresh, e, fresh, 0, token=other)
    pool.redeem(fresh, e, fresh, 0)


def test_issuer_forging_notes_is_capped_and_detected(pool):
    e = pool.epoch - 1
    held_before = pool.c.held()
    for j in (20, 21):  # two forged notes take the epoch's two places
        pool.redeem(address(j), e, address(j), 0)
    refused("trade_notes: epoch exhausted", pool.redeem, address(22), e, address(22), 0)  # a third: no place left
    refused("trade_notes: epoch exhausted", pool.redeem, address(FRESH), e, address(FRESH), 0)  # the honest note
    assert pool.c.held() == held_before - 2 * DENOM == 0
    assert boa.env.get_balance(pool.c.address) == 0  # nothing was minted: the pool paid what it held
    # the next epoch's depositors are untouched
    pool.deposit(address(2), blinded_hash(5))
    pool.next_day()
    pool.redeem(address(7), e + 1, address(7), 0)


def test_forged_notes_on_an_empty_epoch_take_nothing(pool):
    e = pool.epoch  # no deposits today
    pool.next_day()
    refused("trade_notes: epoch exhausted", pool.redeem, address(20), e, address(20), 0)
    assert pool.c.held() == 2 * DENOM


def test_depositor_cannot_get_two_notes_for_one_deposit():
    gateway = BoaGateway(accounts=4)
    deployer, issuer_account, a, _ = gateway.accounts
    client, _ = NotesClient.deploy(gateway, deployer, ETH, DENOM, issuer_account)
    issuer = Issuer(client, issuer_account)
    issuer.register(client.epoch(), rsa(0))
    alice = Depositor(client, a, dev_keys(4)[2])
    pending = alice.deposit()
    request = alice.request(pending)
    issuer.sign(request)
    with pytest.raises(Refused, match="has been signed for"):
        issuer.sign(request)
    # a second note's blinded message presented on the same deposit
    other = Depositor(client, a, dev_keys(4)[2])
    extra = other.request(other.deposit())
    with pytest.raises(Refused, match="another blinded message"):
        issuer.sign(SignRequest(client.address, pending.tx_hash, extra.blinded, extra.proof))


def test_refusing_recipients_are_credited_and_block_nobody(pool):
    e = pool.epoch - 1
    owner = str(boa.env.eoa)
    fresh_wallet = load(FIXTURES / "rejecting_wallet.vy").deploy()
    relay_wallet = load(FIXTURES / "rejecting_wallet.vy").deploy()
    pool.model.rejects |= {str(fresh_wallet.address).lower(), str(relay_wallet.address).lower()}
    payouts = pool.redeem(owner, e, str(fresh_wallet.address), 0, via=fresh_wallet)
    assert payouts == [Payout(str(fresh_wallet.address).lower(), DENOM, True)]
    payouts = pool.redeem(owner, e, address(FRESH), 77, signature=pool.consent(FRESH, e, 77), via=relay_wallet)
    assert payouts == [Payout(address(FRESH), DENOM - 77), Payout(str(relay_wallet.address).lower(), 77, True)]
    assert pool.c.held() == DENOM + 77 and boa.env.get_balance(pool.c.address) == DENOM + 77


def test_reentrant_recipient_cannot_be_paid_twice(pool):
    e = pool.epoch - 1
    owner = str(boa.env.eoa)
    wallet = load(FIXTURES / "reentrant_wallet.vy").deploy()
    w = str(wallet.address).lower()
    token = pool.token(e, w)
    wallet.arm(pool.c.address, pool.c.redeem.prepare_calldata(e, w, 0, ZERO, token, b""))
    pool.redeem(owner, e, w, 0, via=wallet)
    assert wallet.reentry_tried() == 1 and wallet.reentry_succeeded() == 0
    assert wallet.received_wei() == DENOM and pool.c.redemptions(e) == 1
    pool.redeem(address(RELAYER), e, address(FRESH), 0, signature=pool.consent(FRESH, e, 0))  # the other note


def test_redeem_in_the_deposits_own_epoch_is_refused(pool):
    pool.deposit(address(2), blinded_hash(9))
    e = pool.epoch
    refused("trade_notes: note epoch not over", pool.redeem, address(FRESH), e, address(FRESH), 0)
    refused("trade_notes: note epoch not over", pool.redeem, address(FRESH), e + 1, address(FRESH), 0)
    pool.next_day()
    pool.redeem(address(FRESH), e, address(FRESH), 0)
