"""The settlement's client over a chain gateway (the embedded chain): deploy on a real coin, metering contract and
call market, deposit, bind meters, build units from meter-signed readings (`unit_of`), settle, read the views;
bad input refused by the client naming the field, the contract's refusals surfacing as its reasons."""

from __future__ import annotations

import re

import pytest
from eth_utils import keccak

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import ChainRevert
from gridchain.coin import UNIT, CoinClient
from gridchain.errors import InputError
from gridchain.market.client import CallMarketClient
from gridchain.market.model import BUY, SELL, Order, Params
from gridchain.market.settlement.client import SettlementClient, unit_of
from gridchain.market.settlement.model import ASK, BID, MAX_UNITS
from gridchain.metering import MeterGateway, MeteringClient, SmartMeter

PARAMS = Params(interval_s=900, reveal_s=300, gate_s=60, horizon=8, zones=2, zone_fees=20_000 << 32, rule=0)
COMMUNITY = 3
UTILITY = 300_000  # [micro-coin/kWh]
NOTICE_S = 8 * 900 + 2 * 86400


@pytest.fixture(scope="module")
def world():
    """Owner (also house and gateway), a buyer and a seller with a meter each, 50 coins deposited each."""
    chain = BoaGateway(accounts=3)
    owner, buyer, seller = chain.accounts
    coin, _ = CoinClient.deploy(chain, owner)
    market, _ = CallMarketClient.deploy(chain, owner, PARAMS)
    metering, _ = MeteringClient.deploy(chain, owner, 86400)
    metering.set_gateway(owner, owner)
    house, receipt = SettlementClient.deploy(
        chain, owner, coin.address, metering.address, market.address, COMMUNITY, owner, UTILITY, NOTICE_S
    )
    assert receipt.gas_used > 0
    meters = {}
    for trader, side in ((buyer, BID), (seller, ASK)):
        meter = SmartMeter(keccak(text=f"client test meter {side}"), metering.domain())
        metering.register_meter(owner, meter.address, trader, COMMUNITY, side)
        metering.assign_gateway(owner, meter.address, owner)
        meters[side] = meter
    for account in (owner, buyer, seller):
        coin.mint(owner, account, 100 * UNIT)
        coin.approve(account, house.address, 100 * UNIT)
        house.deposit(account, 50 * UNIT)
    return chain, coin, market, metering, house, meters


def trade(chain, market, buyer, seller) -> tuple[int, tuple]:
    """A buyer of 2,000 Wh at 0.30 and a seller of 1,500 Wh at 0.20 (zone 0): 1,500 Wh at 0.25 coin/kWh."""
    k = chain.now() // PARAMS.interval_s + 2
    orders = (
        (buyer, Order(buyer.lower(), 300_000, 2_000, 0, BUY)),
        (seller, Order(seller.lower(), 200_000, 1_500, 0, SELL)),
    )
    sealed = [market.commit(t, k, o)[0] for t, o in orders]
    chain.advance_time(PARAMS.reveal_open(k) - chain.now())
    for (t, _), s in zip(orders, sealed, strict=True):
        market.reveal(t, s)
    chain.advance_time(PARAMS.reveal_close(k) - chain.now())
    args = market.prepare(k, PARAMS.zone_fees, PARAMS.rule)
    market.clear(chain.accounts[0], k, args)
    return k, args.book


def test_deposit_meters_settle_and_views_through_the_client(world):
    chain, coin, market, metering, house, meters = world
    owner, buyer, seller = chain.accounts
    assert house.total_held() == 150 * UNIT == coin.balance_of(house.address)
    for trader, side in ((buyer, BID), (seller, ASK)):
        house.set_meter(owner, trader, side, meters[side].address)
        assert house.meter_of(trader, side) == meters[side].address.lower()
    k, book = trade(chain, market, buyer, seller)
    assert market.clearing(k).volume_wh == 1_500 and market.clearing(k).buy_price == 250_000
    gateway = MeterGateway(metering, owner)
    gateway.collect([meters[BID].sign_reading(k * 900, 1_600), meters[ASK].sign_reading(k * 900, 1_500)])
    day = k * 900 // 86400
    chain.advance_time((day + 1) * 86400 - chain.now())
    units = []
    for trader, side in ((buyer, BID), (seller, ASK)):
        gateway.anchor(meters[side].address, day)
        p = gateway.proof(meters[side].address, k * 900)
        units.append(unit_of(trader, side, p.signed.reading.active_wh, 0, p.signed.signature, p.proof))
    logs, receipt = house.settle(owner, k, book, units)
    # the buyer: 1,500 Wh x 0.25 = 0.375 coin, plus 100 Wh over-drawn x 0.30 = 0.03; the seller: 0.375
    assert [(e.side, e.filled_wh, e.metered_wh, e.debited, e.credited) for e in logs] == [
        (BID, 1_500, 1_600, 405_000, 0),
        (ASK, 1_500, 1_500, 0, 375_000),
    ]
    assert receipt.gas_used > 0
    assert house.balance_of(buyer) == 50 * UNIT - 405_000 and house.balance_of(seller) == 50 * UNIT + 375_000
    assert house.balance_of(owner) == 50 * UNIT + 30_000 and house.debt(buyer) == 0
    assert house.is_settled(meters[BID].address, k) and not house.is_settled(meters[BID].address, k + 1)
    with pytest.raises(ChainRevert, match="market_settlement: already settled"):
        house.settle(owner, k, book, units[:1])
    orders, valid, marks = book
    with pytest.raises(ChainRevert, match="market_settlement: book mismatch"):
        house.settle(owner, k, (orders, valid, marks ^ (1 << 96)), units[:1])
    with pytest.raises(ChainRevert, match="market_settlement: book mismatch"):
        house.settle(owner, k, (orders, [valid[0] ^ 1, *valid[1:]], marks), units[:1])


def test_withdrawal_after_the_notice_through_the_client(world):
    chain, coin, _, _, house, _ = world
    trader = chain.accounts[2]
    before = coin.balance_of(trader)
    house.request_withdrawal(trader, 10 * UNIT)
    amount, at = house.withdrawal_notice(trader)
    assert amount == 10 * UNIT and at == chain.now() + NOTICE_S
    with pytest.raises(ChainRevert, match="market_settlement: notice running"):
        house.withdraw(trader)
    chain.advance_time(NOTICE_S)
    house.withdraw(trader)
    assert coin.balance_of(trader) == before + 10 * UNIT and house.withdrawal_notice(trader) == (0, 0)
    assert house.total_held() == coin.balance_of(house.address)


def test_the_contract_reasons_come_back(world):
    chain, _, _, _, house, meters = world
    owner, buyer, _ = chain.accounts
    with pytest.raises(ChainRevert, match="market_settlement: zero amount"):
        house.deposit(buyer, 0)
    with pytest.raises(ChainRevert, match="market_settlement: meter not the trader's"):
        house.set_meter(owner, buyer, BID, meters[ASK].address)
    with pytest.raises(ChainRevert, match="ownable: caller is not the owner"):
        house.set_meter(buyer, buyer, BID, meters[BID].address)


SIGNATURE = bytes(31) + b"\x01" + bytes(31) + b"\x01" + b"\x1b"
TRADER = "0x" + "11" * 20
VALID = [0] * 8  # an empty valid bitmap


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("trader", {"trader": "0x12"}),
        ("side", {"side": 2}),
        ("active_wh", {"active_wh": -1}),
        ("active_wh", {"active_wh": 2**64}),
        ("reactive_varh", {"reactive_varh": True}),
        ("signature", {"signature": b"\x00" * 10}),
        ("proof", {"proof": [b"\x00"] * 33}),
        ("proof[1]", {"proof": [b"\x00" * 32, b"\x00" * 31]}),
    ],
)
def test_unit_of_refuses_bad_input_naming_the_field(field, kwargs):
    args = {"trader": TRADER, "side": 0, "active_wh": 1, "reactive_varh": 0, "signature": SIGNATURE, "proof": []}
    with pytest.raises(InputError, match=f"^{re.escape(field)}: "):
        unit_of(**(args | kwargs))


def test_the_client_refuses_bad_input_naming_the_field(world):
    chain, coin, market, metering, house, _ = world
    owner = chain.accounts[0]
    cases = [
        ("amount", lambda: house.deposit(owner, -1)),
        ("amount", lambda: house.request_withdrawal(owner, "10")),
        ("side", lambda: house.set_meter(owner, owner, 2, TRADER)),
        ("meter", lambda: house.set_meter(owner, owner, 0, "meter")),
        ("trader", lambda: house.set_meter(owner, "0xzz", 0, TRADER)),
        ("interval", lambda: house.settle(owner, -1, ([], VALID, 0), [])),
        ("book", lambda: house.settle(owner, 1, ([], []), [])),
        ("book", lambda: house.settle(owner, 1, ([], [], 0, [], 0), [])),  # spec v1's sorted lists
        ("book.orders", lambda: house.settle(owner, 1, ([0] * 2049, VALID, 0), [])),
        ("book.orders", lambda: house.settle(owner, 1, (5, VALID, 0), [])),
        (r"book.orders\[1\]", lambda: house.settle(owner, 1, ([0, -1], VALID, 0), [])),
        ("book.valid", lambda: house.settle(owner, 1, ([], [0] * 7, 0), [])),
        ("book.valid", lambda: house.settle(owner, 1, ([], "0" * 8, 0), [])),
        (r"book.valid\[7\]", lambda: house.settle(owner, 1, ([], [0] * 7 + [2**256], 0), [])),
        ("book.marks", lambda: house.settle(owner, 1, ([], VALID, -1), [])),
        ("book.marks", lambda: house.settle(owner, 1, ([], VALID, 1.0), [])),
        ("units", lambda: house.settle(owner, 1, ([], VALID, 0), [None] * (MAX_UNITS + 1))),
        (
            "house",
            lambda: SettlementClient.deploy(
                chain, owner, coin.address, metering.address, market.address, 1, "x", 1, NOTICE_S
            ),
        ),
        (
            "notice_s",
            lambda: SettlementClient.deploy(
                chain, owner, coin.address, metering.address, market.address, 1, owner, 1, -5
            ),
        ),
    ]
    for field, call in cases:
        with pytest.raises(InputError, match=f"^{field}: "):
            call()
