"""Attacks on the off-chain services (issue 14, holes 14-16): the relayer, the utility's token issuance, and every
entry that takes a signature from outside (relayer, V2V provider's hello and receipts, meter gateway's collect,
the metering proof, the roaming station, the issuance desk). docs/security.md, "Off-chain services", lists them.

Attackers are fixtures: `relay` is a coordinator with today's and tomorrow's epoch keys, a relayer whose gateway
is a `Spy` (it counts what the relayer asks of the chain and can make the node fail on purpose), and an
`attacker`: a member with tokens of its own and a funded account (`relay.attacker`) to front-run with. A new
attack is a few lines: `relay.request(...)` makes a signed request (any epoch, slot, signer or token),
`relay.relayer.accept(...)` / `relay.http` send it, `signature_forms(...)` gives every form of a signature.
Chains: the embedded one (Prague) for everything, and anvil (`--hardfork osaka`) for the front-run.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections import Counter

import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import ChainRevert
from gridchain.chain.locked import LockedGateway
from gridchain.coordination.anonymous.client import AnonymousRequest, sign_request
from gridchain.coordination.anonymous.parties.issuer import (
    IssuanceRefused,
    Issuer,
    TokenWallet,
)
from gridchain.coordination.anonymous.parties.relayer import (
    Relayer,
    RelayRefused,
    Ticket,
)
from gridchain.coordination.anonymous.service.issuance import (
    IssuanceClient,
    issuance_app,
)
from gridchain.coordination.anonymous.service.relayer import (
    Flusher,
    RelayerClient,
    relayer_app,
)
from gridchain.coordination.client import CoordinatorClient
from gridchain.crypto import blind
from gridchain.crypto.keys import compact
from gridchain.errors import InputError
from gridchain.metering import model as m
from gridchain.metering.client import MeteringClient
from gridchain.metering.parties import MeterGateway, SmartMeter
from gridchain.metering.scenarios.meter_proof import prove_reading
from gridchain.metering.service import RoamingRefused, RoamingStation
from gridchain.net.server import LoopbackServer
from gridchain.ocpp.backend import RecordingBackend
from gridchain.v2v.client import V2VClient
from gridchain.v2v.parties import ConsumerEV, ProviderEV
from gridchain.v2v.scenarios import dev_keys_for
from gridchain.v2v.service import ProviderClient, provider_app

# The chains here are BoaGateway's own environments and anvil, never boa's global one (the probe contract
# only computes): titanoboa's per-fixture snapshots of the global environment are not needed, and they break when
# a test asks for the module's anvil from inside (request.getfixturevalue), so they are off for this module.
pytestmark = pytest.mark.ignore_isolation

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141  # the group order
SLOT_S = 3600
ADMIN = "the relayer operator's admin token"
KEYS = [blind.PrivateKey.generate() for _ in range(2)]  # today's and tomorrow's epoch keys (RSA keygen is slow)

# ---- signatures in every form ----------------------------------------------------------------------------


def signature_forms(signature: bytes) -> tuple[dict[str, bytes], dict[str, tuple[bytes, str]]]:
    """A genuine 65-byte signature (v = 27/28) in each form a standard signer produces (all must be accepted and
    mean the same), and spoiled versions with the reason the normaliser gives (all must be refused)."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    good = {
        "v=27/28": signature,
        "v=0/1": signature[:64] + bytes([v - 27]),  # @noble/curves, go-ethereum crypto.Sign, coincurve
        "EIP-2098": r + (s | (v - 27) << 255).to_bytes(32, "big"),
    }
    bad = {
        "high s": (r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v]), "upper half of the curve order"),
        "r = 0": (bytes(32) + signature[32:], "r is 0"),
        "s = 0": (r + bytes(32) + signature[64:], "s is 0"),
        "r off the curve": ((5).to_bytes(32, "big") + signature[32:], "r is not the x-coordinate of a point"),
        "r = n": (SECP256K1_N.to_bytes(32, "big") + signature[32:], "r is not below the curve order"),
        "v = 29": (signature[:64] + b"\x1d", "v must be 0, 1, 27 or 28, got 29"),
        "v = 255 (all ff)": (b"\xff" * 65, "v must be 0, 1, 27 or 28, got 255"),
        "63 bytes": (signature[:63], "got 63"),
        "66 bytes": (signature + b"\x00", "got 66"),
        "empty": (b"", "got 0"),
    }
    return good, bad


def hex0x(raw: bytes) -> str:
    return "0x" + raw.hex()


# ---- the relayer's world ---------------------------------------------------------------------------------


class Spy:
    """A gateway that counts the relayer's calls by method, records the transactions that reverted, fails on
    purpose (`fail[method] = k`: the next k calls raise ConnectionError, a node that went away) and lets an
    attacker act just before a call (`before[method] = f`: f() runs once, e.g. a transaction ordered first)."""

    def __init__(self, gateway) -> None:
        self._gateway = gateway
        self.kind, self.accounts = gateway.kind, gateway.accounts
        self.calls: Counter[str] = Counter()
        self.fail: Counter[str] = Counter()
        self.before: dict = {}
        self.reverted: list[str] = []

    def __getattr__(self, name: str):
        attr = getattr(self._gateway, name)
        if not callable(attr):
            return attr

        def spied(*args, **kwargs):
            self.calls[name] += 1
            if name in self.before:
                self.before.pop(name)()
            if self.fail[name] > 0:
                self.fail[name] -= 1
                raise ConnectionError(f"the node went away ({name})")
            try:
                return attr(*args, **kwargs)
            except ChainRevert as e:
                if name == "transact":
                    self.reverted.append(e.reason)
                raise

        return spied


class Relay:
    """A coordinator (slots of an hour from now) with the keys of today and tomorrow registered, and a relayer
    (batches of `batch_size`) that sees the chain through a Spy. Accounts: owner, relayer, attacker."""

    def __init__(self, gateway, batch_size: int = 20, seed: int = 1) -> None:
        self.gateway = LockedGateway(gateway)  # the relayer's service answers from its own thread
        self.owner, self.relayer_account, self.attacker = gateway.accounts[:3]
        self.client, _ = CoordinatorClient.deploy(self.gateway, self.owner, self.gateway.now(), SLOT_S, 500, 10**9)
        self.epoch = blind.epoch_of(self.gateway.now())  # slot 0's
        for i, key in enumerate(KEYS):
            self.client.register_epoch_key(self.owner, self.epoch + i, key.public.modulus_bytes)
        self.chain_id = self.client.chain_id()
        self.spy = Spy(self.gateway)
        self.relayer = Relayer(
            CoordinatorClient(self.spy, self.client.address, self.client.artifact),
            self.relayer_account,
            batch_size,
            random.Random(seed),
        )

    def token(self, pseudonym: str, epoch: int) -> int:
        """The utility's token on `pseudonym` for `epoch` (what a member obtains by blind signature)."""
        key = KEYS[epoch - self.epoch]
        m_ = blind.fdh(blind.token_seed(self.chain_id, self.client.address, epoch, pseudonym))
        return pow(m_, key.d, key.public.n)

    def request(
        self,
        demand_w: int = 5_000,
        account=None,
        epoch: int | None = None,
        slot: int | None = None,
        token: int | None = None,
    ) -> AnonymousRequest:
        """A request for the current slot signed by a fresh pseudonym (or `account`) with a valid token for the
        slot's epoch (or for `epoch`, as signed)."""
        account = account or Account.create()
        slot = int(self.client.view("current_slot")) if slot is None else slot
        epoch = self.client.epoch_of_slot(slot) if epoch is None else epoch
        token = self.token(account.address, epoch) if token is None else token
        return sign_request(account.key, self.chain_id, self.client.address, epoch, slot, demand_w, 300, 3, token)

    def front_run(self, request: AnonymousRequest) -> None:
        """The attacker sends its own queued request to the chain itself, paying its own gas."""
        self.client.submit_request_anonymous(self.attacker, request)

    def serve(self, admin_token: str | None = None):
        """The relayer's service on 127.0.0.1 (`self.http` its client); with `admin_token`, POST /flush is on."""
        app = relayer_app(self.relayer, admin_token) if admin_token else relayer_app(self.relayer)
        server = LoopbackServer(app).start()
        self.http = RelayerClient(server.url, admin_token=admin_token) if admin_token else RelayerClient(server.url)
        return server


@pytest.fixture
def relay():
    return Relay(BoaGateway(accounts=3))


@pytest.fixture
def served(relay):
    """The relayer's service as it runs without an admin token (POST /flush off)."""
    server = relay.serve()
    yield relay
    relay.http.close()
    server.stop()


@pytest.fixture
def operated(relay):
    """The relayer's service with its operator's admin token (POST /flush on, for the operator)."""
    server = relay.serve(ADMIN)
    yield relay
    relay.http.close()
    server.stop()


@pytest.fixture(scope="module")
def anvil():
    from gridchain.chain.anvil import start_anvil

    node = start_anvil(hardfork="osaka", accounts=3)
    yield node
    node.stop()


def relay_on(kind: str, request: pytest.FixtureRequest) -> Relay:
    if kind == "embedded":
        return Relay(BoaGateway(accounts=3))
    from gridchain.chain.rpc_gateway import RpcGateway

    node = request.getfixturevalue("anvil")
    return Relay(RpcGateway(node.url, node.keys))


CHAINS = ["embedded", pytest.param("anvil", marks=pytest.mark.integration)]


# ---- hole 14: one signature with v = 0/1 stops the relayer for good --------------------------------------


def test_hole14_relayer_submits_a_v01_signature_in_the_batch(relay):
    """A signer that writes v as the bare recovery id (0/1): accepted at b3d15a8, then compact() raised in the
    flush and nothing queued was ever submitted. Now it is normalised at entry and goes with the batch."""
    honest = [relay.request(1_000 * (k + 1)) for k in range(3)]
    bare = relay.request(9_000)
    bare_json = {**bare.to_json(), "signature": hex0x(signature_forms(bare.signature)[0]["v=0/1"])}
    tickets = [relay.relayer.accept(r.to_json()) for r in honest] + [relay.relayer.accept(bare_json)]
    done = relay.relayer.flush()
    assert {t.status for t in done} == {"submitted"} and len(done) == 4
    assert len({t.tx_hash for t in tickets}) == 1  # one batch, the bare-v request in it
    assert all(relay.client.spent(r.pseudonym) for r in [*honest, bare])


def test_hole14_one_unencodable_ticket_fails_alone_and_the_batch_goes_on(relay):
    """Defence in depth: a ticket that cannot be encoded (here put in the queue behind `accept`'s back) fails
    with its reason; the others are still submitted, together. At b3d15a8 the flush raised and sent nothing."""
    honest = [relay.request(1_000 * (k + 1)) for k in range(3)]
    for r in honest:
        relay.relayer.accept(r.to_json())
    poison = dataclasses.replace(relay.request(), signature=b"\x01" * 64)
    relay.relayer.tickets["poison"] = Ticket("poison", poison)
    done = {t.id: t for t in relay.relayer.flush()}
    assert done["poison"].status == "failed" and "cannot be encoded" in done["poison"].reason
    submitted = [t for t in done.values() if t.status == "submitted"]
    assert len(submitted) == 3 and len({t.tx_hash for t in submitted}) == 1


def test_hole14_the_flusher_thread_survives_a_failing_node(relay):
    """The node fails during a flush (ConnectionError from the gateway): at b3d15a8 the flusher thread died and
    the queue was never submitted again. Now the error is logged and counted, and the next interval sends."""
    ticket = relay.relayer.accept(relay.request().to_json())
    relay.spy.fail["transact"] = 1
    flusher = Flusher(relay.relayer, interval=0.05).start()
    try:
        deadline = time.monotonic() + 20
        while ticket.status == "queued" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ticket.status == "submitted", f"the queue was never submitted again ({ticket.status})"
        assert flusher.alive and relay.spy.calls["transact"] == 2
    finally:
        flusher.stop()


def test_flusher_errors_show_in_health(relay):
    relay.relayer.accept(relay.request().to_json())
    relay.spy.fail["call"] = 10**6  # the node is gone for good
    flusher = Flusher(relay.relayer, interval=0.02).start()
    try:
        deadline = time.monotonic() + 20
        while flusher.errors < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        state = flusher.state()
        assert state["alive"] and state["errors"] >= 2 and "the node went away" in state["last_error"]
    finally:
        flusher.stop()
    with LoopbackServer(relayer_app(relay.relayer, ADMIN, flusher)) as server:  # the thread has ended now
        http = RelayerClient(server.url).http
        health = http.get("/health")
        assert health.status_code == 503 and health.json()["ok"] is False and health.json()["flusher"]["errors"] >= 2
        sent = http.post("/requests", json=relay.request().to_json())  # the relayer's node is away
        assert sent.status_code == 503 and "cannot read the chain" in sent.json()["reason"]  # not a 500


class Trade:
    """A V2V auction won by a provider, its service on 127.0.0.1, and the consumer's client for it."""

    def __init__(self) -> None:
        self.gateway = LockedGateway(BoaGateway(accounts=4))
        keys = dev_keys_for(self.gateway)
        owner = self.gateway.accounts[0]
        self.client, _ = V2VClient.deploy(self.gateway, owner, 3_600, 1_800)
        for account in self.gateway.accounts[1:]:
            self.client.add_ev(owner, account)
        self.consumer = ConsumerEV(self.client, keys[1])
        self.provider = ProviderEV(self.client, keys[2], increment_wh=2_000)
        self.attacker_key = keys[3]
        self.consumer.start_auction(2_000, 600, 300 * 10**12)
        self.provider.bid(self.consumer.address, 250 * 10**12)
        self.gateway.advance_time(600)
        self.token = self.consumer.end_auction()
        self.server = LoopbackServer(provider_app(self.provider, self.gateway.now)).start()
        self.http = ProviderClient(self.server.url)

    def close(self) -> None:
        self.http.close()
        self.server.stop()


@pytest.fixture
def trade():
    t = Trade()
    yield t
    t.close()


def test_hole14_v2v_receipt_with_v01_settles(trade):
    """The consumer's wallet signs the receipt with v = 0/1: at b3d15a8 the provider accepted it and then could
    not settle (compact() raised); its delivered energy went unpaid. Now it is normalised when it comes in."""
    t = trade
    t.http.hello(t.consumer.hello(t.token))
    assert t.http.deliver(t.token) == 2_000
    receipt = t.consumer.receipt(t.token, 2_000)
    bare = dataclasses.replace(receipt, signature=signature_forms(receipt.signature)[0]["v=0/1"])
    assert t.http.receipt(bare) == 2_000
    [closed] = t.provider.settle(t.token).named("TradeClosed")
    assert closed.args["delivered_wh"] == 2_000 and closed.args["to_provider_wei"] > 0


def test_hole14_meter_reading_with_v01_is_provable_after_anchoring():
    """A meter whose signer writes v = 0/1: at b3d15a8 the gateway kept and anchored its readings, and then the
    reading's proof failed (compact() raised) -- the anchored reading could not be shown to anyone."""
    gateway = BoaGateway(accounts=2)
    utility, ami = gateway.accounts
    client, _ = MeteringClient.deploy(gateway, utility, 3600)
    meter = SmartMeter(Account.create().key, client.domain())
    client.register_meter(utility, meter.address, utility, 1, 1)
    client.set_gateway(utility, ami)
    client.assign_gateway(utility, meter.address, ami)  # a gateway anchors only the meters assigned to it
    day0 = (gateway.now() // m.PERIOD_S + 1) * m.PERIOD_S
    signed = [meter.sign_reading(day0 + i * m.INTERVAL_S, 100 + i) for i in range(4)]
    bare = [dataclasses.replace(s, signature=signature_forms(s.signature)[0]["v=0/1"]) for s in signed]
    collector = MeterGateway(client, ami)
    assert collector.collect(bare) == 4
    gateway.advance_time(day0 + m.PERIOD_S - gateway.now())
    collector.anchor(meter.address, day0 // m.PERIOD_S)
    proof = collector.proof(meter.address, day0 + m.INTERVAL_S)
    assert client.verify_reading(proof.signed, proof.proof)


# ---- every signature form at every entry -----------------------------------------------------------------


def test_signature_forms_at_the_relayer(operated):
    """POST /requests: the standard forms are accepted and go on chain in one batch; every spoiled form is a
    400 naming `signature` (never a 500), and nothing is queued for it."""
    served = operated
    requests, ids = [], []
    for name in ("v=27/28", "v=0/1", "EIP-2098"):
        r = served.request()
        good, _ = signature_forms(r.signature)
        ids.append(served.http.send({**r.to_json(), "signature": hex0x(good[name])})["id"])
        requests.append(r)
    r = served.request()
    for name, (raw, reason) in signature_forms(r.signature)[1].items():
        response = served.http.http.post("/requests", json={**r.to_json(), "signature": hex0x(raw)})
        assert response.status_code == 400, (name, response.text)
        assert response.json()["field"] == "signature" and reason in response.json()["reason"], name
    for bad in (None, 5, "zz", "0x" + "0" * 131, "0x" + "00" * 200):
        response = served.http.http.post("/requests", json={**r.to_json(), "signature": bad})
        assert response.status_code == 400 and response.json()["field"] == "signature", bad
    assert len(served.relayer.tickets) == 3
    flushed = served.http.flush()
    assert {t["status"] for t in flushed} == {"submitted"} and len({t["tx_hash"] for t in flushed}) == 1


def test_signature_forms_at_the_v2v_hello_and_receipt():
    """The provider's /hello and /receipt: each standard form opens the session and is receipted, and the
    receipt kept is the canonical one (so it settles); every spoiled form is a 403 naming `signature`."""
    for name in ("v=27/28", "v=0/1", "EIP-2098"):
        t = Trade()
        try:
            hello = t.consumer.hello(t.token)
            body = {**hello.to_json(), "signature": hex0x(signature_forms(hello.signature)[0][name])}
            proof = t.http.http.post("/hello", json=body)
            assert proof.status_code == 200, (name, proof.text)
            t.http.sessions[t.token] = bytes.fromhex(proof.json()["session"][2:])
            t.http.deliver(t.token)
            receipt = t.consumer.receipt(t.token, 2_000)
            assert t.http.receipt(dataclasses.replace(receipt, signature=signature_forms(receipt.signature)[0][name]))
            assert t.provider.sessions[t.token].receipt.signature == receipt.signature  # normalised
            t.provider.settle(t.token)
        finally:
            t.close()
    t = Trade()
    try:
        hello = t.consumer.hello(t.token)
        for name, (raw, reason) in signature_forms(hello.signature)[1].items():
            response = t.http.http.post("/hello", json={**hello.to_json(), "signature": hex0x(raw)})
            assert response.status_code == 403 and response.json()["reason"].startswith("signature: "), name
            assert reason in response.json()["reason"], name
        assert t.provider.sessions == {}
        t.http.hello(hello)
        t.http.deliver(t.token)
        receipt = t.consumer.receipt(t.token, 2_000)
        body = {"token": hex0x(t.token), "session": hex0x(t.http.sessions[t.token]), "delivered_wh": 2_000}
        for name, (raw, reason) in signature_forms(receipt.signature)[1].items():
            response = t.http.http.post("/receipt", json={**body, "signature": hex0x(raw)})
            assert response.status_code == 403 and reason in response.json()["reason"], name
        assert t.provider.sessions[t.token].receipt is None
    finally:
        t.close()


@pytest.fixture(scope="module")
def metering():
    """A metering contract with a registered meter, EV and charge point, and the EV owner's escrow."""
    gateway = BoaGateway(accounts=3)
    utility, ami, owner = gateway.accounts
    client, _ = MeteringClient.deploy(gateway, utility, 3600)
    meter = SmartMeter(Account.create().key, client.domain())
    ev = Account.create()
    client.register_meter(utility, meter.address, utility, 1, 1)
    client.register_ev(utility, ev.address, owner)
    client.set_gateway(utility, ami)
    client.assign_gateway(utility, meter.address, ami)  # a gateway anchors only the meters assigned to it
    boundary = (gateway.now() // m.INTERVAL_S + 1) * m.INTERVAL_S  # a reservation needs a
    client.set_tariff(utility, 1, boundary, [10**14] * 24)  # tariff in force at the session's start
    gateway.advance_time(boundary - gateway.now())
    client.deposit(owner, 10**16)
    return gateway, client, meter, ev, ami


def test_signature_forms_at_the_meter_gateway_and_the_proof(metering):
    """collect keeps a reading in any standard form (normalised) and drops a spoiled one without stopping the
    others; the proof of each kept reading verifies off chain and on chain. An archive with a spoiled signature
    is an --archive error naming the reading."""
    gateway, client, meter, _, ami = metering
    day = gateway.now() // m.PERIOD_S + 3
    signed = [meter.sign_reading(day * m.PERIOD_S + i * m.INTERVAL_S, 10 + i) for i in range(13)]
    forms = [
        dataclasses.replace(s, signature=signature_forms(s.signature)[0][name])
        for s, name in zip(signed[:3], ["v=27/28", "v=0/1", "EIP-2098"], strict=True)
    ]
    spoiled = [
        dataclasses.replace(s, signature=signature_forms(s.signature)[1][name][0])
        for s, name in zip(signed[3:], signature_forms(signed[0].signature)[1], strict=True)
    ]
    collector = MeterGateway(client, ami)
    assert collector.collect([*spoiled[:5], *forms, *spoiled[5:]]) == 3
    gateway.advance_time((day + 1) * m.PERIOD_S - gateway.now())
    collector.anchor(meter.address, day)
    archive = collector.archive()
    for s in signed[:3]:
        proof = collector.proof(meter.address, s.reading.interval_start)
        assert proof.signed.signature == s.signature and client.verify_reading(proof.signed, proof.proof)
        result = prove_reading(archive, meter.address, s.reading.interval_start)
        assert result["verified_off_chain"] and client.verify_reading(result["_signed"], result["_proof"])
    readings = archive["anchors"][0]["readings"]
    for name in ("v=0/1", "EIP-2098"):  # an archive written by another tool, in another standard form
        readings[1]["signature"] = hex0x(signature_forms(signed[1].signature)[0][name])
        result = prove_reading(archive, meter.address, signed[1].reading.interval_start)
        assert result["verified_off_chain"] and client.verify_reading(result["_signed"], result["_proof"])
    for name, (raw, reason) in signature_forms(signed[1].signature)[1].items():
        readings[1]["signature"] = hex0x(raw)
        with pytest.raises(InputError, match="readings\\[1\\].signature: ") as e:
            prove_reading(archive, meter.address, signed[1].reading.interval_start)
        assert e.value.field == "--archive" and reason in e.value.reason, name


def test_signature_forms_at_the_roaming_station(metering):
    """The EV's signed session start: each standard form admits it and is kept canonical (what the settlement
    compacts); a spoiled one is refused naming `ev_signature`."""
    from gridchain.metering.parties import sign_session_start

    gateway, client, meter, ev, _ = metering
    start, signature = sign_session_start(ev.key, client.domain(), meter.address, gateway.now(), 10**15)
    sid = client.session_id(start)
    good, bad = signature_forms(signature)
    for name, raw in good.items():
        station = RoamingStation(client, gateway.accounts[0], RecordingBackend(), meter.address, 10**15)
        station.announce(start, raw)
        assert station.pending[sid].ev_signature == signature, name
        station.release(sid)  # the next form reserves the same session again
    station = RoamingStation(client, gateway.accounts[0], RecordingBackend(), meter.address, 10**15)
    for name, (raw, reason) in bad.items():
        with pytest.raises(RoamingRefused, match="^ev_signature: ") as e:
            station.announce(start, raw)
        assert reason in str(e.value), name
    assert station.pending == {}


def test_signature_forms_at_the_issuance_desk():
    """POST /tokens: a member's request signed in any standard form is served; a spoiled signature is a 400
    naming `signature` that issues nothing and counts nothing against the quota."""
    community = "0x" + "c0" * 20
    issuer = Issuer(bytes(Account.create().key), quota=64)
    member = Account.create()
    issuer.admit(community, member.address)
    epoch = blind.epoch_of(int(issuer.clock()))
    with LoopbackServer(issuance_app(issuer)) as server:
        client = IssuanceClient(server.url)
        modulus = client.modulus(community, epoch)
        for name in ("v=27/28", "v=0/1", "EIP-2098"):

            def reform(body: dict, name: str = name) -> dict:
                raw = bytes.fromhex(body["signature"][2:])
                return client({**body, "signature": hex0x(signature_forms(raw)[0][name])})

            wallet = TokenWallet(bytes(member.key), issuer.address, reform)
            wallet.obtain(1, community, epoch, modulus, keccak(modulus), 1)
        body = _issuance_body(member, community, epoch, modulus)
        for name, (raw, reason) in signature_forms(bytes.fromhex(body["signature"][2:]))[1].items():
            response = client.http.post("/tokens", json={**body, "signature": hex0x(raw)})
            assert response.status_code == 400, (name, response.text)
            assert response.json()["field"] == "signature" and reason in response.json()["reason"], name
        assert issuer.issued == {(to_checksum_address(community), epoch, member.address): 3}
        client.close()


def _issuance_body(member, community: str, epoch: int, modulus: bytes) -> dict:
    from gridchain.coordination.anonymous.parties.issuer import _sign, request_digest

    z = blind.blind(blind.PublicKey.from_bytes(modulus), 12345).blinded
    community = to_checksum_address(community)
    digest = request_digest(member.address, community, epoch, [z])
    return {
        "identity": member.address,
        "community": community,
        "epoch": epoch,
        "blinded": [hex(z)],
        "signature": _sign(bytes(member.key), digest),
    }


def test_the_wallet_refuses_a_malformed_answer_as_an_issuance_error():
    """The utility's answer comes from outside too: a spoiled signature or garbage is the wallet's
    IssuanceError, not a crash."""
    from gridchain.coordination.anonymous.parties.issuer import IssuanceError

    community = "0x" + "c0" * 20
    issuer = Issuer(bytes(Account.create().key), quota=64)
    member = Account.create()
    issuer.admit(community, member.address)
    epoch = blind.epoch_of(int(issuer.clock()))
    modulus = issuer.epoch_key(community, epoch).public.modulus_bytes
    for spoil in (
        lambda a: {**a, "signature": "0x" + "00" * 65},
        lambda a: {**a, "signature": 7},
        lambda a: {},
        lambda a: {**a, "blind_signatures": ["-0x5"]},
        lambda a: {**a, "blind_signatures": 3},
    ):
        wallet = TokenWallet(bytes(member.key), issuer.address, lambda b, s=spoil: s(issuer.issue(b)))
        with pytest.raises(IssuanceError):
            wallet.obtain(1, community, epoch, modulus, keccak(modulus), 1)


# ---- what the normaliser accepts is exactly what the contracts' ecrecover accepts -----------------------


@pytest.fixture(scope="module")
def probe():
    from tests.support.attackers import hostile_contract

    return hostile_contract("ecdsa_probe")


_ACCOUNT = Account.from_key(keccak(b"a signer"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    digest=st.binary(min_size=32, max_size=32),
    r_kind=st.sampled_from(["genuine", "random", "0", "n", "5"]),
    s_kind=st.sampled_from(["genuine", "flipped", "random", "0", "half", "half+1"]),
    flip_v=st.booleans(),
    rnd=st.integers(0, 2**256 - 1),
)
def test_normaliser_agrees_with_the_contracts_ecrecover(probe, digest, r_kind, s_kind, flip_v, rnd):
    """For any (r, s, parity) a compact signature can carry: the normaliser accepts it if and only if snekmate's
    `_try_recover_r_vs` (the coordinator's, the V2V auction's, the metering contract's) recovers an address
    without reverting, and then both recover the same one. So an entry never lets through what a contract
    refuses, nor refuses what a contract takes."""
    genuine = bytes(Account.unsafe_sign_hash(digest, _ACCOUNT.key).signature)
    r = {"genuine": int.from_bytes(genuine[:32], "big"), "random": rnd, "0": 0, "n": SECP256K1_N, "5": 5}[r_kind]
    s0 = int.from_bytes(genuine[32:64], "big")
    s = {
        "genuine": s0,
        "flipped": SECP256K1_N - s0,
        "random": rnd % 2**255,
        "0": 0,
        "half": SECP256K1_N // 2,
        "half+1": SECP256K1_N // 2 + 1,
    }[s_kind]
    if s >= 2**255:
        return  # not expressible in EIP-2098's vs; the 65-byte form is refused as high s
    parity = (genuine[64] - 27) ^ flip_v
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([27 + parity])
    from gridchain.crypto.keys import normalize_signature, recover_digest

    try:
        canonical = normalize_signature(raw)
    except InputError:
        canonical = None
    try:
        on_chain = probe.recover(digest, *compact(raw))
    except Exception:  # noqa: BLE001 - boa's revert
        on_chain = None
    if canonical is None:
        assert on_chain is None, f"refused off chain, recovered on chain: {r_kind}, {s_kind}"
    else:
        assert on_chain is not None and on_chain == recover_digest(digest, canonical)
        assert canonical == raw  # already canonical: v 27/28, 65 bytes


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.binary(max_size=70), st.binary(min_size=64, max_size=65)))
def test_normaliser_returns_the_canonical_form_or_names_the_field(raw):
    """Arbitrary bytes: either 65 bytes with v in {27, 28}, 0 < r < n on the curve, 0 < s <= n/2, or an
    InputError naming the field; never another exception."""
    from gridchain.crypto.keys import normalize_signature

    try:
        out = normalize_signature(raw, "sig")
    except InputError as e:
        assert e.field == "sig"
        return
    r, s = int.from_bytes(out[:32], "big"), int.from_bytes(out[32:64], "big")
    assert len(out) == 65 and out[64] in (27, 28) and 0 < r < SECP256K1_N and 0 < s <= SECP256K1_N // 2
    assert normalize_signature(out) == out


# ---- hole 15: the relayer can be drained ------------------------------------------------------------------


@pytest.mark.parametrize("chain", CHAINS)
def test_hole15a_front_running_its_own_request_costs_the_relayer_nothing(chain, request):
    """The attacker queues a request, then sends the same request to the chain itself before the flush. At
    b3d15a8 the all-or-nothing batch reverted and the relayer fell back to one transaction per request (it paid
    for every honest request alone). Now the flush simulates the batch, fails the attacker's ticket with the
    contract's reason and sends the honest ones as one batch; no transaction of the relayer reverts."""
    relay = relay_on(chain, request)
    honest = [relay.request(1_000 * (k + 1)) for k in range(5)]
    own = relay.request(7_000)
    tickets = [relay.relayer.accept(r.to_json()) for r in [*honest[:2], own, *honest[2:]]]
    relay.front_run(own)
    balance = relay.gateway.balance(relay.relayer_account)
    relay.relayer.flush()
    mine = tickets[2]
    assert mine.status == "failed" and "pseudonym already used" in mine.reason
    others = [t for t in tickets if t is not mine]
    assert {t.status for t in others} == {"submitted"}
    assert len({t.tx_hash for t in others}) == 1, "the honest requests went one transaction each"
    assert relay.spy.reverted == [], "a transaction of the relayer reverted"
    if chain == "anvil":  # the relayer paid for that one batch only
        receipt = relay.gateway.w3.eth.get_transaction_receipt(others[0].tx_hash)
        paid = balance - relay.gateway.balance(relay.relayer_account)
        assert paid == receipt["gasUsed"] * receipt["effectiveGasPrice"]


def test_hole15a_a_revert_inside_the_block_is_retried_without_the_culprit(relay):
    """The race no simulation sees: the attacker's transaction is ordered just before the relayer's batch (after
    every check and simulation). The batch reverts once; the relayer simulates again, fails the attacker's
    ticket and sends the rest as one batch (the attacker has spent a token on it). At b3d15a8 the honest
    requests went one transaction each."""
    honest = [relay.request(1_000 * (k + 1)) for k in range(3)]
    own = relay.request(7_000)
    tickets = [relay.relayer.accept(r.to_json()) for r in [own, *honest]]
    relay.spy.before["transact"] = lambda: relay.front_run(own)
    relay.relayer.flush()
    assert tickets[0].status == "failed" and "pseudonym already used" in tickets[0].reason
    assert {t.status for t in tickets[1:]} == {"submitted"} and len({t.tx_hash for t in tickets[1:]}) == 1
    assert relay.spy.reverted == ["coordinator: pseudonym already used"]  # the one revert a race can cost


def test_hole15b_only_the_admin_may_force_a_flush(served):
    """A stranger forcing flushes would force batches of one (undoing the shuffle) and make the relayer pay a
    transaction per request. At b3d15a8 POST /flush needed nothing. Without an admin token it is off; with
    one, only a request bearing it flushes."""
    ticket = served.http.send(served.request().to_json())["id"]
    stranger = served.http.http.post("/flush")
    assert stranger.status_code == 403 and stranger.json()["field"] == "authorization"
    assert served.http.status(ticket)["status"] == "queued" and served.spy.calls["transact"] == 0
    with LoopbackServer(relayer_app(served.relayer, ADMIN)) as server:
        operator = RelayerClient(server.url, admin_token=ADMIN)
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"Authorization": "Basic " + ADMIN},
            {"Authorization": "Bearer " + ADMIN + "x"},
            {"Authorization": ADMIN},
        ):
            response = operator.http.post("/flush", headers=headers)
            assert response.status_code == 401 and response.json()["field"] == "authorization", headers
        assert served.http.status(ticket)["status"] == "queued" and served.spy.calls["transact"] == 0
        assert [t["id"] for t in operator.flush()] == [ticket]
    assert served.http.status(ticket)["status"] == "submitted"
    with pytest.raises(InputError, match="admin_token: must have at least 16 characters"):
        relayer_app(served.relayer, "short")


def test_hole15c_a_token_of_another_epoch_is_refused_at_entry(relay):
    """A token of tomorrow's (registered) epoch, signed for the current slot: at b3d15a8 it was queued, failed
    on chain, stayed unspent and could be sent again without end (each time splitting the honest batch). Now
    it is refused at entry naming `epoch`, like any epoch but the slot's."""
    account = Account.create()
    tomorrow = relay.request(account=account, epoch=relay.epoch + 1)
    honest = [relay.request(1_000 * (k + 1)) for k in range(3)]
    tickets = [relay.relayer.accept(r.to_json()) for r in honest]
    for _ in range(3):  # the attacker keeps resending it
        with pytest.raises(RelayRefused) as e:
            relay.relayer.accept(tomorrow.to_json())
        assert e.value.field == "epoch" and f"is not the epoch of slot 0 ({relay.epoch})" in e.value.reason
    for epoch in (relay.epoch - 1, 0, 2**256 - 1):
        with pytest.raises(RelayRefused, match="^epoch: "):
            relay.relayer.accept(relay.request(account=account, epoch=epoch, token=1).to_json())
    assert len(relay.relayer.tickets) == 3
    relay.relayer.flush()
    assert {t.status for t in tickets} == {"submitted"} and len({t.tx_hash for t in tickets}) == 1


def test_hole15d_unknown_epochs_never_make_the_relayer_rescan_the_log(relay):
    """At b3d15a8 every request naming an epoch without a cached key made the relayer read the whole
    EpochKeyRegistered log. Now an epoch that is not the slot's is refused first, the slot's epoch without a
    key costs one view call, and the log is read once per registered key, from where the last read ended."""
    account = Account.create()
    for epoch in [relay.epoch + 2, relay.epoch + 7, 10**12, *range(relay.epoch - 5, relay.epoch)]:
        with pytest.raises(RelayRefused, match="^epoch: "):
            relay.relayer.accept(relay.request(account=account, epoch=epoch, token=1).to_json())
    assert relay.spy.calls["events"] == 0
    relay.relayer.accept(relay.request().to_json())
    relay.relayer.accept(relay.request().to_json())
    assert relay.spy.calls["events"] == 1  # the slot's key, read once and cached
    # a coordinator whose current epoch has no key yet: refused by one view call, no log read, every time
    bare = Relay(BoaGateway(accounts=3))
    bare.relayer.client = CoordinatorClient(bare.spy, bare.client.address, bare.client.artifact)
    bare.gateway.advance_time(2 * blind.EPOCH_SECONDS)  # two days on: no key registered for today
    for _ in range(5):
        r = bare.request(account=Account.create(), token=1)
        with pytest.raises(RelayRefused, match="^epoch: no key registered on chain"):
            bare.relayer.accept(r.to_json())
    assert bare.spy.calls["events"] == 0


def test_hole15e_ticket_ids_cannot_be_walked(served):
    """At b3d15a8 ticket ids were 1, 2, 3... and GET /requests/{id} was open: anyone could read every ticket
    (slot, arrival, tx) and link the order of sending to the order of arrival on chain. Ids are now 128
    random bits: only the sender, who holds its id, can read its ticket."""
    ids = [served.http.send(served.request(1_000 * (k + 1)).to_json())["id"] for k in range(3)]
    mine = str(ids[0])
    for guess in [*range(-1, 50), "0x1", mine[:-1], mine + "A", mine.swapcase()]:
        response = served.http.http.get(f"/requests/{guess}")
        assert response.status_code == 404, f"anyone reads ticket {guess}: {response.text}"
    assert response.json() == {"field": "id", "reason": "no such request"}
    assert all(len(i) >= 22 for i in ids) and len(set(ids)) == 3
    assert [served.http.status(i)["status"] for i in ids] == ["queued"] * 3


def test_hole15f_malformed_signatures_are_a_400_naming_the_field(served):
    """A 65-byte signature that no key made (v out of range, r or s zero or off the curve): at b3d15a8 the
    relayer's recovery raised and the client got an HTTP 500. Now it is a 400 naming `signature`."""
    r = served.request()
    for raw in (
        r.signature[:64] + b"\x1d",
        b"\xff" * 65,
        bytes(65),
        (5).to_bytes(32, "big") + r.signature[32:],
        r.signature[:32] + bytes(32) + r.signature[64:],
    ):
        response = served.http.http.post("/requests", json={**r.to_json(), "signature": hex0x(raw)})
        assert response.status_code == 400, response.text
        assert response.json()["field"] == "signature"
    assert served.relayer.tickets == {}


# ---- hole 16: the issuer generates keys for anyone --------------------------------------------------------


def test_hole16_keys_only_for_the_utilitys_communities_and_a_window_of_epochs():
    """At b3d15a8 GET /keys/{community}/{epoch} generated and kept an RSA-2048 key for any address and any epoch
    (negative too), unauthenticated. Now a key exists only for the utility's own communities and today ..
    today + lookahead; anything else is a 4xx naming the field, and nothing is generated or stored."""
    ours = to_checksum_address("0x" + "c0" * 20)
    issuer = Issuer(bytes(Account.create().key))
    issuer.admit(ours, Account.create().address)
    today = blind.epoch_of(int(issuer.clock()))
    with LoopbackServer(issuance_app(issuer)) as server:
        client = IssuanceClient(server.url)
        for community, epoch, status, field in [
            ("0x" + "11" * 20, today, 404, "community"),
            (Account.create().address, today + 1, 404, "community"),
            ("not-an-address", today, 400, "community"),
            (ours, -1, 400, "epoch"),
            (ours, today - 1, 400, "epoch"),
            (ours, today + 2, 400, "epoch"),
            (ours, 10**18, 400, "epoch"),
            (ours, 0, 400, "epoch"),
            (ours, "1e3", 400, "epoch"),
            (ours, "9" * 40, 400, "epoch"),
        ]:
            with pytest.raises(IssuanceRefused) as e:
                client.modulus(community, epoch)
            assert (e.value.status, e.value.field) == (status, field), (community, epoch, e.value)
        assert issuer.book.keys == {}  # nothing generated, nothing kept
        assert len(client.modulus(ours, today)) == len(client.modulus(ours, today + 1)) == 256
        assert set(issuer.book.keys) == {(ours, today), (ours, today + 1)}
        client.close()
    with pytest.raises(IssuanceRefused, match="community"):  # in process as well: no key for a stranger
        issuer.epoch_key("0x" + "22" * 20, today)


# ---- a stateful machine: hostile senders against the relayer ------------------------------------------------

FORMS = ["v=27/28", "v=0/1", "EIP-2098"]
MUTATIONS = [
    "signature",
    "signature_of_another",
    "epoch",
    "slot",
    "token",
    "demand_w",
    "soc_pm",
    "tcc",
    "pseudonym",
    "missing",
    "wrong_type",
]


class RelayerMachine(RuleBasedStateMachine):
    """Honest members and an attacker against one relayer (batches of 3) on the embedded chain: requests in
    every signature form, hostile bodies (every field spoiled with values from the whole uint256 range, wrong
    types, missing fields, signatures of another key), replays, front-runs of queued requests, flushes and the
    clock. After every step: no queued pseudonym twice; every submitted ticket's pseudonym is spent on chain;
    no transaction of the relayer ever reverted; a flush leaves nothing queued and sends at most one
    transaction per batch of queued tickets."""

    @initialize()
    def setup(self) -> None:
        self.relay = Relay(BoaGateway(accounts=3), batch_size=3, seed=7)
        self.sent: list[AnonymousRequest] = []  # accepted requests
        self.front_run_pseudonyms: set[str] = set()

    def _slot(self) -> int:
        return int(self.relay.client.view("current_slot"))

    @rule(
        form=st.sampled_from(FORMS),
        demand_w=st.integers(1, 2**64 - 1),
        soc_pm=st.integers(0, 999),
        tcc=st.integers(1, 2**32 - 1),
    )
    def honest(self, form: str, demand_w: int, soc_pm: int, tcc: int) -> None:
        account = Account.create()
        slot = self._slot()
        epoch = self.relay.client.epoch_of_slot(slot)
        r = sign_request(
            account.key,
            self.relay.chain_id,
            self.relay.client.address,
            epoch,
            slot,
            demand_w,
            soc_pm,
            tcc,
            self.relay.token(account.address, epoch),
        )
        body = {**r.to_json(), "signature": hex0x(signature_forms(r.signature)[0][form])}
        ticket = self.relay.relayer.accept(body)
        assert ticket.status == "queued" and ticket.request.signature == r.signature  # kept canonical
        self.sent.append(r)

    @rule(
        mutation=st.sampled_from(MUTATIONS),
        value=st.integers(-(2**256), 2**257),
        form=st.sampled_from(FORMS),
        bad=st.sampled_from(list(signature_forms(b"\x01" * 32 + b"\x02" * 32 + b"\x1b")[1])),
    )
    def hostile(self, mutation: str, value: int, form: str, bad: str) -> None:
        r = self.relay.request()
        body = r.to_json()
        expected = {mutation}
        if mutation == "signature":
            body["signature"] = hex0x(signature_forms(r.signature)[1][bad][0])
        elif mutation == "signature_of_another":
            other = sign_request(
                Account.create().key,
                self.relay.chain_id,
                self.relay.client.address,
                r.epoch,
                r.slot,
                r.demand_w,
                r.soc_pm,
                r.tcc,
                r.token,
            )
            body["signature"], expected = hex0x(signature_forms(other.signature)[0][form]), {"signature"}
        elif mutation in ("epoch", "slot", "demand_w", "soc_pm", "tcc"):
            if value == body[mutation]:
                value += 1
            body[mutation] = value
            expected = {mutation, "request", "signature", "epoch"}  # out of range, the contract's bounds, or
        elif mutation == "token":  # re-signed fields; a wrong slot makes the slot's epoch "wrong" too
            body["token"] = hex0x((value % 2**2048).to_bytes(256, "big"))
        elif mutation == "pseudonym":
            body["pseudonym"], expected = to_checksum_address((value % 2**160).to_bytes(20, "big")), {"signature"}
        elif mutation == "missing":
            field = list(body)[value % len(body)]
            del body[field]
            expected = {field}
        else:
            field = ["epoch", "token", "signature", "pseudonym", "slot"][value % 5]
            body[field] = [None, 1.5, True, "1", [], {}][value % 6]
            expected = {field}
        before = dict(self.relay.relayer.tickets)
        with pytest.raises(InputError) as e:  # nothing but a refusal naming a field: never a crash
            self.relay.relayer.accept(body)
        assert e.value.field in expected, (mutation, e.value)
        assert self.relay.relayer.tickets == before

    @rule(data=st.data())
    def replay(self, data) -> None:
        if not self.sent:
            return
        r = data.draw(st.sampled_from(self.sent))
        with pytest.raises(InputError):  # pseudonym used (or its slot has passed)
            self.relay.relayer.accept(r.to_json())

    @rule(data=st.data())
    def front_run(self, data) -> None:
        queued = [t for t in self.relay.relayer.tickets.values() if t.status == "queued"]
        if not queued:
            return
        t = data.draw(st.sampled_from(queued))
        if t.request.slot == self._slot() and t.request.pseudonym not in self.front_run_pseudonyms:
            self.relay.front_run(t.request)
            self.front_run_pseudonyms.add(t.request.pseudonym)

    @rule()
    def flush(self) -> None:
        queued = [t for t in self.relay.relayer.tickets.values() if t.status == "queued"]
        sends = self.relay.spy.calls["transact"]
        done = self.relay.relayer.flush()
        assert sorted(t.id for t in done) == sorted(t.id for t in queued)
        assert all(t.status != "queued" for t in queued)
        groups = Counter((t.request.slot, t.request.epoch) for t in queued)
        assert self.relay.spy.calls["transact"] - sends <= sum(math.ceil(n / 3) for n in groups.values())
        for t in queued:
            if t.request.pseudonym in self.front_run_pseudonyms:  # spent by the attacker, or its slot is over
                assert t.status == "failed" and ("already used" in t.reason or "passed" in t.reason), t.reason

    @rule(hours=st.integers(1, 3))
    def advance(self, hours: int) -> None:
        if self._slot() < 20:  # keys are registered for two days
            self.relay.gateway.advance_time(hours * SLOT_S)

    @invariant()
    def consistent(self) -> None:
        if not hasattr(self, "relay"):
            return
        tickets = list(self.relay.relayer.tickets.values())
        live = [t.request.pseudonym for t in tickets if t.status != "failed"]
        assert len(live) == len(set(live))
        for t in tickets:
            if t.status == "submitted":
                assert self.relay.client.spent(t.request.pseudonym)
        assert self.relay.spy.reverted == []


TestRelayerMachine = RelayerMachine.TestCase
TestRelayerMachine.settings = settings(max_examples=12, stateful_step_count=25, deadline=None)
