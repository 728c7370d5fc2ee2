"""The relayer's store on SQLite and PostgreSQL: tickets round trip, a signed batch and its tickets are written
together, and a relayer restarted on the same store knows every ticket it acknowledged (embedded chain)."""

from __future__ import annotations

import pytest
from eth_account import Account

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.locked import LockedGateway
from gridchain.coordination.anonymous.client import sign_request
from gridchain.coordination.anonymous.parties.relayer import Relayer, RelayRefused
from gridchain.coordination.anonymous.parties.relayer_store import RelayerStore, SubmissionRecord, Ticket
from gridchain.coordination.client import CoordinatorClient
from gridchain.crypto import blind

KEY = blind.PrivateKey.generate()
SLOT_S = 3600


@pytest.fixture
def rstore(store):
    relayer_store = RelayerStore(store)
    relayer_store.migrate()
    return relayer_store


class Desk:
    """A coordinator on the embedded chain with today's key, and a way to make valid requests."""

    def __init__(self) -> None:
        self.gateway = LockedGateway(BoaGateway(accounts=2))
        self.owner, self.account = self.gateway.accounts
        self.client, _ = CoordinatorClient.deploy(self.gateway, self.owner, self.gateway.now(), SLOT_S, 500, 10**9)
        self.epoch = blind.epoch_of(self.gateway.now())
        self.client.register_epoch_key(self.owner, self.epoch, KEY.public.modulus_bytes)

    def request(self, demand_w: int = 5_000):
        account, chain_id, address = Account.create(), self.client.chain_id(), self.client.address
        token = pow(blind.fdh(blind.token_seed(chain_id, address, self.epoch, account.address)), KEY.d, KEY.public.n)
        slot = int(self.client.view("current_slot"))
        return sign_request(account.key, chain_id, address, self.epoch, slot, demand_w, 300, 3, token)


@pytest.fixture(scope="module")
def desk():
    return Desk()


def test_tickets_round_trip(rstore, desk):
    ticket = Ticket("a" * 22, desk.request())
    rstore.add(ticket)
    ticket.status, ticket.reason = "failed", "slot 0 passed"
    rstore.save([ticket])
    [back] = rstore.tickets()
    assert back == ticket and back.request.as_abi() == ticket.request.as_abi()


def test_a_signed_batch_and_its_tickets_are_written_together(rstore, desk):
    tickets = [Ticket(f"t{i}", desk.request()) for i in range(3)]
    for t in tickets:
        rstore.add(t)
    assert rstore.highest_open_nonce() is None
    for t in tickets[:2]:
        t.status, t.tx_hash = "sending", "0x" + "11" * 32
    rstore.record(SubmissionRecord("0x" + "11" * 32, 7, b"\x02raw", ("t0", "t1"), 5), tickets[:2])
    [sent] = rstore.submissions("sent")
    assert (sent.nonce, sent.raw, sent.tickets, sent.from_block) == (7, b"\x02raw", ("t0", "t1"), 5)
    assert rstore.highest_open_nonce() == 7
    assert [t.status for t in rstore.tickets()] == ["sending", "sending", "queued"]
    for t in tickets[:2]:
        t.status, t.arrival = "submitted", 0
    rstore.settle(sent.tx_hash, "mined", tickets[:2])
    assert rstore.submissions("sent") == [] and rstore.highest_open_nonce() is None
    assert [s.state for s in rstore.submissions()] == ["mined"]
    assert [t.status for t in rstore.tickets()] == ["submitted", "submitted", "queued"]


def test_a_failed_write_leaves_nothing_half_written(rstore, desk):
    """A submission that cannot be written (its hash is there already) changes none of its tickets."""
    ticket = Ticket("t0", desk.request())
    rstore.add(ticket)
    record = SubmissionRecord("0x" + "22" * 32, 1, b"raw", ("t0",), 1)
    rstore.record(record, [])
    ticket.status = "sending"
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        rstore.record(record, [ticket])
    assert [t.status for t in rstore.tickets()] == ["queued"] and len(rstore.submissions()) == 1


def test_a_restarted_relayer_knows_every_acknowledged_ticket(rstore):
    desk = Desk()  # its own chain: this test submits
    first = Relayer(desk.client, desk.account, store=rstore)
    acknowledged = [first.accept(desk.request(1_000 + i).to_json()).id for i in range(3)]
    again = Relayer(desk.client, desk.account, store=rstore)  # the first is gone (killed): nothing flushed
    assert again.restore() == 3 and set(again.tickets) == set(acknowledged)
    with pytest.raises(RelayRefused, match="already used"):  # its pseudonym is queued, after the restart too
        again.accept(again.tickets[acknowledged[0]].request.to_json())
    settled = again.flush()
    assert {t.id for t in settled} == set(acknowledged) and {t.status for t in settled} == {"submitted"}
    on_chain = sorted(s.request >> 112 for s in desk.client.submissions())
    assert len(on_chain) == 3 and sorted(t.arrival for t in RelayerStore(rstore.store).tickets()) == on_chain
