"""The relayer aligned to slot ends: a request accepted for slot s lands in slot s (flushed `flush_margin_s`
before the slot ends, or when a batch is full), and one that cannot is refused at once naming `slot`."""

from __future__ import annotations

import time

import pytest
from eth_account import Account

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.locked import LockedGateway
from gridchain.coordination.anonymous.client import sign_request
from gridchain.coordination.anonymous.parties.relayer import Relayer, RelayRefused
from gridchain.coordination.anonymous.service.relayer import Flusher
from gridchain.coordination.client import CoordinatorClient
from gridchain.crypto import blind

SLOT = 3600
MARGIN = 60


class Lane:
    def __init__(self, batch_size: int = 20):
        self.gateway = LockedGateway(BoaGateway(accounts=2))
        owner, relayer_account = self.gateway.accounts
        day = (self.gateway.now() // blind.EPOCH_SECONDS + 1) * blind.EPOCH_SECONDS  # no epoch change in the test
        self.gateway.advance_time(day - self.gateway.now() + 10)
        self.client, _ = CoordinatorClient.deploy(self.gateway, owner, day, SLOT, 500, 100_000)
        self.key = blind.PrivateKey.generate()
        self.epoch = blind.epoch_of(day)
        self.client.register_epoch_key(owner, self.epoch, self.key.public.modulus_bytes)
        self.relayer = Relayer(self.client, relayer_account, batch_size=batch_size, flush_margin_s=MARGIN)

    def request(self, slot: int) -> dict:
        account = Account.create()
        chain_id, address = self.client.chain_id(), self.client.address
        m = blind.fdh(blind.token_seed(chain_id, address, self.epoch, account.address))
        token = pow(m, self.key.d, self.key.public.n)
        return sign_request(account.key, chain_id, address, self.epoch, slot, 5_000, 300, 3, token).to_json()

    def to_end_of(self, slot: int, before_s: int) -> None:
        """Move the chain's clock to `before_s` seconds before `slot` ends."""
        self.gateway.advance_time(self.client.slot_end(slot) - before_s - self.gateway.now())


def test_a_request_accepted_in_a_slot_is_flushed_before_the_slot_ends_and_lands_in_it():
    lane = Lane()
    ticket = lane.relayer.accept(lane.request(0))
    lane.to_end_of(0, MARGIN + 1)
    assert not lane.relayer.flush_due()  # not yet: more requests may come for slot 0
    lane.to_end_of(0, MARGIN)
    assert lane.relayer.flush_due()
    [settled] = lane.relayer.flush()
    assert settled is ticket and ticket.status == "submitted"
    [submission] = lane.client.submissions()
    assert submission.slot == 0 and submission.request >> 112 == ticket.arrival


def test_a_full_batch_goes_at_once():
    lane = Lane(batch_size=2)
    lane.relayer.accept(lane.request(0))
    assert not lane.relayer.flush_due()
    lane.relayer.accept(lane.request(0))
    assert lane.relayer.flush_due()


def test_too_late_for_the_slot_is_refused_naming_slot():
    lane = Lane()
    lane.to_end_of(0, MARGIN)
    with pytest.raises(RelayRefused) as e:
        lane.relayer.accept(lane.request(0))
    assert e.value.field == "slot"
    assert e.value.reason == (
        f"slot 0 ends in {MARGIN} s, too late to submit in it (the last flush is {MARGIN} s before its end): "
        "sign again for slot 1"
    )
    lane.gateway.advance_time(MARGIN)
    with pytest.raises(RelayRefused) as e:
        lane.relayer.accept(lane.request(0))
    assert (e.value.field, e.value.reason) == ("slot", "slot 0 is over (current 1)")
    with pytest.raises(RelayRefused) as e:
        lane.relayer.accept(lane.request(2))
    assert (e.value.field, e.value.reason) == ("slot", "2 is not the current slot (1)")
    assert lane.relayer.tickets == {}


def test_the_aligned_flusher_waits_for_the_slot_end():
    lane = Lane()
    ticket = lane.relayer.accept(lane.request(0))
    settled = []
    flusher = Flusher(lane.relayer, 0.01, aligned=True, on_settled=settled.append).start()
    try:
        time.sleep(0.1)  # ten looks, none due
        assert ticket.status == "queued" and flusher.flushes == 0
        lane.to_end_of(0, MARGIN - 1)
        deadline = time.monotonic() + 20
        while ticket.status == "queued" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ticket.status == "submitted" and settled == [ticket] and flusher.state()["aligned"]
    finally:
        flusher.stop()
