"""The auctioneer's service over real HTTP on loopback: an auction end to end is model.run_auction's, and every
malformed or foreign request is refused naming its field."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gridchain.checks import show
from gridchain.crypto.keys import address_of
from gridchain.errors import InputError, Refused
from gridchain.market.petcon import model
from gridchain.market.petcon.parties.auctioneer import Auction, Opening
from gridchain.market.petcon.parties.phev import AuctioneerClient, Phev
from gridchain.market.petcon.parties.wire import signed
from gridchain.market.petcon.scenarios import demo
from gridchain.market.petcon.service import auctioneer_app
from gridchain.net.server import LoopbackServer

POLE = "0x" + "11" * 20


@pytest.fixture(scope="module")
def market():
    return model.paper_market(np.random.default_rng(1), buyers=3, sellers=3)


def test_an_auction_over_http_is_the_models(market):
    auction, _ = demo.run_over_http(demo.opening_of(market), demo.phevs_of(market, 1))
    reference = model.run_auction(market, damping=model.DAMPING)
    assert (auction.k, auction.outcome) == (reference.rounds, reference.outcome) == (34, "converged")
    np.testing.assert_allclose(auction.solution.c_kwh, reference.final.c_kwh, rtol=1e-9, atol=0)
    record = auction.record()
    np.testing.assert_allclose(record["b_usd"], reference.b_usd, rtol=1e-9, atol=0)
    np.testing.assert_allclose(record["s_usd_per_kwh"], reference.s_usd_per_kwh, rtol=1e-9, atol=0)
    assert "sto" not in record and "tau" not in record  # never disclosed


@pytest.fixture
def service():
    auction = Auction(Opening(lot=1, round=9, first_interval=100, intervals=4, buyers=1, sellers=1))
    with LoopbackServer(auctioneer_app(auction)) as server:
        client = AuctioneerClient(server.url)
        yield auction, client
        client.close()


def _buyer(key: bytes = b"\x01" * 32) -> Phev:
    return Phev("buyer", POLE, (5.0, 12.0), (0.4, 0.3), key)


def _seller(key: bytes = b"\x02" * 32) -> Phev:
    return Phev("seller", POLE, (10.0, 1.5), (0.01, 0.015), key)


def _refused(client, path, body, error, field):
    with pytest.raises(error) as e:
        client.post(path, body)
    assert e.value.field == field, e.value
    return e.value


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"auction": 8}, Refused, "auction"),
        ({"role": "miner"}, InputError, "role"),
        ({"c_min_kwh": -1.0}, InputError, "c_min_kwh"),
        ({"c_max_kwh": math.inf}, InputError, "c_max_kwh"),
        ({"sto": 0.3}, InputError, "sto"),
        ({"pole": "0x12"}, InputError, "pole"),
    ],
)
def test_bad_joins_are_refused_naming_the_field(service, change, error, field):
    auction, client = service
    p = _buyer()
    body = {"auction": 9, "pole": POLE, "role": "buyer", "c_min_kwh": 5.0, "c_max_kwh": 12.0} | change
    reason = _refused(client, "/join", signed(p.key, body), error, field).reason
    value = next(iter(change.values()))
    assert (show(value) if field != "pole" else repr(value)) in reason or field == "sto"
    assert auction.seats == {}


def test_a_request_signed_by_another_key_is_refused(service):
    auction, client = service
    body = _buyer().join_body(9) | {"pseudonym": address_of(b"\x03" * 32)}
    assert "not by the pseudonym" in _refused(client, "/join", body, Refused, "signature").reason
    assert auction.seats == {}


def test_duplicate_join_unknown_pseudonym_and_full_seats(service):
    auction, client = service
    client.post("/join", _buyer().join_body(9))
    _refused(client, "/join", _buyer().join_body(9), Refused, "pseudonym")
    _refused(client, "/join", _buyer(b"\x04" * 32).join_body(9), Refused, "role")
    _refused(client, "/allocation", signed(b"\x05" * 32, {"auction": 9, "k": 1}), Refused, "pseudonym")
    assert len(auction.seats) == 1 and auction.state == "joining"


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"k": 2}, Refused, "k"),
        ({"row": 1}, Refused, "row"),
        ({"bids": [math.nan]}, InputError, "bids[0]"),
        ({"bids": [-0.5]}, InputError, "bids[0]"),
        ({"bids": [0.5, 0.5]}, InputError, "bids"),
        ({"bids": [True]}, InputError, "bids[0]"),
    ],
)
def test_bad_bids_are_refused_naming_the_field(service, change, error, field):
    auction, client = service
    buyer, seller = _buyer(), _seller()
    client.post("/join", buyer.join_body(9))
    client.post("/join", seller.join_body(9))
    assert auction.state == "bidding" and auction.k == 1
    body = {"auction": 9, "k": 1, "row": 0, "bids": [0.7]} | change
    _refused(client, "/bids", signed(buyer.key, body), error, field)
    client.post("/bids", signed(buyer.key, {"auction": 9, "k": 1, "row": 0, "bids": [0.7]}))
    _refused(client, "/bids", signed(buyer.key, {"auction": 9, "k": 1, "row": 0, "bids": [0.7]}), Refused, "bids")
    assert auction.k == 1  # the seller has not bid yet


def test_result_before_the_end_is_409_and_health_answers(service):
    _, client = service
    assert client.http.get("/result").status_code == 409
    assert client.http.get("/health").status_code == 200
    assert client.get("/auction")["opening"]["round"] == 9
