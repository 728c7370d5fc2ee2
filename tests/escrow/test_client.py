"""The escrow's client on the embedded chain: deploy beside a metering contract and the coin, the meter owner's
offer, open in ETH and in the coin, resolutions in any wallet form, a voucher claim and a refund, read back; the
trade id it computes equals the contract's; a relayer's deposit for a fresh buyer, its open from the balance
and a withdrawal; malformed or duplicate signatures refused before sending, naming the
field; a revert comes back with the contract's reason."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from gridchain.chain.anvil import dev_keys
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import ChainRevert
from gridchain.coin.client import CoinClient
from gridchain.crypto.keys import address_of
from gridchain.errors import InputError
from gridchain.escrow import EscrowClient, Terms
from gridchain.escrow.model import ETH
from gridchain.metering.client import MeteringClient
from tests.committee.signatures import FORMS

OWNER, SELLER, ARBITER, METER = (keccak(text=f"escrow client key {i}") for i in range(4))
AMOUNT = 10**15


@pytest.fixture
def setup():
    gateway = BoaGateway(accounts=4)
    deployer, buyer = gateway.accounts[:2]
    metering, _ = MeteringClient.deploy(gateway, deployer, 0)
    metering.register_meter(deployer, address_of(METER), address_of(OWNER), 1, 1)
    coin, _ = CoinClient.deploy(gateway, deployer)
    escrow, _ = EscrowClient.deploy(gateway, deployer, metering.address, coin.address)
    coin.mint(deployer, buyer, 10 * AMOUNT)
    coin.approve(buyer, escrow.address, 10 * AMOUNT)
    return gateway, escrow, coin, buyer


def terms(gateway, buyer, token=ETH, slot=0, seller=None):
    first = gateway.now() // 900 + 8 + 4 * slot
    return Terms(
        buyer, seller or address_of(SELLER), address_of(ARBITER), token, AMOUNT, address_of(METER), first, 4, 2_000,
        gateway.now() + 3600, keccak(text=f"salt {slot}"),
    )  # fmt: skip


def test_open_and_release_in_any_signature_form(setup):
    gateway, escrow, _, buyer = setup
    t = terms(gateway, buyer)
    assert escrow.trade_id(t) == bytes(escrow.view("trade_id", t.as_tuple()))
    escrow.open(t, FORMS["compact"](escrow.sign_offer(OWNER, t)))
    assert escrow.status(t) == 1 and escrow.is_locked(t.meter, t.first_interval) and escrow.held() == (AMOUNT, 0)
    sigs = [FORMS["v01"](escrow.sign_resolution(SELLER, t, AMOUNT)), escrow.sign_resolution(ARBITER, t, AMOUNT)]
    escrow.resolve(gateway.accounts[3], t, AMOUNT, sigs)
    assert escrow.status(t) == 2 and gateway.balance(t.seller) == AMOUNT and escrow.held() == (0, 0)
    assert escrow.is_locked(t.meter, t.first_interval)


def test_coin_trade_claimed_on_a_voucher(setup):
    gateway, escrow, coin, buyer = setup
    seller = gateway.accounts[2]
    t = terms(gateway, buyer, token=coin.address, seller=seller)
    escrow.open(t, escrow.sign_offer(OWNER, t))
    assert escrow.held() == (0, AMOUNT) and escrow.coin() == coin.address
    escrow.claim(t, AMOUNT // 4, escrow.sign_voucher(dev_keys(2)[1], t, AMOUNT // 4))
    assert coin.balance_of(seller) == AMOUNT // 4 and coin.balance_of(buyer) == 10 * AMOUNT - AMOUNT // 4


def test_refund_after_the_deadline_and_a_revert_with_its_reason(setup):
    gateway, escrow, _, buyer = setup
    t = terms(gateway, buyer)
    escrow.open(t, escrow.sign_offer(OWNER, t))
    with pytest.raises(ChainRevert) as e:
        escrow.refund(buyer, t)
    assert e.value.reason == "trade_escrow: deadline not reached"
    gateway.advance_time(3600)
    escrow.refund(gateway.accounts[3], t)
    assert escrow.status(t) == 2 and not escrow.is_locked(t.meter, t.first_interval)
    assert escrow.credit(buyer) == 0


def test_malformed_and_duplicate_signatures_are_refused_before_sending(setup):
    gateway, escrow, _, buyer = setup
    t = terms(gateway, buyer)
    with pytest.raises(InputError) as e:
        escrow.open(t, FORMS["high_s"](escrow.sign_offer(OWNER, t)))
    assert e.value.field == "offer"
    escrow.open(t, escrow.sign_offer(OWNER, t))
    one = escrow.sign_resolution(SELLER, t, AMOUNT)
    with pytest.raises(InputError) as e:
        escrow.resolve(buyer, t, AMOUNT, [one, FORMS["short"](one)])
    assert e.value.field == "signatures[1]"
    with pytest.raises(InputError) as e:
        escrow.resolve(buyer, t, AMOUNT, [one, FORMS["compact"](one)])
    assert e.value.field == "signatures"
    with pytest.raises(InputError) as e:
        escrow.claim(t, 1, b"\x01" * 10)
    assert e.value.field == "voucher"


@pytest.mark.integration
def test_osaka_receipts_on_anvil_meet_the_issues_targets_and_match_prague():
    """The gas section on anvil (Osaka) against the embedded chain (Prague): Osaka reprices nothing the escrow
    uses, so the figures agree up to the signatures' zero bytes (the chains' ids differ, so do the signatures; 12
    gas per zero byte, three signatures a call at most). An ETH trade opens and a 2-of-3 release to a fresh seller
    settles within the issue's targets; the coin's open is measured, not held to the target (it misses it:
    docs in gridchain.escrow.gas and the report)."""
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.escrow import gas

    prague = gas.measure_functions(BoaGateway(accounts=gas.ACCOUNTS))
    with start_anvil(hardfork="osaka", accounts=gas.ACCOUNTS) as node:
        osaka = gas.measure_functions(RpcGateway(node.url, node.keys))
    assert osaka.keys() == prague.keys()
    assert all(abs(osaka[k] - prague[k]) <= 3 * 4 * 12 for k in osaka), (osaka, prague)
    assert osaka["open_eth_first_lock"] <= gas.TARGETS["open"] and osaka["open_eth_later_lock"] <= gas.TARGETS["open"]
    releases = [v for k, v in osaka.items() if k.startswith("release_")]
    assert len(releases) == 3 and max(releases) <= gas.TARGETS["release"]
    assert osaka["open_coin_later_lock"] > osaka["open_eth_later_lock"]  # the coin's transferFrom writes 3 slots


def test_a_deposit_funds_a_fresh_buyer_that_opens_from_its_balance(setup):
    gateway, escrow, coin, relayer = setup  # the funded account relays: the buyer's address is fresh
    fresh = gateway.accounts[3]
    escrow.deposit(relayer, fresh, 3 * AMOUNT)
    assert escrow.coin_balance(fresh) == 3 * AMOUNT and escrow.held() == (0, 3 * AMOUNT)
    t = terms(gateway, fresh, token=coin.address)
    escrow.open(t, escrow.sign_offer(OWNER, t))
    assert escrow.coin_balance(fresh) == 2 * AMOUNT and coin.balance_of(fresh) == 0
    escrow.withdraw_coin(fresh, fresh, 2 * AMOUNT)
    assert escrow.coin_balance(fresh) == 0 and coin.balance_of(fresh) == 2 * AMOUNT and escrow.held() == (0, AMOUNT)
    with pytest.raises(ChainRevert) as e:
        escrow.withdraw_coin(fresh, fresh, 1)
    assert e.value.reason == "trade_escrow: amount above the balance"
