"""The anonymous mode's two services over real loopback HTTP: the utility's issuance (quota, membership,
signed answers, the wallet's checks) and the relayer (checks like the contract's, batches, refusals)."""

from __future__ import annotations

import httpx
import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.locked import LockedGateway
from gridchain.coordination.anonymous.client import sign_request
from gridchain.coordination.anonymous.parties.issuer import (
    IssuanceError,
    IssuanceRefused,
    Issuer,
    TokenWallet,
)
from gridchain.coordination.anonymous.parties.relayer import Relayer, RelayRefused
from gridchain.coordination.anonymous.service.issuance import (
    IssuanceClient,
    issuance_app,
)
from gridchain.coordination.anonymous.service.relayer import RelayerClient, relayer_app
from gridchain.coordination.client import CoordinatorClient
from gridchain.crypto import blind
from gridchain.net.server import LoopbackServer

COMMUNITY = "0x" + "c0" * 20
ADMIN = "the relayer operator's admin token"


@pytest.fixture
def desk():
    issuer = Issuer(bytes(Account.create().key), quota=4)
    member = Account.create()
    issuer.admit(COMMUNITY, member.address)
    with LoopbackServer(issuance_app(issuer)) as server:
        client = IssuanceClient(server.url)
        yield issuer, member, client
        client.close()


def wallet_for(issuer: Issuer, account, transport) -> TokenWallet:
    return TokenWallet(bytes(account.key), issuer.address, transport)


def obtain(issuer, wallet, client, count, epoch=None):
    epoch = blind.epoch_of(int(issuer.clock())) if epoch is None else epoch
    modulus = client.modulus(COMMUNITY, epoch)
    wallet.obtain(1, COMMUNITY, epoch, modulus, keccak(modulus), count)
    return epoch


def test_member_obtains_tokens_the_utility_never_sees(desk):
    issuer, member, client = desk
    wallet = wallet_for(issuer, member, client)
    epoch = obtain(issuer, wallet, client, 3)
    tokens = wallet.unused[(to_checksum_address(COMMUNITY), epoch)]
    assert len(tokens) == 3
    public = issuer.epoch_key(COMMUNITY, epoch).public
    for p in tokens:
        assert blind.verify(public, blind.fdh(blind.token_seed(1, COMMUNITY, epoch, p.address)), p.token)
    [record] = issuer.view
    assert record.identity == member.address and len(record.blinded) == 3
    seen = {hex(z) for z in record.blinded}
    assert not seen & {hex(p.token) for p in tokens}
    assert not seen & {hex(blind.fdh(blind.token_seed(1, COMMUNITY, epoch, p.address))) for p in tokens}


def test_quota_per_epoch(desk):
    issuer, member, client = desk
    wallet = wallet_for(issuer, member, client)
    obtain(issuer, wallet, client, 3)
    with pytest.raises(IssuanceRefused, match="blinded: 2 tokens asked, 1 of 4 left") as e:
        obtain(issuer, wallet, client, 2)
    assert e.value.status == 429
    obtain(issuer, wallet, client, 1)  # the refused request counted nothing
    tomorrow = blind.epoch_of(int(issuer.clock())) + 1
    obtain(issuer, wallet, client, 4, epoch=tomorrow)  # a new epoch, a new quota


def test_request_not_signed_by_a_member(desk):
    issuer, member, client = desk
    stranger = Account.create()
    with pytest.raises(IssuanceRefused, match="is not a member") as e:
        obtain(issuer, wallet_for(issuer, stranger, client), client, 1)
    assert e.value.status == 403
    # a stranger signing in a member's name
    impostor = TokenWallet(bytes(stranger.key), issuer.address, client)
    impostor_identity = member.address

    def forged(body):
        return client({**body, "identity": impostor_identity})

    impostor.transport = forged
    with pytest.raises(IssuanceRefused, match="signature: signed by") as e:
        obtain(issuer, impostor, client, 1)
    assert e.value.status == 401 and issuer.issued == {}


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "identity"),
        ({"identity": "0x12", "community": COMMUNITY, "epoch": 1, "blinded": ["0x1"], "signature": "0x"}, "identity"),
        (
            {"identity": "0x" + "11" * 20, "community": COMMUNITY, "epoch": -1, "blinded": ["0x1"], "signature": "0x"},
            "epoch",
        ),
        (
            {"identity": "0x" + "11" * 20, "community": COMMUNITY, "epoch": 1, "blinded": ["zz"], "signature": "0x"},
            "blinded[0]",
        ),
        (
            {"identity": "0x" + "11" * 20, "community": COMMUNITY, "epoch": 1, "blinded": [], "signature": "0x"},
            "blinded",
        ),
    ],
)
def test_malformed_issuance_requests_name_the_field(desk, body, field):
    _, _, client = desk
    with pytest.raises(IssuanceRefused) as e:
        client(body)
    assert e.value.field == field and e.value.status == 400


def test_wallet_refuses_a_key_other_than_the_registered_one(desk):
    issuer, member, client = desk
    wallet = wallet_for(issuer, member, client)
    epoch = blind.epoch_of(int(issuer.clock()))
    tagged = blind.PrivateKey.generate().public.modulus_bytes  # a key made for this ESU alone
    with pytest.raises(IssuanceError, match="not the one registered on chain"):
        wallet.obtain(1, COMMUNITY, epoch, tagged, keccak(client.modulus(COMMUNITY, epoch)), 1)
    assert issuer.view == []  # refused before anything was sent


def test_wallet_refuses_answers_not_signed_by_the_utility_or_bad_tokens(desk):
    issuer, member, client = desk
    other = Issuer(bytes(Account.create().key))
    wallet = TokenWallet(bytes(member.key), other.address, client)  # expects another utility's signature
    with pytest.raises(IssuanceError, match="not signed by the utility"):
        obtain(issuer, wallet, client, 1)

    def garbled(body):
        answer = client(body)
        return {**answer, "blind_signatures": ["0x2"]}

    wallet = TokenWallet(bytes(member.key), issuer.address, garbled)
    with pytest.raises(IssuanceError):
        obtain(issuer, wallet, client, 1)


# ---- the relayer -----------------------------------------------------------------------------------------


class Street:
    """A coordinator on the embedded chain with the epoch key registered, a relayer service, and tokens."""

    def __init__(self):
        self.gateway = LockedGateway(BoaGateway(accounts=2))
        owner, relayer_account = self.gateway.accounts
        self.client, _ = CoordinatorClient.deploy(self.gateway, owner, self.gateway.now(), 3600, 500, 100_000)
        self.key = blind.PrivateKey.generate()
        self.epoch = blind.epoch_of(self.gateway.now())
        self.client.register_epoch_key(owner, self.epoch, self.key.public.modulus_bytes)
        self.chain_id = self.client.chain_id()
        self.relayer = Relayer(self.client, relayer_account)

    def request(self, demand_w=5_000, account=None, token=None):
        account = account or Account.create()
        if token is None:
            m = blind.fdh(blind.token_seed(self.chain_id, self.client.address, self.epoch, account.address))
            token = pow(m, self.key.d, self.key.public.n)
        return sign_request(account.key, self.chain_id, self.client.address, self.epoch, 0, demand_w, 300, 3, token)


@pytest.fixture
def street():
    s = Street()
    with LoopbackServer(relayer_app(s.relayer, ADMIN)) as server:
        s.http = RelayerClient(server.url, admin_token=ADMIN)
        yield s
        s.http.close()


def test_relayer_batches_requests_and_reports_arrivals(street):
    requests = [street.request(1_000 * (k + 1)) for k in range(5)]
    tickets = [street.http.send(r.to_json())["id"] for r in requests]
    assert {street.http.status(t)["status"] for t in tickets} == {"queued"}
    flushed = street.http.flush()
    assert len({t["tx_hash"] for t in flushed}) == 1  # one transaction
    on_chain = {s.request >> 112: s.request & (2**64 - 1) for s in street.client.submissions(0)}
    for r, t in zip(requests, tickets):
        status = street.http.status(t)
        assert status["status"] == "submitted" and on_chain[status["arrival"]] == r.demand_w
    assert all(street.client.spent(r.pseudonym) for r in requests)


@pytest.mark.parametrize(
    "spoil, field",
    [
        (lambda s, r: {**r.to_json(), "demand_w": 9}, "signature"),
        (lambda s, r: {**r.to_json(), "token": "0x" + "01" * 256}, "token"),
        (lambda s, r: {**r.to_json(), "token": "0x" + "01" * 255}, "token"),
        (lambda s, r: {**r.to_json(), "signature": "0x1234"}, "signature"),
        (lambda s, r: {**r.to_json(), "slot": 7}, "slot"),
        (lambda s, r: {**r.to_json(), "epoch": s.epoch + 1}, "epoch"),  # not the slot's epoch
        (lambda s, r: {**r.to_json(), "soc_pm": 1000}, "request"),
        (lambda s, r: {k: v for k, v in r.to_json().items() if k != "tcc"}, "tcc"),
    ],
)
def test_relayer_refuses_what_the_contract_would_reject(street, spoil, field):
    with pytest.raises(RelayRefused) as e:
        street.http.send(spoil(street, street.request()))
    assert e.value.field == field
    assert street.relayer.tickets == {}


def test_relayer_refuses_a_pseudonym_twice(street):
    account = Account.create()
    street.http.send(street.request(account=account).to_json())
    with pytest.raises(RelayRefused, match="already used"):
        street.http.send(street.request(7_000, account=account).to_json())
    street.http.flush()
    with pytest.raises(RelayRefused, match="already used"):
        street.http.send(street.request(8_000, account=account).to_json())


def test_requests_for_a_passed_slot_fail_with_a_reason(street):
    ticket = street.http.send(street.request().to_json())["id"]
    street.gateway.advance_time(3600)
    [t] = street.http.flush()
    assert t["id"] == ticket and t["status"] == "failed" and "slot 0 passed" in t["reason"]


def test_the_relayer_serves_metrics_and_no_docs_pages():
    with LoopbackServer(relayer_app(_relayer_stub())) as server, httpx.Client(base_url=server.url) as http:
        assert http.get("/docs").status_code == 404 and http.get("/redoc").status_code == 404
        assert "/requests" in http.get("/openapi.json").json()["paths"]
        assert http.get("/requests/a-secret-ticket-id").status_code == 404
        text = http.get("/metrics").text
    assert 'gridchain_service_info{service="relayer"} 1.0' in text
    assert 'route="/requests/{ticket}",status="404"} 1.0' in text and "a-secret-ticket-id" not in text


def _relayer_stub():
    """What the relayer's routes above read of a relayer: no ticket at all."""

    class Stub:
        tickets: dict = {}

    return Stub()
