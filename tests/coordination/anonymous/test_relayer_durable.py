"""The durable relayer against a real node (anvil): a batch transaction is signed with its nonce and stored
before it is broadcast, so a dropped transaction, a relayer killed between persisting and broadcasting or after
broadcasting, and a node restart that lost the pending pool all end with every request on chain exactly once."""

from __future__ import annotations

import pytest
from eth_account import Account

from gridchain.chain.anvil import start_anvil
from gridchain.chain.locked import LockedGateway
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.coordination.anonymous.client import sign_request
from gridchain.coordination.anonymous.parties.relayer import Relayer
from gridchain.coordination.anonymous.parties.relayer_store import RelayerStore
from gridchain.coordination.client import CoordinatorClient
from gridchain.crypto import blind
from gridchain.store.engine import open_store, sqlite_url
from tests.support.processes import rpc, wait_until

pytestmark = pytest.mark.integration
KEY = blind.PrivateKey.generate()
SLOT_S = 3600
WAIT_S = 0.3  # how long a flush waits for a receipt here (the node does not mine while automine is off)


class Killed(BaseException):
    """A SIGKILL in process: nothing after the point where it is raised runs (no handler catches it)."""


def kill_at(stage: str):
    def hook(reached: str) -> None:
        if reached == stage:
            raise Killed(stage)

    return hook


class Street:
    """A coordinator (hour-long slots, today's key) on the node, a relayer account, and the relayer's store."""

    def __init__(self, url: str, keys: list[str], folder) -> None:
        self.url = url
        self.gateway = LockedGateway(RpcGateway(url, keys))
        self.owner, self.account = self.gateway.accounts[:2]
        self.client, _ = CoordinatorClient.deploy(self.gateway, self.owner, self.gateway.now(), SLOT_S, 500, 10**9)
        self.epoch = blind.epoch_of(self.gateway.now())
        self.client.register_epoch_key(self.owner, self.epoch, KEY.public.modulus_bytes)
        self.store = RelayerStore(open_store(sqlite_url(folder / "state" / "gridchain.db")))
        self.store.migrate()

    def relayer(self) -> Relayer:
        """A relayer (started afresh: restored from the store and reconciled)."""
        relayer = Relayer(self.client, self.account, store=self.store, receipt_timeout_s=WAIT_S)
        relayer.restore()
        relayer.reconcile()
        return relayer

    def request(self) -> dict:
        account, chain_id, address = Account.create(), self.client.chain_id(), self.client.address
        token = pow(blind.fdh(blind.token_seed(chain_id, address, self.epoch, account.address)), KEY.d, KEY.public.n)
        slot = int(self.client.view("current_slot"))
        return sign_request(account.key, chain_id, address, self.epoch, slot, 5_000, 300, 3, token).to_json()

    def batches(self) -> list:
        return self.gateway.events(self.client.artifact, self.client.address, "RequestBatchSubmitted", 0)

    def automine(self, on: bool) -> None:
        rpc(self.url, "evm_setAutomine", [on])

    def landed_once(self, relayer: Relayer, ids: list[str]) -> None:
        """Every ticket submitted, as the store says too, each pseudonym spent, and one arrival per ticket on
        chain (the batches hold exactly as many requests as tickets were acknowledged)."""
        stored = {t.id: t for t in self.store.tickets()}
        assert {stored[i].status for i in ids} == {"submitted"} == {relayer.tickets[i].status for i in ids}
        assert all(self.client.spent(stored[i].request.pseudonym) for i in ids)
        words = [w for e in self.batches() for w in e.args["requests"]]
        assert len(words) == len(ids) and sorted(w >> 112 for w in words) == sorted(stored[i].arrival for i in ids)


@pytest.fixture(scope="module")
def node():
    with start_anvil(accounts=2) as started:
        yield started


@pytest.fixture
def street(node, tmp_path):
    made = Street(node.url, node.keys, tmp_path)
    yield made
    made.automine(True)
    made.store.store.close()


def test_a_dropped_transaction_is_broadcast_again_and_lands_once(street):
    relayer = street.relayer()
    ids = [relayer.accept(street.request()).id for _ in range(2)]
    street.automine(False)
    assert relayer.flush() == []  # signed, stored, broadcast; no receipt yet
    [sent] = street.store.submissions("sent")
    assert {relayer.tickets[i].status for i in ids} == {"sending"} and street.gateway.known(sent.tx_hash)
    rpc(street.url, "anvil_dropTransaction", [sent.tx_hash])
    assert not street.gateway.known(sent.tx_hash)
    assert relayer.flush() == []  # reconciled: the same raw transaction again
    assert street.gateway.known(sent.tx_hash)
    rpc(street.url, "evm_mine")
    settled = relayer.flush()
    assert {t.id for t in settled} == set(ids) and {t.tx_hash for t in settled} == {sent.tx_hash}
    street.landed_once(relayer, ids)
    assert [s.state for s in street.store.submissions()] == ["mined"]


def test_killed_between_persisting_and_broadcasting_resumes_and_lands_once(street):
    relayer = street.relayer()
    ids = [relayer.accept(street.request()).id for _ in range(3)]
    relayer.submitter.hook = kill_at("persisted")
    with pytest.raises(Killed):
        relayer.flush()
    [sent] = street.store.submissions("sent")
    assert not street.gateway.known(sent.tx_hash)  # never broadcast
    restarted = street.relayer()  # restores the tickets (sending) and broadcasts the stored transaction
    assert {restarted.tickets[i].status for i in ids} == {"sending"}
    # automine mines the rebroadcast just after the node answers: wait for that (a flush that looks while it is
    # still pending leaves it for the next one: 1 failure in a loaded -n 2 run)
    wait_until(lambda: street.gateway.receipt(street.client.artifact, sent.tx_hash) is not None, 30, "the receipt")
    assert {t.id for t in restarted.flush()} == set(ids)  # its receipt
    street.landed_once(restarted, ids)
    assert {restarted.tickets[i].tx_hash for i in ids} == {sent.tx_hash}


def test_killed_after_broadcasting_finds_its_receipt(street):
    relayer = street.relayer()
    ids = [relayer.accept(street.request()).id for _ in range(2)]
    relayer.submitter.hook = kill_at("broadcast")
    with pytest.raises(Killed):
        relayer.flush()
    [sent] = street.store.submissions("sent")
    # automine mines it just after the node answers the broadcast: wait for that (on a loaded machine the
    # restart could look while it is still pending, and leave it for the next reconcile)
    wait_until(lambda: street.gateway.receipt(street.client.artifact, sent.tx_hash) is not None, 30, "the receipt")
    restarted = Relayer(street.client, street.account, store=street.store, receipt_timeout_s=WAIT_S)
    restarted.restore()
    assert {t.id for t in restarted.reconcile()} == set(ids)
    street.landed_once(restarted, ids)
    assert {restarted.tickets[i].tx_hash for i in ids} == {sent.tx_hash}


def test_a_node_restart_that_lost_the_pool_costs_nothing(tmp_path):
    """A batch pending when the node stops (its state saved, its pool lost): while the node is away a flush
    fails (the service's flusher retries it), then the batch is broadcast again, the nonce read again from the
    chain, and the next batch lands after it."""
    state = tmp_path / "anvil-state.json"
    node = start_anvil(accounts=2, state=state)
    try:
        street = Street(node.url, node.keys, tmp_path)
        relayer = street.relayer()
        first = relayer.accept(street.request()).id
        street.automine(False)
        assert relayer.flush() == []
        second = relayer.accept(street.request()).id
        node.stop()  # SIGTERM: anvil saves its state, not its pool
        with pytest.raises(Exception):  # noqa: B017 - whatever the transport says: the node is away
            relayer.flush()
        node = start_anvil(port=node.port, accounts=2, state=state)
        settled = relayer.flush()  # the first broadcast again (mined at once), the second sent after it
        settled += relayer.flush()
        assert {t.id for t in settled} == {first, second}
        street.landed_once(relayer, [first, second])
        assert len(street.batches()) == 2 and [s.state for s in street.store.submissions()] == ["mined", "mined"]
    finally:
        node.stop()


def test_a_batch_whose_nonce_was_used_elsewhere_is_rechecked_ticket_by_ticket(street):
    """The relayer's batch is dropped, another transaction of its account takes the nonce, and a stranger
    relays one of its requests himself: that ticket is found on chain (the stranger's transaction), the other
    is queued again and sent in a new transaction. No pseudonym is in two transactions on chain."""
    relayer = street.relayer()
    ids = [relayer.accept(street.request()).id for _ in range(2)]
    street.automine(False)
    relayer.flush()
    [sent] = street.store.submissions("sent")
    rpc(street.url, "anvil_dropTransaction", [sent.tx_hash])
    street.automine(True)
    street.gateway.transfer(street.account, street.owner, 1)  # the relayer account's nonce, used by another
    stolen = relayer.tickets[ids[0]].request
    [_], by_stranger = street.client.submit_requests_anonymous(street.owner, [stolen])
    settled = relayer.flush()
    assert {t.id for t in settled} == set(ids)
    assert relayer.tickets[ids[0]].tx_hash == by_stranger.tx_hash
    assert relayer.tickets[ids[1]].tx_hash not in (sent.tx_hash, by_stranger.tx_hash)
    street.landed_once(relayer, ids)
    assert [s.state for s in street.store.submissions()] == ["replaced", "mined"]


def test_ping_answers_at_once_whether_the_node_answers(node):
    from gridchain.chain.anvil import free_port
    from gridchain.chain.rpc_gateway import ping

    assert ping(node.url) is None
    assert ping(f"http://127.0.0.1:{free_port()}", 0.5) == "connection refused"


def test_a_batch_whose_block_the_node_lost_is_sent_again_until_it_is_deep_enough(street):
    """The node restarted from a state file a second old (or a reorg) loses the block of a batch the relayer had
    read mined: until the block is `confirmations` deep the relayer reads it again, finds it gone, puts its
    requests back to `sending` and broadcasts the same transaction."""
    relayer = Relayer(street.client, street.account, store=street.store, receipt_timeout_s=WAIT_S, confirmations=3)
    ids = [relayer.accept(street.request()).id for _ in range(2)]
    snapshot = rpc(street.url, "evm_snapshot")
    [sent_tx] = {t.tx_hash for t in relayer.flush()}  # mined at once (automine), one block deep
    assert {relayer.tickets[i].status for i in ids} == {"submitted"}
    assert [s.state for s in street.store.submissions()] == ["sent"] and relayer.flush_due()
    assert relayer.flush() == []  # read again, still there: nothing new to report
    assert rpc(street.url, "evm_revert", [snapshot]) and street.gateway.receipt(street.client.artifact, sent_tx) is None
    street.automine(False)
    assert relayer.flush() == []  # gone: sending again, the same raw transaction broadcast
    assert {relayer.tickets[i].status for i in ids} == {"sending"} and street.gateway.known(sent_tx)
    assert {t.status for t in street.store.tickets()} == {"sending"}
    street.automine(True)
    rpc(street.url, "evm_mine")
    assert {t.id for t in relayer.flush()} == set(ids)  # mined again: reported once more
    assert [s.state for s in street.store.submissions()] == ["sent"]
    rpc(street.url, "evm_mine")
    rpc(street.url, "evm_mine")
    assert relayer.flush() == [] and not relayer.flush_due()
    assert [s.state for s in street.store.submissions()] == ["mined"]
    street.landed_once(relayer, ids)
    assert {relayer.tickets[i].tx_hash for i in ids} == {sent_tx}


def test_several_batches_of_one_flush_are_pipelined_and_land_once(street):
    """A flush with more requests than a batch takes: every batch signed and stored, then all broadcast together
    (each with its own nonce), then their receipts awaited together."""
    relayer = street.relayer()
    relayer.batch_size = 3
    ids = [relayer.accept(street.request()).id for _ in range(8)]
    settled = relayer.flush()
    assert sorted(t.id for t in settled) == sorted(ids) and relayer.last_errors == []
    assert sorted(len(e.args["requests"]) for e in street.batches()) == [2, 3, 3]
    assert len({e.tx_hash for e in street.batches()}) == 3
    street.landed_once(relayer, ids)


def test_killed_after_persisting_the_first_of_several_batches_lands_every_one_once(street):
    relayer = street.relayer()
    relayer.batch_size = 2
    relayer.submitter.hook = kill_at("persisted")
    ids = [relayer.accept(street.request()).id for _ in range(4)]
    with pytest.raises(Killed):
        relayer.flush()  # one batch signed and stored, nothing broadcast; the other still queued
    restarted = street.relayer()  # broadcasts the stored one
    restarted.batch_size = 2

    def all_submitted() -> bool:
        restarted.flush()
        return {t.status for t in street.store.tickets() if t.id in ids} == {"submitted"}

    wait_until(all_submitted, 20, "every ticket submitted")
    street.landed_once(restarted, ids)
