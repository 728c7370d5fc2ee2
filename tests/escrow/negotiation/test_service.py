"""The message board over loopback HTTP: round trips, refusals that name the field (nothing written), persistence
across a restart, health, metrics and logs; its schema on both store backends."""

import base64
import json
import random

import httpx
import pytest

from gridchain.errors import InputError
from gridchain.escrow.negotiation.model import CIPHERTEXT_SIZES, ETH, Listing, TradeKey, open_envelope, seal
from gridchain.escrow.negotiation.service.board import MAILBOX_MAX, SCHEMA, Board
from gridchain.escrow.negotiation.service.http import BoardClient, board_app
from gridchain.net.server import LoopbackServer
from gridchain.store.engine import open_store, sqlite_url
from gridchain.store.migrate import drift, head, revision

NOW = 1_800_000_000


def a_listing(key: TradeKey, **changes) -> Listing:
    base = dict(
        key=key.public,
        community="c1",
        energy_wh=5000,
        first_interval=100,
        intervals=4,
        price_min_wei_per_kwh=100,
        price_max_wei_per_kwh=200,
        token=ETH,
        expires=NOW + 3600,
    )
    return Listing(**(base | changes))


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "board.db"


@pytest.fixture
def clock():
    return [float(NOW)]


@pytest.fixture
def served(store_path, clock):
    store = open_store(sqlite_url(store_path))
    board = Board(store, clock=lambda: clock[0])
    with LoopbackServer(board_app(board)) as server:
        client = BoardClient(server.url)
        yield board, client, server.url
        client.close()
    store.close()


def test_a_listing_and_an_envelope_round_trip_over_http(served, clock):
    board, client, _ = served
    rng = random.Random(1)
    seller, buyer = TradeKey.fresh(rng), TradeKey.fresh(rng)
    listed = client.post_offer(a_listing(seller))
    assert client.offers("c1") == [listed] and client.offers("c2") == []
    envelope = seal(buyer, seller.public, {"kind": "pad", "turn": 0})
    seq = client.post(seller.public, envelope)
    assert client.fetch(seller.public) == [(seq, envelope)]
    assert client.fetch(seller.public, after=seq) == [] and client.fetch(buyer.public) == []
    assert open_envelope(seller, client.fetch(seller.public)[0][1]) == (buyer.public, {"kind": "pad", "turn": 0})
    clock[0] = NOW + 3600  # the listing expires: no longer shown, its mailbox still served
    assert client.offers("c1") == [] and len(client.fetch(seller.public)) == 1


def test_the_board_logs_what_it_saw_and_nothing_more(served):
    board, client, _ = served
    seller, buyer = TradeKey.fresh(random.Random(2)), TradeKey.fresh(random.Random(3))
    client.post_offer(a_listing(seller))
    client.post(seller.public, seal(buyer, seller.public, {"kind": "pad", "turn": 0}))
    client.fetch(seller.public)
    seen = board.observations()
    assert [o["event"] for o in seen] == ["listed", "posted", "fetched"]
    assert [o["mailbox"] for o in seen] == [seller.public] * 3
    assert seen[1]["size"] == CIPHERTEXT_SIZES[0]
    assert buyer.public not in json.dumps(seen)  # the sender's key is sealed: the board never sees it


@pytest.mark.parametrize(
    "method, path, body, field",
    [
        ("post", "/offers", {"energy_wh": 5001}, "energy_wh"),
        ("post", "/offers", {"price_max_wei_per_kwh": 1}, "price_max_wei_per_kwh"),
        ("post", "/offers", {"owner": "me"}, "owner"),
        ("post", "/offers", "not json", "body"),
        ("post", "/mailboxes/zz", {"ciphertext": ""}, "mailbox"),
        ("post", "/mailboxes/{key}", {"ciphertext": "!!"}, "ciphertext"),
        ("post", "/mailboxes/{key}", {"ciphertext": base64.b64encode(bytes(100)).decode()}, "ciphertext"),
        ("post", "/mailboxes/{key}", {"ciphertext": 7}, "ciphertext"),
        ("post", "/mailboxes/{key}", {"envelope": "x"}, "ciphertext"),
        ("post", "/mailboxes/{key}", "not json", "body"),
        ("get", "/mailboxes/{key}?after=-1", None, "after"),
        ("get", "/mailboxes/{key}?after=x", None, "after"),
        ("get", "/mailboxes/" + "AB" * 32, None, "mailbox"),
        ("get", "/offers", None, "community"),
        ("get", "/offers?community=" + "x" * 65, None, "community"),
    ],
)
def test_bad_input_answers_400_naming_the_field_and_writes_nothing(served, method, path, body, field):
    board, _, url = served
    key = TradeKey.fresh(random.Random(4))
    path = path.replace("{key}", key.public)
    if method == "post" and path == "/offers" and isinstance(body, dict):
        body = a_listing(key).to_json() | body
    before = board.counts()
    with httpx.Client(base_url=url) as http:
        if method == "get":
            response = http.get(path)
        elif isinstance(body, str):
            response = http.post(path, content=body)
        else:
            response = http.post(path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
    assert board.counts() == before


def test_a_key_lists_one_offer_and_a_mailbox_holds_a_bounded_number(served, store_path):
    board, client, _ = served
    seller, buyer = TradeKey.fresh(random.Random(5)), TradeKey.fresh(random.Random(6))
    client.post_offer(a_listing(seller))
    with pytest.raises(InputError, match="already lists an offer") as e:
        client.post_offer(a_listing(seller, energy_wh=1000))
    assert e.value.field == "key"
    envelope = seal(buyer, seller.public, {"kind": "pad", "turn": 0})
    for _ in range(MAILBOX_MAX):
        board.post(seller.public, envelope)
    with pytest.raises(InputError, match="is full") as e:
        client.post(seller.public, envelope)
    assert e.value.field == "mailbox"


def test_the_board_keeps_everything_across_a_restart(store_path, clock):
    seller, buyer = TradeKey.fresh(random.Random(7)), TradeKey.fresh(random.Random(8))
    envelope = seal(buyer, seller.public, {"kind": "pad", "turn": 0})
    store = open_store(sqlite_url(store_path))
    with LoopbackServer(board_app(Board(store, clock=lambda: clock[0]))) as server:
        client = BoardClient(server.url)
        listed = client.post_offer(a_listing(seller))
        seq = client.post(seller.public, envelope)
        client.close()
    store.close()
    store = open_store(sqlite_url(store_path))  # a new process would do the same
    board = Board(store, clock=lambda: clock[0])
    with LoopbackServer(board_app(board)) as server:
        client = BoardClient(server.url)
        assert client.offers("c1") == [listed]
        assert client.fetch(seller.public) == [(seq, envelope)]
        assert client.post(seller.public, envelope) > seq  # sequence numbers go on
        client.close()
    assert [o["event"] for o in board.observations()][:2] == ["listed", "posted"]
    store.close()


def test_health_metrics_and_json_line_logs(served, capsys):
    board, client, url = served
    seller, buyer = TradeKey.fresh(random.Random(9)), TradeKey.fresh(random.Random(10))
    client.post_offer(a_listing(seller))
    client.post(seller.public, seal(buyer, seller.public, {"kind": "pad", "turn": 0}))
    with httpx.Client(base_url=url) as http:
        health = http.get("/health")
        metrics = http.get("/metrics").text
    assert health.status_code == 200
    assert health.json()["store"] == {"ok": True, "listings": 1, "live_listings": 1, "envelopes": 1}
    assert "gridchain_negotiation_envelopes 1.0" in metrics
    assert 'gridchain_http_requests_total{method="POST",route="/mailboxes/{key}",status="202"} 1.0' in metrics
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert [(e["service"], e["event"]) for e in lines] == [
        ("negotiation-board", "listed"),
        ("negotiation-board", "posted"),
    ]


def test_health_fails_when_the_store_is_gone(served):
    board, _, url = served
    from sqlalchemy import create_engine

    from gridchain.store.engine import Store

    board.store = Store(create_engine("sqlite:////nonexistent/dir/board.db"))  # the database is gone
    with httpx.Client(base_url=url) as http:
        answer = http.get("/health")
    assert answer.status_code == 503 and answer.json()["failed"] == ["store"]


def test_the_schema_on_each_backend(store):
    board = Board(store, clock=lambda: NOW)
    assert revision(store, SCHEMA) == head(SCHEMA) and drift(store, SCHEMA) == []
    seller, buyer = TradeKey.fresh(random.Random(11)), TradeKey.fresh(random.Random(12))
    listed = board.post_offer(a_listing(seller))
    envelope = seal(buyer, seller.public, {"kind": "pad", "turn": 0})
    seq = board.post(seller.public, envelope)
    assert board.offers("c1") == [listed] and board.fetch(seller.public) == [(seq, envelope)]
