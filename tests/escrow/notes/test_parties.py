"""The notes parties on the embedded chain through the client: a depositor funds a fresh address through the
issuer's blind signature and a relayer, in ETH and in the coin; the issuer signs once per proven deposit and
refuses another's proof, another blinded message, a second request, an unknown transaction; the relayer refuses
orders it would lose gas on (a raised fee, another relayer, a bad token) before sending; the client's reads agree
with the contract."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from gridchain.chain.anvil import dev_keys
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import ChainRevert
from gridchain.coin.client import CoinClient
from gridchain.crypto import blind
from gridchain.crypto.keys import sign_personal
from gridchain.errors import InputError, Refused
from gridchain.escrow.notes.client import NotesClient
from gridchain.escrow.notes.model import EPOCH_SECONDS, ETH
from gridchain.escrow.notes.parties import Depositor, Issuer, Order, Relayer, SignRequest, proof_message
from tests.escrow.notes.keys import rsa

DENOM = 10**17


def next_day(gateway) -> None:
    gateway.advance_time(EPOCH_SECONDS - gateway.now() % EPOCH_SECONDS + 600)


@pytest.fixture
def world():
    gateway = BoaGateway(accounts=5)
    deployer, issuer_account, a, b, relayer_account = gateway.accounts
    keys = dev_keys(5)
    pool, _ = NotesClient.deploy(gateway, deployer, ETH, DENOM, issuer_account)
    issuer = Issuer(pool, issuer_account)
    today = pool.epoch()
    issuer.register(today, rsa(0))
    issuer.register(today + 1, rsa(1))
    return (
        gateway,
        pool,
        issuer,
        Depositor(pool, a, keys[2]),
        Depositor(pool, b, keys[3]),
        Relayer(pool, relayer_account),
    )


def test_a_fresh_address_funded_through_issuer_and_relayer(world):
    gateway, pool, issuer, alice, bob, relayer = world
    pending = alice.deposit()
    assert pool.deposits(pending.epoch) == 1 and pool.held() == DENOM
    note = alice.finish(pending, issuer.sign(alice.request(pending)))
    assert blind.verify(rsa(0).public, pool.note_message(note.epoch, note.fresh), note.token)
    next_day(gateway)
    relayer_before = gateway.balance(relayer.account)
    order = Depositor.order(pool, note, 1000, relayer.account)
    relayer.submit(order)
    assert gateway.balance(note.fresh) == DENOM - 1000
    assert gateway.balance(relayer.account) == relayer_before + 1000 and relayer.earned == 1000
    assert pool.spent(note.fresh) and pool.redemptions(note.epoch) == 1 and pool.held() == 0
    with pytest.raises(ChainRevert, match="trade_notes: note already redeemed"):
        pool.redeem(relayer.account, note.epoch, note.fresh, 1000, relayer.account, note.token, order.signature)


def test_issuer_signs_once_per_proven_deposit(world):
    _, pool, issuer, alice, bob, _ = world
    first, second = alice.deposit(), bob.deposit()
    request = alice.request(first)
    with pytest.raises(Refused, match="proof is not the depositor's"):
        issuer.sign(SignRequest(pool.address, first.tx_hash, first.state.blinded, bob.request(first).proof))
    with pytest.raises(Refused, match="committed to another blinded message"):
        issuer.sign(SignRequest(pool.address, first.tx_hash, second.state.blinded, request.proof))
    with pytest.raises(Refused, match="no deposit in this transaction"):
        issuer.sign(SignRequest(pool.address, "0x" + "11" * 32, first.state.blinded, request.proof))
    with pytest.raises(Refused, match="another pool"):
        issuer.sign(SignRequest("0x" + "22" * 20, first.tx_hash, first.state.blinded, request.proof))
    with pytest.raises(InputError, match="blinded"):
        issuer.sign(SignRequest(pool.address, first.tx_hash, 0, request.proof))
    n = rsa(0).public.n  # a deposit committed to a value at or above n: not one the key signs
    tx = pool.deposit(alice.account, pool.epoch(), keccak(n.to_bytes(256, "big"))).tx_hash
    proof = sign_personal(alice.key, proof_message(pool.address, pool.epoch(), n))
    with pytest.raises(InputError, match="modulus"):
        issuer.sign(SignRequest(pool.address, tx, n, proof))
    signature = issuer.sign(request)
    with pytest.raises(Refused, match="has been signed for"):
        issuer.sign(request)
    alice.finish(first, signature)
    bob.finish(second, issuer.sign(bob.request(second)))


def test_relayer_refuses_orders_it_would_lose_gas_on(world):
    gateway, pool, issuer, alice, _, relayer = world
    pending = alice.deposit()
    note = alice.finish(pending, issuer.sign(alice.request(pending)))
    next_day(gateway)
    order = Depositor.order(pool, note, 500)
    with pytest.raises(Refused, match="consent is not the fresh address's"):
        relayer.submit(Order(order.epoch, order.fresh, 600, order.relayer, order.token, order.signature))
    with pytest.raises(Refused, match="token does not verify"):
        relayer.submit(Order(order.epoch, order.fresh, 500, order.relayer, order.token + 1, order.signature))
    with pytest.raises(Refused, match="names another relayer"):
        relayer.submit(Depositor.order(pool, note, 500, gateway.accounts[0]))
    with pytest.raises(Refused, match="fee below"):
        Relayer(pool, relayer.account, min_fee=501).submit(order)
    relayer.submit(order)
    assert gateway.balance(note.fresh) == DENOM - 500


def test_coin_pool_through_the_client():
    gateway = BoaGateway(accounts=5)
    deployer, issuer_account, a, _, relayer_account = gateway.accounts
    coin, _ = CoinClient.deploy(gateway, deployer)
    pool, _ = NotesClient.deploy(gateway, deployer, coin.address, 10**6, issuer_account)
    coin.mint(deployer, a, 10**7)
    coin.approve(a, pool.address, 10**7)
    issuer = Issuer(pool, issuer_account)
    issuer.register(pool.epoch(), rsa(0))
    alice = Depositor(pool, a, dev_keys(5)[2])
    pending = alice.deposit()
    note = alice.finish(pending, issuer.sign(alice.request(pending)))
    next_day(gateway)
    Relayer(pool, relayer_account).submit(Depositor.order(pool, note, 10))
    assert coin.balance_of(note.fresh) == 10**6 - 10 and coin.balance_of(relayer_account) == 10
    assert pool.coin() == coin.address.lower() and pool.denomination() == 10**6


def test_client_reads_and_input_errors(world):
    gateway, pool, issuer, alice, _, _ = world
    assert pool.issuer() == issuer.account and pool.epoch_public_key(pool.epoch()) == rsa(0).public
    assert pool.epoch_public_key(pool.epoch() + 9) is None
    with pytest.raises(InputError, match="blinded_hash"):
        pool.deposit(alice.account, pool.epoch(), b"\x01")
    with pytest.raises(InputError, match="token"):
        pool.redeem(alice.account, 0, gateway.accounts[4], 0, ETH, -1, b"\x00" * 65)
    with pytest.raises(Refused, match="no key registered"):
        next_day(gateway)
        next_day(gateway)
        alice.deposit()


@pytest.mark.integration
def test_the_flow_on_anvil_under_osaka_and_its_modexp_price():
    """Deposit, blind signature and relayed redemption on a real node (Osaka, EIP-7825's transaction gas cap);
    the redemption's receipt is the embedded chain's plus Osaka's modexp repricing (EIP-7883: 2,048 instead of
    EIP-2565's 341 for a 2048-bit token^3; it was 32,768 instead of 5,461 with e = 65537), up to the signatures'
    zero bytes (12 gas each). Registration measures 2,500 more on py-evm than on anvil under Prague as well (a
    difference of the chains around the CREATE2 of the key contract, not of the hardforks; docs/notes.md's table
    shows both)."""
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.escrow.notes import gas

    prague = gas.measure_functions(BoaGateway(accounts=gas.ACCOUNTS), rsa(0))
    with start_anvil(hardfork="osaka", accounts=5, extra_args=["--enable-tx-gas-limit"]) as node:
        gateway = RpcGateway(node.url, node.keys)
        osaka = gas.measure_functions(gateway, rsa(0))
        deployer, issuer_account, a, _, relayer_account = gateway.accounts
        pool, _ = NotesClient.deploy(gateway, deployer, ETH, DENOM, issuer_account)
        issuer = Issuer(pool, issuer_account)
        issuer.register(pool.epoch(), rsa(0))
        alice = Depositor(pool, a, node.keys[2])
        pending = alice.deposit()
        note = alice.finish(pending, issuer.sign(alice.request(pending)))
        next_day(gateway)
        Relayer(pool, relayer_account).submit(Depositor.order(pool, note, 1000))
        assert gateway.balance(note.fresh) == DENOM - 1000 and pool.spent(note.fresh)
    for name in prague:
        extra = 2_048 - 341 if name.startswith("redeem") else 0
        # the calldata differs between the chains (their ids and pools differ, so do the tokens, signatures and
        # random blinded hashes): each byte zero on one chain and not on the other moves 12 gas; ~1.5 such bytes are
        # expected per call, more than 8 has a chance below 1e-5 (a bound of 3 failed once here)
        assert abs(osaka[name] - prague[name] - extra) <= 8 * 12 + (2_500 if name == "register_epoch_key" else 0), name
