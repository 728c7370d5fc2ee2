"""The provider's durable state (gridchain.v2v.parties.provider_store) on SQLite and PostgreSQL: sessions with
their best receipt, settlements from intent to outcome, bids, each provider seeing only its own rows; and a
provider daemon restarted over its store on the embedded chain: it takes its session back, the consumer goes on,
the trade is settled once, also when it was killed right after sending the settle transaction."""

from __future__ import annotations

import pytest

from gridchain.v2v.client import SignedReceipt
from gridchain.v2v.parties import ProviderEV, Session
from gridchain.v2v.parties.book import EventReader
from gridchain.v2v.parties.provider import BidPolicy, ProviderDaemon
from gridchain.v2v.parties.provider_store import SCHEMA, ProviderStore
from tests.v2v.test_provider_daemon import AMOUNT, BIDDING, INCREMENT, START, TWEI, Pilot

P1, P2, CONSUMER = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "Cc" * 20
TOKEN = b"\x01" * 32


@pytest.fixture
def migrated(store):
    store.migrate(SCHEMA)
    return store


def session(token: bytes = TOKEN) -> Session:
    return Session(CONSUMER, token, 2**64 - 1, 1_700_000_000, b"\x05" * 32)


def test_a_session_comes_back_with_its_secret_delivery_and_best_receipt(migrated):
    p1 = ProviderStore(migrated, P1)
    p1.opened(session())
    p1.delivered(TOKEN, 4_000)
    for wh in (2_000, 4_000, 2_000):  # the same receipt twice is kept once
        p1.receipted(SignedReceipt(TOKEN, wh, bytes([wh % 251]) * 65))
    [back] = p1.sessions()
    assert (back.consumer, back.token, back.amount_wh, back.expires_at) == (CONSUMER, TOKEN, 2**64 - 1, 1_700_000_000)
    assert back.secret == b"\x05" * 32 and back.delivered_wh == 4_000
    assert back.receipt == SignedReceipt(TOKEN, 4_000, bytes([4_000 % 251]) * 65)
    assert ProviderStore(migrated, P2).sessions() == []  # another provider of the deployment sees none of it


def test_a_session_without_receipts_comes_back_without_one(migrated):
    ProviderStore(migrated, P1).opened(session())
    checksummed = "0x" + P1[2:].upper()  # the same provider, its address written otherwise
    assert ProviderStore(migrated, checksummed).sessions()[0].receipt is None


def test_a_settlement_goes_from_intent_to_outcome_and_closes_its_session(migrated):
    p1 = ProviderStore(migrated, P1)
    p1.opened(session())
    p1.settling(TOKEN, CONSUMER, 4_000, head_block=17)
    p1.settling(TOKEN, CONSUMER, 4_000, head_block=99)  # sent again: from_block stays the first head
    sent = p1.settlements()[TOKEN]
    assert (sent.state, sent.from_block, sent.attempts, sent.tx_hash, sent.outcome) == ("sent", 17, 2, None, None)
    p1.finished(TOKEN, "settled", "0x" + "ab" * 32, {"delivered_wh": "4000"})
    done = p1.settlements()[TOKEN]
    assert (done.state, done.tx_hash, done.outcome) == ("settled", "0x" + "ab" * 32, {"delivered_wh": "4000"})
    assert p1.sessions() == [] and ProviderStore(migrated, P2).settlements() == {}


def test_an_outcome_must_be_final(migrated):
    with pytest.raises(ValueError, match="'sent' is not one of"):
        ProviderStore(migrated, P1).finished(TOKEN, "sent", None, {})


def test_the_last_bid_per_consumer_is_where_it_was_mined_or_above_the_head_it_was_sent_at(migrated):
    p1 = ProviderStore(migrated, P1)
    first = p1.bidding(CONSUMER, 300 * TWEI, head_block=10)
    p1.bid_sent(first, 11, "0x" + "01" * 32)
    p1.bidding(CONSUMER, 290 * TWEI, head_block=20)  # killed before its receipt
    other = P2[:-2] + "dd"
    p1.bid_sent(p1.bidding(other, 5, head_block=30), 33, "0x" + "02" * 32)
    assert p1.last_bids() == {CONSUMER.lower(): 21, other: 33}
    assert ProviderStore(migrated, P2).last_bids() == {}


# -- a daemon restarted over its store, on the embedded chain ----------------------------------------------------
class Killed(BaseException):
    """What a SIGKILL does to the daemon here: it stops at that line, nothing after it runs."""


def daemon(pilot: Pilot, store, log: list, confirmations: int = 0) -> ProviderDaemon:
    """Provider p1 as a fresh process would build it: a new ProviderEV and book over the store, restored."""
    key = pilot.providers[0].key
    journal = ProviderStore(store, pilot.providers[0].address)
    provider = ProviderEV(pilot.client, key, INCREMENT, journal=journal)
    reader = EventReader(pilot.client, pilot.deployed_block, confirmations)
    d = ProviderDaemon(provider, reader, BidPolicy(150 * TWEI, 50_000, 1000), log.append, store=journal)
    d.restore()
    return d


def won_trade(pilot: Pilot, d: ProviderDaemon) -> bytes:
    pilot.consumer.start_auction(AMOUNT, BIDDING, START)
    d.step()
    pilot.gateway.advance_time(BIDDING)
    return pilot.consumer.end_auction()


def closes(pilot: Pilot) -> list:
    return pilot.gateway.events(pilot.client.artifact, pilot.client.address, "TradeClosed", pilot.deployed_block)


def test_a_restarted_provider_takes_its_session_back_and_settles_once(migrated):
    pilot, log = Pilot(), []
    first = daemon(pilot, migrated, log)
    token = won_trade(pilot, first)
    proof = first.provider.authenticate(pilot.consumer.hello(token), pilot.gateway.now())
    now = pilot.gateway.now
    assert first.provider.deliver(token, proof.session, now()) == INCREMENT
    first.provider.accept_receipt(pilot.consumer.receipt(token, INCREMENT), proof.session, now())
    first.step()  # a third receipted, an hour to go: no settlement yet; then it is killed

    again = daemon(pilot, migrated, log)
    assert again.provider.sessions[token].receipted_wh == INCREMENT
    assert again.provider.deliver(token, proof.session, now()) == 2 * INCREMENT  # the same session goes on
    for wh in (2 * INCREMENT, AMOUNT):
        again.provider.accept_receipt(pilot.consumer.receipt(token, wh), proof.session, now())
        if wh < AMOUNT:
            again.provider.deliver(token, proof.session, now())
    again.step()
    again.step()
    assert [e.args["delivered_wh"] for e in closes(pilot)] == [AMOUNT]
    assert ProviderStore(migrated, first.me).settlements()[token].state == "settled"
    assert daemon(pilot, migrated, log).provider.sessions == {}  # nothing left to settle at the next start


def test_killed_right_after_sending_the_settlement_it_is_found_on_chain_not_sent_again(migrated):
    pilot, log = Pilot(), []
    first = daemon(pilot, migrated, log)
    token = won_trade(pilot, first)
    proof = first.provider.authenticate(pilot.consumer.hello(token), pilot.gateway.now())
    first.provider.deliver(token, proof.session, pilot.gateway.now())
    first.provider.accept_receipt(pilot.consumer.receipt(token, INCREMENT), proof.session, pilot.gateway.now())
    pilot.gateway.advance_time(first.provider.sessions[token].expires_at - first.settle_margin_s - pilot.gateway.now())

    def kill(_token):
        raise Killed

    first.on_settle_sent = kill
    with pytest.raises(Killed):
        first.step()
    assert ProviderStore(migrated, first.me).settlements()[token].state == "sent"

    again = daemon(pilot, migrated, log)
    assert again.sent == {token: again.sent[token]}
    again.step()
    assert len(closes(pilot)) == 1
    found = [e for e in log if e["action"] == "settlement found on chain"]
    assert found == [found[0]] and found[0]["by"] == "settle with its receipt" and found[0]["delivered_wh"] == INCREMENT
    stored = ProviderStore(migrated, first.me).settlements()[token]
    assert stored.state == "settled" and stored.tx_hash == closes(pilot)[0].tx_hash
    assert not [e for e in log if e["action"] == "settle refused"]  # nothing was sent a second time


def test_killed_between_the_intent_and_the_send_it_settles_at_restart(migrated):
    pilot, log = Pilot(), []
    first = daemon(pilot, migrated, log)
    token = won_trade(pilot, first)
    proof = first.provider.authenticate(pilot.consumer.hello(token), pilot.gateway.now())
    first.provider.deliver(token, proof.session, pilot.gateway.now())
    first.provider.accept_receipt(pilot.consumer.receipt(token, INCREMENT), proof.session, pilot.gateway.now())
    first.store.settling(token, pilot.consumer.address, INCREMENT, pilot.gateway.block_number())  # then killed

    again = daemon(pilot, migrated, log)
    pilot.gateway.advance_time(again.provider.sessions[token].expires_at - again.settle_margin_s - pilot.gateway.now())
    again.step()
    assert [e.args["delivered_wh"] for e in closes(pilot)] == [INCREMENT]
    assert [e["action"] for e in log if "settle" in e["action"]] == ["settled"]
    assert ProviderStore(migrated, first.me).settlements()[token].attempts == 2


def test_a_restarted_provider_does_not_bid_against_its_own_unconfirmed_bid(migrated):
    pilot, log = Pilot(), []
    pilot.consumer.start_auction(AMOUNT, BIDDING, START)
    pilot.client.add_ev(pilot.gateway.accounts[0], "0x" + "11" * 20, "")  # two blocks: the auction is confirmed
    pilot.client.add_ev(pilot.gateway.accounts[0], "0x" + "12" * 20, "")
    daemon(pilot, migrated, log, confirmations=2).step()
    assert [e["action"] for e in log if "bid" in e["action"]] == ["bid"]  # its bid: the head, not confirmed yet
    again = daemon(pilot, migrated, log, confirmations=2)
    again.step()
    assert [e["action"] for e in log if "bid" in e["action"]] == ["bid"]  # it waits for its bid to be read
    assert len(again.reader.book.auctions[0].bids) == 0
