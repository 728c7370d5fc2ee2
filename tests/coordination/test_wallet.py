"""The ESU's wallet party on the embedded chain with the in-process services (issuance, relayer over loopback
HTTP): tokens checked against the chain, a request kept until confirmed, a late one refused then re-signed for
the next slot with the same token, and allocations verified against the rule."""

from __future__ import annotations

import stat
import threading

import pytest
from eth_account import Account

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.locked import LockedGateway
from gridchain.coordination.anonymous.parties.issuer import Issuer, TokenWallet
from gridchain.coordination.anonymous.parties.relayer import Relayer
from gridchain.coordination.anonymous.service.issuance import IssuanceClient, issuance_app
from gridchain.coordination.anonymous.service.relayer import RelayerClient, relayer_app
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.parties.keeper import Keeper
from gridchain.coordination.parties.verifier import fetch_records
from gridchain.coordination.parties.wallet import EsuWallet
from gridchain.coordination.parties.wallet_state import WalletState
from gridchain.crypto.blind import EPOCH_SECONDS, epoch_of
from gridchain.errors import InputError
from gridchain.net.server import LoopbackServer

SLOT = 3600
ADMIN = "the relayer operator's admin token"


class Pilot:
    """A coordinator whose slot 0 begins at a UTC day's start (so the test never crosses an epoch by chance),
    the epoch keys of that day and the next registered, the issuance and relayer services, one member."""

    def __init__(self, tmp_path):
        self.gateway = LockedGateway(BoaGateway(accounts=2))
        self.owner, relayer_account = self.gateway.accounts
        day = (self.gateway.now() // EPOCH_SECONDS + 1) * EPOCH_SECONDS
        self.gateway.advance_time(day - self.gateway.now() + 10)
        self.client, _ = CoordinatorClient.deploy(self.gateway, self.owner, day, SLOT, 500, 20_000)
        self.issuer = Issuer(bytes(Account.create().key), quota=3, clock=self.gateway.now)
        self.member = Account.create()
        self.issuer.admit(self.client.address, self.member.address)
        self.epoch = epoch_of(day)
        for e in (self.epoch, self.epoch + 1):
            modulus = self.issuer.epoch_key(self.client.address, e).public.modulus_bytes
            self.client.register_epoch_key(self.owner, e, modulus)
        self.relayer = Relayer(self.client, relayer_account, flush_margin_s=60)
        self.folder = tmp_path / "esu01"

    def wallet(self) -> EsuWallet:
        """The wallet as a new command would open it: its state loaded from disk."""
        return EsuWallet(WalletState.open(self.folder), self.client, self.http)

    def next_slot(self) -> None:
        slot = int(self.client.view("current_slot"))
        self.gateway.advance_time(self.client.slot_end(slot) - self.gateway.now())


@pytest.fixture
def pilot(tmp_path):
    p = Pilot(tmp_path)
    with LoopbackServer(issuance_app(p.issuer)) as utility, LoopbackServer(relayer_app(p.relayer, ADMIN)) as relay:
        p.issuance = IssuanceClient(utility.url)
        p.http = RelayerClient(relay.url, admin_token=ADMIN)
        yield p
        p.issuance.close()
        p.http.close()


def tokens(p: Pilot) -> TokenWallet:
    return TokenWallet(bytes(p.member.key), p.issuer.address, p.issuance)


def test_tokens_are_obtained_checked_and_kept_private(pilot):
    wallet = pilot.wallet()
    done = wallet.obtain_tokens(
        tokens(pilot), pilot.issuance.modulus, [pilot.epoch, pilot.epoch + 1, pilot.epoch + 2], 3
    )
    assert [(d.epoch, d.obtained, d.held) for d in done] == [
        (pilot.epoch, 3, 3),
        (pilot.epoch + 1, 3, 3),
        (pilot.epoch + 2, 0, 0),
    ]
    assert done[2].note == "no key registered on chain yet"
    assert stat.S_IMODE((pilot.folder / "wallet.db").stat().st_mode) == 0o600
    again = pilot.wallet().obtain_tokens(tokens(pilot), pilot.issuance.modulus, [pilot.epoch], 3)
    assert again[0].obtained == 0 and again[0].note == "quota used"  # nothing asked: the utility would refuse
    assert len(pilot.wallet().state.unused(pilot.client.address, pilot.epoch)) == 3


def test_a_late_request_is_refused_then_resent_in_the_next_slot_with_the_same_token(pilot):
    pilot.wallet().obtain_tokens(tokens(pilot), pilot.issuance.modulus, [pilot.epoch], 3)
    pilot.next_slot()  # slot 1
    on_time = pilot.wallet().request(7_400, 350, 4)
    assert (on_time.status, on_time.slot) == ("queued", 1)
    late = pilot.wallet().request(3_000, 500, 2, slot=0)  # an ESU with a late clock
    assert late.status == "late" and late.reason == "slot: slot 0 is over (current 1)"
    pilot.http.flush()
    followed = dict((k.number, n) for k, n in pilot.wallet().refresh())
    state = pilot.wallet().state
    first, second = state.requests
    assert first.status == "confirmed" and followed[1] == "confirmed on chain in slot 1"
    assert second.status == "queued" and second.slot == 1 and second.slots_tried == [0, 1]
    assert followed[2] == "missed slot 0: re-signed for slot 1 with the same token and sent again"
    assert second.token.address == late.token.address  # the same pseudonym, so the same token
    assert len(state.unused(pilot.client.address, pilot.epoch)) == 1
    pilot.http.flush()
    pilot.wallet().refresh()
    assert [r.status for r in pilot.wallet().state.requests] == ["confirmed", "confirmed"]
    pilot.next_slot()
    Keeper(pilot.client, pilot.owner).close_due()
    rows = pilot.wallet().allocations(fetch_records(pilot.client))
    assert {(r.request, r.slot) for r in rows} == {(1, 1), (2, 1)}
    assert all(r.verified for r in rows)
    assert sum(r.granted_w for r in rows) == 7_400 + 3_000  # capacity 20 kW is enough for both


def test_allocations_read_only_the_closes_they_were_given_while_a_keeper_closes_more(pilot):
    """CI once saw `esu allocations` fail with KeyError: the keeper closed a slot between reading the events
    and reading next_slot_to_close. The allocations follow the closed run in the records they are given."""
    pilot.wallet().obtain_tokens(tokens(pilot), pilot.issuance.modulus, [pilot.epoch], 3)
    pilot.wallet().request(7_400, 350, 4)
    pilot.http.flush()
    pilot.wallet().refresh()
    pilot.next_slot()
    Keeper(pilot.client, pilot.owner).close_due()
    records = fetch_records(pilot.client)  # slot 0 closed
    pilot.next_slot()
    Keeper(pilot.client, pilot.owner).close_due()  # slot 1 closed after the read
    assert pilot.client.next_slot_to_close == 2 and sorted(records.closed) == [0]
    rows = pilot.wallet().allocations(records)
    assert [(r.request, r.slot, r.granted_w, r.verified) for r in rows] == [(1, 0, 7_400, True)]


def test_a_request_never_submitted_in_its_slot_is_retried_and_an_old_epoch_expires(pilot):
    pilot.wallet().obtain_tokens(tokens(pilot), pilot.issuance.modulus, [pilot.epoch], 3)
    kept = pilot.wallet().request(5_000, 100, 1)
    assert kept.status == "queued"
    pilot.next_slot()  # the relayer never flushed: the request is not on chain after its slot
    [(after, note)] = pilot.wallet().refresh(retry=False)
    assert after.status == "late" and note == "not on chain after slot 0 ended"
    [(after, note)] = pilot.wallet().refresh()  # the relayer's stale ticket does not block the same pseudonym
    assert after.status == "queued" and after.slot == 1, note
    pilot.next_slot()
    for _ in range(23):  # to the next epoch (UTC day): the token is no good any more
        pilot.next_slot()
    [(after, note)] = pilot.wallet().refresh()
    assert after.status == "expired" and note == f"its token's epoch {pilot.epoch} is over"
    assert pilot.wallet().refresh() == []  # final: not followed again


def test_no_token_and_bad_fields_are_named(pilot):
    with pytest.raises(InputError, match="--wallet: no unused token for epoch"):
        pilot.wallet().request(5_000, 100, 1)
    with pytest.raises(InputError, match="request: soc_pm above 999"):
        pilot.wallet().request(5_000, 1000, 1)
    assert pilot.wallet().state.requests == []


class HeldRelayer:
    """The relayer's client of one command, holding its sends until the test releases them."""

    def __init__(self, http: RelayerClient) -> None:
        self.http, self.sending, self.release = http, threading.Event(), threading.Event()

    def send(self, body: dict) -> dict:
        self.sending.set()
        assert self.release.wait(30)
        return self.http.send(body)

    def status(self, ticket: str) -> dict:
        return self.http.status(ticket)


def test_two_commands_following_at_once_send_a_late_request_once(pilot):
    pilot.wallet().obtain_tokens(tokens(pilot), pilot.issuance.modulus, [pilot.epoch], 3)
    pilot.next_slot()  # slot 1
    late = pilot.wallet().request(3_000, 500, 2, slot=0)
    assert late.status == "late"
    held = HeldRelayer(pilot.http)
    first = EsuWallet(WalletState.open(pilot.folder), pilot.client, held)
    notes: list = []
    worker = threading.Thread(target=lambda: notes.extend(first.refresh()))
    worker.start()
    assert held.sending.wait(30)  # the first command claimed it and is sending it now
    [(seen, note)] = pilot.wallet().refresh()  # a second command at the same time
    assert (seen.status, note) == ("sending", "being sent by another command")
    held.release.set()
    worker.join(30)
    assert notes[0][1] == "missed slot 0: re-signed for slot 1 with the same token and sent again"
    [kept] = pilot.wallet().state.requests
    assert (kept.status, kept.slots_tried) == ("queued", [0, 1]) and kept.ticket is not None
    assert [t.request.pseudonym for t in pilot.relayer.tickets.values()] == [kept.token.address]  # sent once
