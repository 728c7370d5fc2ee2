"""The V2V trade's off-chain part (gridchain.v2v.parties) over a provider's real loopback HTTP service
(gridchain.v2v.service): the mutual authentication (hello, proof), delivery in increments against the
consumer's cumulative receipts, the settlement on the embedded chain, and every refusal with its exact reason
and nothing changed. One test drives the two EVs directly, without a transport."""

from __future__ import annotations

import dataclasses
import re
import secrets

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import ChainRevert
from gridchain.chain.locked import LockedGateway
from gridchain.net.server import LoopbackServer
from gridchain.v2v.client import SignedReceipt, V2VClient, sign_receipt
from gridchain.v2v.parties import (
    ACCESS_TAG,
    PROVIDER_TAG,
    AuthRefused,
    ConsumerEV,
    Hello,
    Proof,
    ProviderEV,
)
from gridchain.v2v.scenarios import dev_keys_for
from gridchain.v2v.service import ProviderClient, provider_app

TWEI = 10**12
AMOUNT = 20_000  # [Wh]
INCREMENT = 2_000  # [Wh]
BIDDING = 600  # [s]
VALIDITY, GRACE = 3_600, 1_800  # [s]
START_RATE, LOSING_RATE, WINNING_RATE = 300 * TWEI, 280 * TWEI, 250 * TWEI  # [wei/kWh]


def refused(reason: str):
    """pytest.raises for an AuthRefused whose reason is exactly `reason`."""
    return pytest.raises(AuthRefused, match=f"^{re.escape(reason)}$")


def signed(key: str, tag: bytes, token: bytes, challenge: bytes) -> bytes:
    """An EIP-191 signature of tag || token || challenge, made outside the EV classes."""
    return bytes(Account.sign_message(encode_defunct(primitive=tag + token + challenge), key).signature)


NO_SESSION = b"\x00" * 32  # a proof the consumer checks before using any session secret


def state(provider: ProviderEV) -> dict:
    """What a refusal must leave as it was: the sessions, with what was delivered and receipted."""
    return {token: (s.delivered_wh, s.receipt) for token, s in provider.sessions.items()}


class Market:
    """The V2V contract on the embedded chain, every account admitted, and one ended auction: the consumer
    (account 1) asked for 20 kWh, the loser (account 2) bid 280 Twei/kWh, the winner (account 3) 250."""

    def __init__(self) -> None:
        self.gateway = LockedGateway(BoaGateway(accounts=8))  # the service answers from its own thread
        self.keys = dev_keys_for(self.gateway)
        owner = self.gateway.accounts[0]
        self.client, _ = V2VClient.deploy(self.gateway, owner, VALIDITY, GRACE)
        for account in self.gateway.accounts[1:]:
            self.client.add_ev(owner, account)
        self.consumer = ConsumerEV(self.client, self.keys[1])
        self.loser = ProviderEV(self.client, self.keys[2], INCREMENT)
        self.winner = ProviderEV(self.client, self.keys[3], INCREMENT)
        self.token = self.auction(self.consumer, [(self.loser, LOSING_RATE), (self.winner, WINNING_RATE)])
        self.expires_at = self.client.auction(self.consumer.address).ended_at + VALIDITY

    def auction(self, consumer: ConsumerEV, bids: list[tuple[ProviderEV, int]]) -> bytes:
        """Run an auction to its end with these bids (in order; the last, lowest, wins); the access token."""
        consumer.start_auction(AMOUNT, BIDDING, START_RATE)
        for provider, rate in bids:
            provider.bid(consumer.address, rate)
        self.gateway.advance_time(BIDDING)
        token = consumer.end_auction()
        assert token is not None and token == self.client.token(consumer.address)
        return token

    def ev(self, index: int) -> ConsumerEV:
        """Account `index` as a consumer EV (its key signs hellos and receipts)."""
        return ConsumerEV(self.client, self.keys[index])

    def advance_to(self, t: int) -> None:
        self.gateway.advance_time(t - self.gateway.now())
        assert self.gateway.now() == t


@pytest.fixture
def market():
    return Market()


@pytest.fixture
def trade(market):
    """The market with the winner's service on 127.0.0.1 and the consumer's client for it."""
    with LoopbackServer(provider_app(market.winner, market.gateway.now)) as server:
        market.http = ProviderClient(server.url)
        yield market
        market.http.close()


def open_session(t: Market) -> Hello:
    hello = t.consumer.hello(t.token)
    assert t.consumer.check_proof(hello, t.http.hello(hello)) == t.winner.address
    return hello


# ---- the honest path -----------------------------------------------------------------------------------


def test_honest_trade_authenticates_delivers_and_settles(trade):
    t, consumer, winner = trade, trade.consumer, trade.winner
    hello = consumer.hello(t.token)
    proof = t.http.hello(hello)
    assert proof.provider == winner.address
    assert consumer.check_proof(hello, proof) == winner.address
    assert list(winner.sessions) == [t.token]
    session = winner.sessions[t.token]
    assert (session.consumer, session.amount_wh, session.expires_at) == (consumer.address, AMOUNT, t.expires_at)

    steps = []
    while True:
        delivered = t.http.deliver(t.token)
        receipted = t.http.receipt(consumer.receipt(t.token, delivered))
        steps.append((delivered, receipted))
        if delivered >= AMOUNT:
            break
    assert steps == [(wh, wh) for wh in range(INCREMENT, AMOUNT + 1, INCREMENT)]
    assert session.delivered_wh == session.receipted_wh == AMOUNT

    price = t.client.cost(WINNING_RATE, AMOUNT)
    deposit = t.client.cost(START_RATE, AMOUNT)
    trade_on_chain = t.client.auction(consumer.address)
    # the consumer's default minimum collateral is its deposit: every bid stakes that much
    assert (trade_on_chain.deposit_wei, trade_on_chain.collateral_wei, trade_on_chain.min_collateral_wei) == (
        deposit,
        deposit,
        deposit,
    )
    before = {a: t.gateway.balance(a) for a in (consumer.address, winner.address)}
    settled = winner.settle(t.token)
    [closed] = settled.named("TradeClosed")
    assert closed.args["delivered_wh"] == AMOUNT and not closed.args["expired"]
    assert (closed.args["to_provider_wei"], closed.args["to_consumer_wei"]) == (price + deposit, deposit - price)
    assert t.gateway.balance(winner.address) - before[winner.address] == price + deposit  # price + collateral
    assert t.gateway.balance(consumer.address) - before[consumer.address] == deposit - price  # free gas
    assert t.client.token(consumer.address) is None  # the trade is closed
    assert t.client.balance() == t.client.pending_returns(t.loser.address) == deposit


def test_protocol_without_a_transport(market):
    """The same exchange with the EVs' methods called directly: the logic needs no HTTP."""
    m, consumer, winner = market, market.consumer, market.winner
    hello = consumer.hello(m.token)
    proof = winner.authenticate(hello, m.gateway.now())
    assert consumer.check_proof(hello, proof) == winner.address
    with refused("token already used: a session was opened with it (replay)"):
        winner.authenticate(hello, m.gateway.now())
    with refused("wrong session secret: only the authenticated consumer may ask for energy"):
        winner.deliver(m.token, b"\x00" * 32, m.gateway.now())  # the token is public; the secret is not
    for k in range(1, AMOUNT // INCREMENT + 1):
        m.gateway.advance_time(60)  # charging takes time; the token stays valid
        assert winner.deliver(m.token, proof.session, m.gateway.now()) == k * INCREMENT
        receipt = consumer.receipt(m.token, k * INCREMENT)
        assert winner.accept_receipt(receipt, proof.session, m.gateway.now()) == k * INCREMENT
        if k == 5:
            winner.post_receipt(m.token)
            assert m.client.auction(consumer.address).delivered_wh == k * INCREMENT
    with refused(f"the whole amount ({AMOUNT} Wh) is delivered"):
        winner.deliver(m.token, proof.session, m.gateway.now())
    [closed] = winner.settle(m.token).named("TradeClosed")
    assert closed.args["delivered_wh"] == AMOUNT


def test_a_consumer_that_stops_signing_costs_the_provider_one_increment_and_the_unsigned_share(market):
    """The residual risk of the collateral rule (docs/security.md, V2V auction): the consumer takes three
    increments and signs for them, takes a fourth and signs nothing more. The provider delivers nothing further
    without that receipt and settles with the last one it holds: it loses the fourth increment's price and the
    collateral share of everything not signed for, and no more."""
    m, consumer, winner = market, market.consumer, market.winner
    hello = consumer.hello(m.token)
    proof = winner.authenticate(hello, m.gateway.now())
    for k in range(1, 4):
        winner.deliver(m.token, proof.session, m.gateway.now())
        winner.accept_receipt(consumer.receipt(m.token, k * INCREMENT), proof.session, m.gateway.now())
    assert winner.deliver(m.token, proof.session, m.gateway.now()) == 4 * INCREMENT  # the consumer stops here
    with refused(f"waiting for the receipt of {4 * INCREMENT} Wh before delivering more"):
        winner.deliver(m.token, proof.session, m.gateway.now())
    collateral = m.client.auction(consumer.address).collateral_wei
    before = m.gateway.balance(winner.address)
    [closed] = winner.settle(m.token).named("TradeClosed")
    receipted = 3 * INCREMENT
    share = collateral * (AMOUNT - receipted) // AMOUNT
    assert closed.args["delivered_wh"] == receipted
    assert m.gateway.balance(winner.address) - before == m.client.cost(WINNING_RATE, receipted) + collateral - share
    # against being paid for the 8 kWh it delivered and keeping its collateral:
    loss = m.client.cost(WINNING_RATE, 4 * INCREMENT) + collateral - closed.args["to_provider_wei"]
    assert loss == m.client.cost(WINNING_RATE, INCREMENT) + share and share <= collateral


def test_a_provider_ends_the_auction_of_a_consumer_that_does_not():
    """Its collateral is not locked: GRACE after the closing time the winner ends the auction itself (the
    consumer, not having ended it in time, has no claim on the collateral of undelivered energy)."""
    m = Market()
    consumer, winner = m.ev(4), m.winner
    consumer.start_auction(AMOUNT, BIDDING, START_RATE)
    winner.bid(consumer.address, WINNING_RATE)
    m.gateway.advance_time(BIDDING)
    with pytest.raises(ChainRevert, match="consumer's grace not over"):
        winner.end_auction(consumer.address)
    m.gateway.advance_time(GRACE)
    token = winner.end_auction(consumer.address)
    assert token is not None and token == m.client.token(consumer.address)
    m.gateway.advance_time(VALIDITY + GRACE)
    [closed] = m.client.expire(m.gateway.accounts[0], consumer.address).named("TradeClosed")
    assert (closed.args["to_provider_wei"], closed.args["to_consumer_wei"]) == (
        m.client.cost(START_RATE, AMOUNT),
        m.client.cost(START_RATE, AMOUNT),
    )  # collateral and deposit back


# ---- the provider's checks of the hello ------------------------------------------------------------------


def test_replayed_hello_is_refused(trade):
    hello = open_session(trade)
    before = state(trade.winner)
    with refused("token already used: a session was opened with it (replay)"):
        trade.http.hello(hello)
    with refused("token already used: a session was opened with it (replay)"):
        trade.http.hello(trade.consumer.hello(trade.token))  # a fresh challenge does not help
    assert state(trade.winner) == before


def test_forged_token_is_refused(trade):
    forged = trade.consumer.hello(secrets.token_bytes(32))  # correctly signed, for a token the chain never issued
    with refused("the token is not the one on chain for this consumer (foreign or forged)"):
        trade.http.hello(forged)
    assert trade.winner.sessions == {}


def test_foreign_tokens_are_refused(trade):
    t = trade
    other, stranger = t.ev(4), t.ev(5)
    other_token = t.auction(other, [(t.winner, WINNING_RATE)])  # the same provider wins another consumer's auction
    not_on_chain = "the token is not the one on chain for this consumer (foreign or forged)"
    for name, hello in [
        ("a third account with another consumer's token", stranger.hello(other_token)),
        ("the consumer with another consumer's token", t.consumer.hello(other_token)),
        ("another consumer with this consumer's token", other.hello(t.token)),
    ]:
        with refused(not_on_chain):
            t.http.hello(hello)
        assert t.winner.sessions == {}, name
    wrong_consumer = dataclasses.replace(t.consumer.hello(t.token), consumer=other.address)
    with refused(f"the public key is {t.consumer.address}'s, not the consumer {other.address}'s"):
        t.http.hello(wrong_consumer)
    assert t.winner.sessions == {}
    # each consumer's own token still opens its own session with the provider that won both
    open_session(t)
    other_hello = other.hello(other_token)
    assert other.check_proof(other_hello, t.http.hello(other_hello)) == t.winner.address
    assert set(t.winner.sessions) == {t.token, other_token}
    assert t.winner.sessions[other_token].consumer == other.address


def test_public_key_not_the_consumers_is_refused(trade):
    t, stranger = trade, trade.ev(5)
    hello = dataclasses.replace(t.consumer.hello(t.token), public_key=stranger.public_key)
    with refused(f"the public key is {stranger.address}'s, not the consumer {t.consumer.address}'s"):
        t.http.hello(hello)
    assert t.winner.sessions == {}


def test_signature_by_another_key_is_refused(trade):
    t, consumer = trade, trade.consumer
    challenge = secrets.token_bytes(32)
    by_stranger = Hello(
        consumer.address, consumer.public_key, t.token, challenge, signed(t.keys[5], ACCESS_TAG, t.token, challenge)
    )
    with refused("the token's signature is not by that public key"):
        t.http.hello(by_stranger)
    wrong_tag = dataclasses.replace(by_stranger, signature=signed(t.keys[1], PROVIDER_TAG, t.token, challenge))
    with refused("the token's signature is not by that public key"):
        t.http.hello(wrong_tag)  # the consumer's key, but not over the access tag
    garbage = dataclasses.replace(by_stranger, signature=b"\x00" * 65)
    with refused("signature: r is 0"):  # refused where it enters, naming the field
        t.http.hello(garbage)
    assert t.winner.sessions == {}
    open_session(t)  # the refusals did not burn the token


def test_losing_provider_refuses_the_winners_token(trade):
    t = trade
    hello = t.consumer.hello(t.token)
    with LoopbackServer(provider_app(t.loser, t.gateway.now)) as server:
        loser_http = ProviderClient(server.url)
        try:
            with refused(f"this provider did not win the consumer's auction (won by {t.winner.address.lower()})"):
                loser_http.hello(hello)
        finally:
            loser_http.close()
    assert t.loser.sessions == {} and t.winner.sessions == {}


def test_hello_after_expiry_is_refused(trade):
    t = trade
    t.advance_to(t.expires_at)
    with refused(f"the token expired at {t.expires_at} (now {t.expires_at})"):
        t.http.hello(t.consumer.hello(t.token))
    assert t.winner.sessions == {}


def test_session_stops_at_expiry(trade):
    t = trade
    open_session(t)
    t.advance_to(t.expires_at - 1)
    assert t.http.deliver(t.token) == INCREMENT  # the last second of validity
    late_receipt = t.consumer.receipt(t.token, INCREMENT)
    t.advance_to(t.expires_at)
    before = state(t.winner)
    with refused(f"the token expired at {t.expires_at} (now {t.expires_at})"):
        t.http.receipt(late_receipt)
    with refused(f"the token expired at {t.expires_at} (now {t.expires_at})"):
        t.http.deliver(t.token)
    assert state(t.winner) == before == {t.token: (INCREMENT, None)}


# ---- delivery and receipts -----------------------------------------------------------------------------


def test_delivery_needs_a_session_a_receipt_and_stops_at_the_amount(trade):
    t = trade
    with refused("no session for this token: authenticate first"):
        t.http.deliver(t.token)
    assert t.winner.sessions == {}
    open_session(t)
    assert t.http.deliver(t.token) == INCREMENT
    with refused(f"waiting for the receipt of {INCREMENT} Wh before delivering more"):
        t.http.deliver(t.token)
    assert state(t.winner) == {t.token: (INCREMENT, None)}
    assert t.http.receipt(t.consumer.receipt(t.token, INCREMENT)) == INCREMENT
    while (delivered := t.http.deliver(t.token)) < AMOUNT:
        t.http.receipt(t.consumer.receipt(t.token, delivered))
    with refused(f"waiting for the receipt of {AMOUNT} Wh before delivering more"):
        t.http.deliver(t.token)  # the last increment, not yet receipted
    t.http.receipt(t.consumer.receipt(t.token, AMOUNT))
    before = state(t.winner)
    with refused(f"the whole amount ({AMOUNT} Wh) is delivered"):
        t.http.deliver(t.token)
    assert state(t.winner) == before and before[t.token][0] == AMOUNT


def test_receipts_must_be_the_consumers_for_what_was_delivered(trade):
    t, consumer = trade, trade.consumer
    chain_id, contract = t.client.chain_id(), t.client.address
    with refused("no session for this token: authenticate first"):
        t.http.receipt(consumer.receipt(t.token, INCREMENT))
    open_session(t)
    t.http.deliver(t.token)
    before = state(t.winner)
    stranger = Account.from_key(t.keys[5]).address
    with refused(f"the receipt is signed by {stranger}, not by the consumer {consumer.address}"):
        t.http.receipt(sign_receipt(t.keys[5], chain_id, contract, t.token, INCREMENT))
    other_domain = sign_receipt(t.keys[1], chain_id + 1, contract, t.token, INCREMENT)  # another chain's receipt
    with pytest.raises(
        AuthRefused, match=f"^the receipt is signed by 0x[0-9a-fA-F]{{40}}, not by the consumer {consumer.address}$"
    ):
        t.http.receipt(other_domain)
    relabelled = SignedReceipt(t.token, INCREMENT * 2, consumer.receipt(t.token, INCREMENT).signature)
    with pytest.raises(AuthRefused, match="^the receipt is signed by 0x"):
        t.http.receipt(relabelled)  # the signature covers the amount
    for amount in (INCREMENT // 2, INCREMENT * 2, 0):
        with refused(f"the receipt says {amount} Wh; {INCREMENT} Wh were delivered"):
            t.http.receipt(consumer.receipt(t.token, amount))
    assert state(t.winner) == before == {t.token: (INCREMENT, None)}
    assert t.http.receipt(consumer.receipt(t.token, INCREMENT)) == INCREMENT


# ---- the consumer's check of the proof -----------------------------------------------------------------


def test_consumer_refuses_a_proof_not_from_the_winner(trade):
    t, consumer = trade, trade.consumer
    hello = consumer.hello(t.token)
    winner_on_chain = t.winner.address.lower()
    by_loser = Proof(t.loser.address, signed(t.keys[2], PROVIDER_TAG, t.token, hello.challenge), NO_SESSION)
    with refused(f"{t.loser.address} is not the provider of this trade ({winner_on_chain})"):
        consumer.check_proof(hello, by_loser)
    claiming_winner = Proof(t.winner.address, by_loser.signature, NO_SESSION)  # the winner's name, the loser's key
    with refused("the provider's signature of the challenge does not verify"):
        consumer.check_proof(hello, claiming_winner)

    proof = t.http.hello(hello)  # the real winner's proof, over this hello's challenge
    assert consumer.check_proof(hello, proof) == t.winner.address
    another_challenge = consumer.hello(t.token)  # never sent: the proof is not over its challenge
    with refused("the provider's signature of the challenge does not verify"):
        consumer.check_proof(another_challenge, proof)
    access_tagged = Proof(t.winner.address, signed(t.keys[3], ACCESS_TAG, t.token, hello.challenge), NO_SESSION)
    with refused("the provider's signature of the challenge does not verify"):
        consumer.check_proof(hello, access_tagged)  # the winner's key, but not over the provider tag
    with pytest.raises(AuthRefused, match="^signature is malformed: "):
        consumer.check_proof(hello, Proof(t.winner.address, b"\x00" * 65, NO_SESSION))


# ---- malformed requests --------------------------------------------------------------------------------


def _without(body: dict, key: str) -> dict:
    return {k: v for k, v in body.items() if k != key}


@pytest.mark.parametrize(
    "path, spoil, reason",
    [
        ("/hello", lambda h: b"not json", "the body is not JSON"),
        ("/hello", lambda h: b"", "the body is not JSON"),
        ("/hello", lambda h: b"\xff\xfe{", "the body is not JSON"),
        ("/hello", lambda h: [h], "the body is not a JSON object"),
        ("/hello", lambda h: _without(h, "challenge"), "hello lacks 'challenge'"),
        ("/hello", lambda h: _without(h, "consumer"), "hello lacks 'consumer'"),
        ("/hello", lambda h: {**h, "token": h["token"][:-2]}, "expected 32 bytes, got 31"),
        ("/hello", lambda h: {**h, "public_key": h["public_key"] + "00"}, "expected 64 bytes, got 65"),
        (
            "/hello",
            lambda h: {**h, "signature": h["signature"][:-4]},
            "signature: must be 65 bytes (r, s, v) or 64 bytes (EIP-2098 r, vs), got 63",
        ),
        ("/hello", lambda h: {**h, "challenge": "0x" + "zz" * 32}, "'0xzzzzzzzzzzzzzzzzzz' is not hex"),
        ("/hello", lambda h: {**h, "token": None}, "'None' is not hex"),
        ("/deliver", lambda h: b"{", "the body is not JSON"),
        ("/deliver", lambda h: {}, "expected 32 bytes, got 0"),
        ("/deliver", lambda h: {"token": h["token"] + "00"}, "expected 32 bytes, got 33"),
        ("/deliver", lambda h: {"token": h["token"]}, "expected 32 bytes, got 0"),  # no session secret
        ("/receipt", lambda h: "a string", "the body is not a JSON object"),
        (
            "/receipt",
            lambda h: {"token": h["token"], "signature": "0x" + "00" * 65},
            "delivered_wh must be an integer [Wh], got None",
        ),
        (
            "/receipt",
            lambda h: {"token": h["token"], "delivered_wh": 2000.5, "signature": "0x" + "00" * 65},
            "delivered_wh must be an integer [Wh], got 2000.5",
        ),
        (
            "/receipt",
            lambda h: {"token": h["token"], "delivered_wh": 1},
            "signature: null is not a 0x-prefixed hex string",
        ),
        (
            "/receipt",
            lambda h: {"token": h["token"][:-2], "delivered_wh": 1, "signature": "0x" + "00" * 65},
            "expected 32 bytes, got 31",
        ),
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(trade, path, spoil, reason):
    t = trade
    body = spoil(t.consumer.hello(t.token).to_json())
    if isinstance(body, bytes):
        response = t.http.http.post(path, content=body, headers={"content-type": "application/json"})
    else:
        response = t.http.http.post(path, json=body)
    assert response.status_code == 403 and response.json() == {"reason": reason}
    assert t.winner.sessions == {}
    open_session(t)  # the service is still up and the token still unused
    assert t.http.deliver(t.token) == INCREMENT


@pytest.mark.parametrize(
    "spoil, reason",
    [
        (lambda r: {**r, "signature": "0x" + "00" * 65}, "signature: r is 0"),
        (lambda r: {**r, "signature": r["signature"][:-2] + "05"}, "signature: v must be 0, 1, 27 or 28, got 5"),
        (lambda r: {**r, "delivered_wh": -1}, "delivered_wh must be 0 .. 2**64 - 1, got -1"),
        (lambda r: {**r, "session": "0x" + "11" * 32}, "wrong session secret"),  # the token alone is public
    ],
)
def test_malformed_receipt_is_a_refusal_not_a_server_error(trade, spoil, reason):
    t = trade
    open_session(t)
    t.http.deliver(t.token)
    r = t.consumer.receipt(t.token, INCREMENT)
    body = {
        "token": "0x" + t.token.hex(),
        "session": "0x" + t.http.sessions[t.token].hex(),
        "delivered_wh": r.delivered_wh,
        "signature": "0x" + r.signature.hex(),
    }
    response = t.http.http.post("/receipt", json=spoil(body))
    assert state(t.winner) == {t.token: (INCREMENT, None)}
    assert response.status_code == 403, response.text
    assert response.json()["reason"].startswith(reason)


def test_the_provider_serves_metrics_and_no_docs_pages(trade):
    open_session(trade)
    http = trade.http.http
    assert http.get("/docs").status_code == 404 and http.get("/redoc").status_code == 404
    text = http.get("/metrics").text
    assert 'gridchain_http_requests_total{method="POST",route="/hello",status="200"} 1.0' in text
    assert 'gridchain_service_info{service="v2v provider"} 1.0' in text
