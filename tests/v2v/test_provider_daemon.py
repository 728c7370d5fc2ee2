"""The provider as a program (gridchain.v2v.parties.provider) and what it watches (parties.book), on the embedded
chain: the event reader reads each block once from its checkpoint, the bid policy's table, two daemons bidding
against each other down to the loser's reserve, the winner settling once the consumer's receipts cover the trade
(over its real loopback service, found at the URL announced on chain), the loser withdrawing its collateral; and
the consumer's wallet of receipts on disk."""

from __future__ import annotations

import json

import pytest

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.locked import LockedGateway
from gridchain.net.server import LoopbackServer
from gridchain.v2v.client import V2VClient
from gridchain.v2v.parties import ConsumerEV, ProviderEV
from gridchain.v2v.parties.book import AuctionRecord, Bid, EventReader
from gridchain.v2v.parties.provider import BidPolicy, ProviderDaemon
from gridchain.v2v.parties.wallet import ConsumerWallet
from gridchain.v2v.scenarios import dev_keys_for
from gridchain.v2v.service import ProviderClient, charge, provider_app

TWEI = 10**12
AMOUNT, INCREMENT, BIDDING = 6_000, 2_000, 600  # [Wh], [Wh], [s]
START = 300 * TWEI
ME, OTHER, CONSUMER = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20


def record(bids=(), amount_wh=AMOUNT, closing_time=1_000) -> AuctionRecord:
    r = AuctionRecord(CONSUMER, amount_wh, START, closing_time, 0, 0, 1)
    r.bids = [Bid(p, rate, 2) for p, rate in bids]
    return r


@pytest.mark.parametrize(
    ("auction", "committed", "now", "expected"),
    [
        (record(), 0, 999, 285 * TWEI),  # 5 % under the start rate
        (record([(OTHER, 210 * TWEI)]), 0, 999, 200 * TWEI),  # 5 % under would cross the reserve: the reserve
        (record([(OTHER, 200 * TWEI)]), 0, 999, None),  # at its reserve already
        (record([(ME, 285 * TWEI)]), 0, 999, None),  # it leads
        (record(), 0, 1_000, None),  # bidding closed at 1000
        (record(), 44_001, 999, None),  # 6 kWh more would exceed its 50 kWh
        (record(), 44_000, 999, 285 * TWEI),  # exactly its capacity
        (record([(OTHER, 3)]), 0, 999, None),  # a rate it cannot undercut above its reserve
    ],
)
def test_bid_policy(auction, committed, now, expected):
    assert BidPolicy(200 * TWEI, 50_000, step_pm=50).rate(auction, ME, committed, now) == expected


def test_bid_policy_never_bids_in_its_own_auction_and_steps_at_least_one_wei():
    own = AuctionRecord(ME, AMOUNT, START, 1_000, 0, 0, 1)
    assert BidPolicy(1, 10**9).rate(own, ME, 0, 0) is None
    tiny = record([(OTHER, 10)])
    assert BidPolicy(1, 10**9, step_pm=1).rate(tiny, ME, 0, 0) == 9  # 10 x 1/1000 rounds to 0: one wei less


class Pilot:
    """The contract on the embedded chain; EVs: consumer (account 1), providers p1 (2) and p2 (3), admitted with
    their service URLs announced like `gridchain v2v register` does."""

    def __init__(self) -> None:
        self.gateway = LockedGateway(BoaGateway(accounts=4))
        keys = dev_keys_for(self.gateway)
        owner = self.gateway.accounts[0]
        self.client, deployed = V2VClient.deploy(self.gateway, owner, 3600, 600)
        self.deployed_block = deployed.block
        self.consumer = ConsumerEV(self.client, keys[1])
        self.providers = [ProviderEV(self.client, keys[i], INCREMENT) for i in (2, 3)]
        self.log: list[dict] = []
        self.daemons = [
            ProviderDaemon(
                p, EventReader(self.client, self.deployed_block), BidPolicy(reserve, 50_000), self.log.append
            )
            for p, reserve in zip(self.providers, (150 * TWEI, 200 * TWEI))
        ]
        self.client.add_ev(owner, self.consumer.address, "")
        for i, p in enumerate(self.providers):
            self.client.add_ev(owner, p.address, f"http://127.0.0.1:{18_000 + i}")


@pytest.fixture
def pilot():
    return Pilot()


class Spy:
    """A gateway that records the block range of every log query it passes on."""

    def __init__(self, gateway) -> None:
        self.gateway, self.from_blocks = gateway, []

    def logs(self, artifact, address, names, from_block, to_block):
        self.from_blocks.append((from_block, to_block))
        return self.gateway.logs(artifact, address, names, from_block, to_block)

    def __getattr__(self, name):
        return getattr(self.gateway, name)


def test_event_reader_reads_each_block_once_from_its_checkpoint(pilot):
    spy = Spy(pilot.gateway)
    reader = EventReader(V2VClient(spy, pilot.client.address, pilot.client.artifact), pilot.deployed_block)
    assert reader.poll() == [] and reader.checkpoint == pilot.gateway.block_number() + 1
    first = reader.checkpoint
    pilot.consumer.start_auction(AMOUNT, BIDDING, START)
    spy.from_blocks.clear()
    seen = reader.poll()
    assert [e.name for e, _ in seen] == ["AuctionStarted"] and seen[0][1].amount_wh == AMOUNT
    assert set(spy.from_blocks) == {(first, reader.checkpoint - 1)}  # only the blocks since the last poll
    spy.from_blocks.clear()
    assert reader.poll() == [] and spy.from_blocks == []  # no new block: nothing asked, nothing read twice
    assert list(reader.book.open) == [pilot.consumer.address.lower()]


def test_event_reader_pages_a_long_history(pilot):
    pilot.consumer.start_auction(AMOUNT, BIDDING, START)
    spy = Spy(pilot.gateway)
    reader = EventReader(V2VClient(spy, pilot.client.address, pilot.client.artifact), 0, max_blocks=2)
    reader.catch_up()
    assert reader.checkpoint == pilot.gateway.block_number() + 1 and list(reader.book.open)
    assert all(to - start == 1 for start, to in spy.from_blocks)  # never more than two blocks per query


def test_event_reader_reads_afresh_after_a_reorganisation(pilot):
    spy = Spy(pilot.gateway)
    reader = EventReader(V2VClient(spy, pilot.client.address, pilot.client.artifact), pilot.deployed_block)
    pilot.consumer.start_auction(AMOUNT, BIDDING, START)
    assert [e.name for e, _ in reader.poll()] == ["AuctionStarted"]
    before = reader.book
    spy.block_hash = lambda number: "0x" + "ee" * 32  # every block read is now another one
    again = reader.poll()
    assert [e.name for e, _ in again] == ["AuctionStarted"] and reader.book is not before
    assert list(reader.book.open) == [pilot.consumer.address.lower()]


def test_event_reader_waits_for_confirmations(pilot):
    reader = EventReader(pilot.client, pilot.deployed_block, confirmations=2)
    pilot.consumer.start_auction(AMOUNT, BIDDING, START)
    assert reader.poll() == []  # the auction's block is the head: not 2 blocks deep yet
    pilot.client.add_ev(pilot.gateway.accounts[0], "0x" + "11" * 20, "")
    pilot.client.add_ev(pilot.gateway.accounts[0], "0x" + "12" * 20, "")
    assert [e.name for e, _ in reader.poll()] == ["AuctionStarted"]


def test_two_daemons_bid_down_to_the_losers_reserve_then_the_winner_settles(pilot, tmp_path):
    p1, p2 = pilot.daemons
    p2_before = pilot.gateway.balance(p2.me)
    pilot.consumer.start_auction(AMOUNT, BIDDING, START)
    for _ in range(30):  # each step: read, bid if outbid; they alternate until p2 reaches its reserve
        p2.step()
        p1.step()
    book = p1.reader.book.auctions[0]
    rates = [b.rate_wei_per_kwh for b in book.bids]
    assert rates == sorted(rates, reverse=True) and len(rates) > 2
    assert {b.provider for b in book.bids} == {p1.me, p2.me}
    assert book.leader == p1.me and 150 * TWEI <= book.rate_wei_per_kwh < 200 * TWEI
    assert any(e["action"] == "bid" for e in pilot.log)

    pilot.gateway.advance_time(BIDDING)
    token = pilot.consumer.end_auction()
    wallet = ConsumerWallet(tmp_path / "c1.json")
    url = pilot.client.announced(p1.me, pilot.deployed_block)
    assert url == "http://127.0.0.1:18000"  # what the consumer connects to: announced on chain
    with LoopbackServer(provider_app(p1.provider, pilot.gateway.now), 18_000) as server:
        http = ProviderClient(server.url)
        result = charge(pilot.consumer, http, token, wallet.keep)
        http.close()
    assert result["provider"] == p1.me and result["deliveries"][-1]["receipted_wh"] == AMOUNT
    assert wallet.receipt(token).delivered_wh == AMOUNT

    p1.step()
    p2.step()
    settled = [e for e in pilot.log if e["action"] == "settled"]
    assert len(settled) == 1 and settled[0]["delivered_wh"] == AMOUNT
    assert pilot.client.auction(pilot.consumer.address).closing_time == 0  # the trade is closed on chain
    withdrew = [e for e in pilot.log if e["action"] == "withdrew"]
    assert withdrew and pilot.client.pending_returns(p2.me) == 0
    assert pilot.gateway.balance(p2.me) == p2_before  # the loser has its collateral back (gas is free here)
    assert pilot.client.balance() == 0
    p1.step()
    assert len([e for e in pilot.log if e["action"] == "settled"]) == 1  # settled once


def test_daemon_settles_a_partial_trade_before_its_token_expires(pilot):
    p1 = pilot.daemons[0]
    pilot.consumer.start_auction(AMOUNT, BIDDING, START)
    p1.step()
    pilot.gateway.advance_time(BIDDING)
    token = pilot.consumer.end_auction()
    hello = pilot.consumer.hello(token)
    p1.provider.authenticate(hello, pilot.gateway.now())
    session = p1.provider.sessions[token]
    p1.provider.deliver(token, session.secret, pilot.gateway.now())
    p1.provider.accept_receipt(pilot.consumer.receipt(token, INCREMENT), session.secret, pilot.gateway.now())
    p1.step()
    assert not [e for e in pilot.log if e["action"] == "settled"]  # a third receipted, an hour to go: it waits
    pilot.gateway.advance_time(session.expires_at - p1.settle_margin_s - pilot.gateway.now())
    p1.step()
    assert [e["delivered_wh"] for e in pilot.log if e["action"] == "settled"] == [INCREMENT]


def test_daemon_logs_a_step_error_and_goes_on(pilot):
    import threading

    p1 = pilot.daemons[0]
    stop = threading.Event()
    calls = []

    def failing():
        calls.append(1)
        if len(calls) == 2:
            stop.set()
        raise ConnectionError("node down")

    p1.step = failing
    p1.run(stop, 0.0)
    assert len(calls) == 2 and pilot.log == [{"action": "error", "reason": "ConnectionError: node down"}] * 2


def test_health_fails_when_the_node_is_away_or_the_loop_keeps_failing(pilot):
    import threading

    import httpx

    from gridchain.net.health import Health, node_check

    p1 = pilot.daemons[0]
    node = {"answers": True}
    health = Health({"node": lambda: {"ok": node["answers"]}, "loop": p1.health})
    with LoopbackServer(provider_app(p1.provider, pilot.gateway.now, health)) as server:
        ok = httpx.get(server.url + "/health")
        assert ok.status_code == 200 and ok.json()["provider"] == p1.me and ok.json()["failed"] == []
        node["answers"] = False
        assert httpx.get(server.url + "/health").json()["failed"] == ["node"]
        node["answers"] = True
        stop, calls = threading.Event(), []

        def failing():
            calls.append(1)
            if len(calls) == 5:
                stop.set()
            raise ConnectionError("node down")

        p1.step = failing
        p1.run(stop, 0.0)  # five steps failed in a row
        down = httpx.get(server.url + "/health")
        assert down.status_code == 503 and down.json()["failed"] == ["loop"]
        assert down.json()["loop"]["last_error"] == "ConnectionError: node down"
    assert node_check("http://127.0.0.1:1", timeout_s=0.5)()["ok"] is False  # what the daemon checks its node with


def test_consumer_wallet_keeps_the_highest_receipt_atomically(pilot, tmp_path):
    path = tmp_path / "w" / "c1.json"
    wallet = ConsumerWallet.load(path, "v2v.wallets")
    token = b"\x07" * 32
    assert wallet.receipt(token) is None
    wallet.keep(pilot.consumer.receipt(token, 4_000))
    wallet.keep(pilot.consumer.receipt(token, 2_000))  # lower: ignored
    again = ConsumerWallet.load(path, "v2v.wallets")
    assert again.receipt(token).delivered_wh == 4_000
    assert again.receipt(token).signature == pilot.consumer.receipt(token, 4_000).signature
    assert path.stat().st_mode & 0o777 == 0o600 and [p.name for p in path.parent.iterdir()] == ["c1.json"]
    path.write_text(json.dumps([1]))
    with pytest.raises(Exception, match="v2v.wallets: .* is not a V2V consumer wallet"):
        ConsumerWallet.load(path, "v2v.wallets")
