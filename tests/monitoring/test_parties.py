"""The parties on the embedded chain: a processing node serves only what a grant on chain allows and records
every access; consensus nodes sign only batches that continue every thread; the attestor holds back what does
not; the monitor reports what the contract judges and notifies the rest, each once."""

from __future__ import annotations

import random

import pytest
from eth_utils import keccak
from nacl.public import PrivateKey

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.crypto.keys import address_of
from gridchain.metering import SmartMeter, domain
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.model.audit import UNATTESTED
from gridchain.monitoring.model.consent import Grant
from gridchain.monitoring.model.records import DAY_S, purpose_tag
from gridchain.monitoring.parties import (
    AccessRefused,
    Attestor,
    BatchRefused,
    ConsensusNode,
    Grantee,
    Household,
    Monitor,
    ProcessingNode,
)
from gridchain.monitoring.scenarios import Archive, RogueNode, _seal

BILLING = purpose_tag("billing")


def k(name: str) -> bytes:
    return keccak(text=f"monitoring parties test {name}")


class World:
    def __init__(self, rogue: bool = False):
        self.gw = BoaGateway(accounts=3)
        deployer, self.relayer, self.watcher = self.gw.accounts[:3]
        self.node_keys = [k(f"consensus {i}") for i in range(3)]
        self.log, _ = AccessLogClient.deploy(self.gw, deployer, [address_of(x) for x in self.node_keys], 2)
        self.consent, _ = ConsentClient.deploy(self.gw, deployer, self.log.address)
        self.archive = Archive()
        self.house = Household(k("household"))
        self.box = PrivateKey(k("box"))
        self.today = self.gw.now() // DAY_S
        meter = SmartMeter(k("meter"), domain(self.consent.chain_id(), deployer))
        rng = random.Random(0)
        for day in range(self.today - 3, self.today):
            self.archive.put(self.house.address, _seal(meter, self.box, day, rng))
        cls = RogueNode if rogue else ProcessingNode
        self.node = cls(k("processing"), self.consent, self.archive, self.gw.now)
        self.nodes = [ConsensusNode(x, [self.node.address], self.gw.now) for x in self.node_keys]
        self.attestor = Attestor(self.log, self.relayer, self.nodes)
        self.utility = Grantee(k("utility"))
        self.g = self.terms()
        self.gid = self.house.grant(self.consent, self.relayer, self.g)
        self.notes = []
        self.monitor = Monitor(self.consent, self.log, self.watcher, self.notes.append)

    def terms(self, **change) -> Grant:
        base = dict(
            household=self.house.address,
            grantee=self.utility.address,
            first_day=self.today - 3,
            last_day=self.today - 1,
            purpose=BILLING,
            expiry=self.gw.now() + 5 * DAY_S,
            salt=b"\x00" * 32,
        )
        return Grant(**{**base, **change})

    def ask(self, first=None, last=None, purpose=BILLING, who=None, gid=None, when=None):
        who = who or self.utility
        return who.request(
            self.consent.domain(),
            gid or self.gid,
            first or self.today - 2,
            last or self.today - 2,
            purpose,
            self.gw.now() if when is None else when,
        )


@pytest.fixture
def w():
    return World()


def test_an_allowed_request_is_served_and_recorded(w):
    request, sig = w.ask(w.today - 3, w.today - 1)
    served = w.node.serve(request, sig, w.g)
    assert len(served.blobs) == 3
    r = served.record
    assert (r.seq, r.grantee, r.first_day, r.last_day) == (0, w.utility.address.lower(), w.today - 3, w.today - 1)
    assert r.data_hash == keccak(b"".join(served.blobs))
    assert w.node.take() == [r] and w.node.take() == []


@pytest.mark.parametrize(
    "case, words",
    [
        ("stranger", "signature: signed by"),
        ("stale", "time:"),
        ("beyond", "days:"),
        ("purpose", "purpose:"),
        ("other grant", "grant: the request names"),
    ],
)
def test_a_request_the_grant_does_not_allow_is_refused_by_name(w, case, words):
    if case == "stranger":
        request, sig = w.ask(who=Grantee(k("stranger")))
    elif case == "stale":
        request, sig = w.ask(when=w.gw.now() - 301)
    elif case == "beyond":
        request, sig = w.ask(w.today - 2, w.today)
    elif case == "purpose":
        request, sig = w.ask(purpose=purpose_tag("marketing"))
    else:
        request, sig = w.ask(gid=b"\x01" * 32)
    with pytest.raises(AccessRefused, match=words):
        w.node.serve(request, sig, w.g)
    assert w.node.take() == []


def test_no_access_before_submission_after_revocation_or_expiry(w):
    unsent = w.terms(salt=b"\x01" * 32)
    request, sig = w.ask(gid=w.consent.grant_id(unsent))
    with pytest.raises(AccessRefused, match="not submitted on chain"):
        w.node.serve(request, sig, unsent)
    w.house.revoke(w.consent, w.relayer, w.g)
    request, sig = w.ask()
    with pytest.raises(AccessRefused, match="revoked at"):
        w.node.serve(request, sig, w.g)
    short = w.terms(salt=b"\x02" * 32, expiry=w.gw.now() + 100)
    gid = w.house.grant(w.consent, w.relayer, short)
    w.gw.advance_time(100)
    request, sig = w.ask(gid=gid)
    with pytest.raises(AccessRefused, match="expired at"):
        w.node.serve(request, sig, short)


def test_consensus_nodes_sign_only_batches_that_continue_every_thread(w):
    records = [w.node.serve(*w.ask(), w.g).record for _ in range(3)]
    node = w.nodes[0]
    with pytest.raises(BatchRefused, match="seq 1, the thread's next is 0"):
        node.check(records[1:])
    with pytest.raises(BatchRefused, match="empty batch"):
        node.check([])
    outsider = ConsensusNode(k("x"), [], w.gw.now)
    with pytest.raises(BatchRefused, match="is not a processing node"):
        outsider.check(records)
    receipt = w.attestor.attest(records)
    assert receipt is not None and w.log.batches() == 1
    assert w.log.head() == w.log.head_after(1)
    with pytest.raises(BatchRefused, match="seq 0, the thread's next is 3"):
        node.check(records)


def test_the_attestor_holds_back_a_thread_with_a_hole(w):
    first = w.node.serve(*w.ask(), w.g).record
    w.node.take()  # withheld
    later = [w.node.serve(*w.ask(), w.g).record for _ in range(2)]
    assert w.attestor.attest(w.node.take()) is None
    assert w.attestor.held == later and w.log.batches() == 0
    assert first.seq == 0


def test_the_monitor_reports_a_breach_on_chain_once():
    w = World(rogue=True)
    request, _ = w.ask(purpose=purpose_tag("marketing"))
    r = w.node.serve_anyway(w.house.address, w.utility.address, request).record
    w.attestor.attest(w.node.take())
    alerts = w.monitor.check(w.attestor.published, {}, w.gw.now())
    assert [(a.kind, a.seq) for a in alerts] == [("another purpose", 0)]
    assert w.consent.reported(r.leaf())
    assert [(a.kind, reason) for a, reason, _ in w.monitor.reported] == [("another purpose", 4)]
    assert w.monitor.check(w.attestor.published, {}, w.gw.now()) == []


def test_the_monitor_notifies_a_record_never_attested_after_the_grace(w):
    w.node.serve(*w.ask(), w.g)
    w.node.take()
    shown = {w.house.address.lower(): w.node.thread(w.house.address).records}
    assert w.monitor.check(w.attestor.published, shown, w.gw.now()) == []
    w.gw.advance_time(DAY_S + 1)
    alerts = w.monitor.check(w.attestor.published, shown, w.gw.now())
    assert [(a.kind, a.seq, a.on_chain) for a in alerts] == [(UNATTESTED, 0, False)]
    assert w.notes == alerts


def test_consensus_nodes_refuse_back_dated_and_future_records(w):
    r = w.node.serve(*w.ask(), w.g).record
    node = w.nodes[0]
    for t in (w.gw.now() - 2 * DAY_S - 1, w.gw.now() + 61):
        moved = type(r)(**{**r.__dict__, "time": t})
        with pytest.raises(BatchRefused, match="too old or in the future"):
            node.check([moved])
    node.check([r])
