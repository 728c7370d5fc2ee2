"""The monitor's judgement (gridchain.monitoring.model.audit) on hand-made logs: honest accesses are never
alerted; each breach is alerted once, with the contract's reason where a contract can judge it and a
notification where none can."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from gridchain.crypto.keys import address_of, sign_digest
from gridchain.monitoring.model.audit import BAD_BATCH, BROKEN_LINK, MISSING, UNATTESTED, audit
from gridchain.monitoring.model.consent import ConsentModel, Grant
from gridchain.monitoring.model.records import Access, RecordBatch, Thread, next_record, purpose_tag

DAY = 86_400
T0 = 400 * DAY
HOUSE_KEY = keccak(text="audit household")
HOUSE = address_of(HOUSE_KEY).lower()
UTILITY, RESEARCHER, NODE = "0x" + "aa" * 20, "0x" + "bb" * 20, "0x" + "cc" * 20
BILLING, RESEARCH = purpose_tag("billing"), purpose_tag("research")


class World:
    def __init__(self):
        self.consent = ConsentModel(1, "0x" + "dd" * 20)
        self.terms: dict[bytes, Grant] = {}
        self.thread = Thread(HOUSE)
        g = Grant(HOUSE, UTILITY, 390, 399, BILLING, T0 + 30 * DAY, b"\x00" * 32)
        self.billing = self.grant(g, T0)

    def grant(self, g: Grant, now: int) -> bytes:
        gid = self.consent.grant(now, g, sign_digest(HOUSE_KEY, self.consent.grant_id(g)))
        self.terms[gid] = g
        return gid

    def access(self, t: int, grant: bytes | None = None, **kw) -> Access:
        f = dict(
            node=NODE,
            grantee=UTILITY,
            grant=grant or self.billing,
            first_day=391,
            last_day=392,
            purpose=BILLING,
            time=t,
            data_hash=keccak(text=str(t)),
        )
        return next_record(self.thread, **{**f, **kw})

    def batches(self, records=None, size=4):
        records = self.thread.records if records is None else records
        out = []
        for i in range(0, len(records), size):
            b = RecordBatch(i // size, tuple(records[i : i + size]))
            out.append((b, b.root()))
        return out


def test_an_honest_month_is_never_alerted():
    w = World()
    for day in range(30):
        w.access(T0 + day * DAY + 3600, first_day=390 + day % 10, last_day=390 + day % 10)
    assert audit(w.consent, w.terms, w.batches(), {HOUSE: w.thread.records}) == []


@pytest.mark.parametrize(
    "bad, kind",
    [
        (dict(grant=b"\x07" * 32), "not granted"),
        (dict(grantee=RESEARCHER), "wrong party"),
        (dict(first_day=389), "out of range"),
        (dict(last_day=400), "out of range"),
        (dict(purpose=RESEARCH), "another purpose"),
        (dict(time=T0 + 31 * DAY), "after expiry"),
    ],
)
def test_each_breach_the_contract_can_judge_is_alerted_once(bad, kind):
    w = World()
    w.access(T0 + 100)
    w.access(T0 + 200, **bad)
    alerts = audit(w.consent, w.terms, w.batches(), {HOUSE: w.thread.records})
    assert [(a.kind, a.seq, a.on_chain) for a in alerts] == [(kind, 1, True)]


def test_an_access_before_its_grant_was_submitted_is_not_granted():
    w = World()
    w.access(T0 + 100)
    later = w.grant(Grant(HOUSE, UTILITY, 390, 399, BILLING, T0 + 30 * DAY, b"\x01" * 32), T0 + 500)
    w.access(T0 + 200, grant=later)
    w.access(T0 + 600, grant=later)
    alerts = audit(w.consent, w.terms, w.batches(), {HOUSE: w.thread.records})
    assert [(a.kind, a.seq) for a in alerts] == [("not granted", 1)]


def test_an_access_after_the_revocation_is_alerted():
    w = World()
    w.access(T0 + 100)
    w.consent.revoke(T0 + 150, HOUSE, w.terms[w.billing])
    w.access(T0 + 200)
    alerts = audit(w.consent, w.terms, w.batches(), {HOUSE: w.thread.records})
    assert [(a.kind, a.seq) for a in alerts] == [("after revocation", 1)]


def test_a_record_withheld_from_the_consensus_nodes_is_missing():
    w = World()
    records = [w.access(T0 + i) for i in range(6)]
    shown = records[:3] + records[4:]
    alerts = audit(w.consent, w.terms, w.batches(shown), {HOUSE: records})
    assert [(a.kind, a.seq, a.on_chain) for a in alerts] == [(MISSING, 3, False), (UNATTESTED, 3, False)]


def test_a_record_altered_after_attestation_is_unattested_and_breaks_the_next_link():
    w = World()
    records = [w.access(T0 + i) for i in range(3)]
    batches = w.batches()
    altered = Access(**{**records[1].__dict__, "purpose": RESEARCH})
    alerts = audit(w.consent, w.terms, batches, {HOUSE: [records[0], altered, records[2]]})
    assert [(a.kind, a.seq) for a in alerts] == [(UNATTESTED, 1)]
    attested_altered = [records[0], altered, records[2]]
    alerts = audit(w.consent, w.terms, w.batches(attested_altered), {})
    assert [(a.kind, a.seq) for a in alerts] == [("another purpose", 1), (BROKEN_LINK, 2)]


def test_a_record_in_the_grace_period_is_not_yet_unattested():
    w = World()
    records = [w.access(T0 + i) for i in range(3)]
    alerts = audit(w.consent, w.terms, w.batches(records[:2]), {HOUSE: records}, pending=[records[2].leaf()])
    assert alerts == []


def test_a_batch_whose_records_do_not_make_its_root_is_alerted():
    w = World()
    records = [w.access(T0 + i) for i in range(3)]
    ((b, root),) = w.batches(records)
    alerts = audit(w.consent, w.terms, [(b, b"\x05" * 32)], {})
    assert [a.kind for a in alerts] == [BAD_BATCH]


def test_a_thread_of_one_household_is_checked_apart_from_anothers():
    w = World()
    w.access(T0 + 1)
    other = Thread("0x" + "ee" * 20)
    r = next_record(
        other,
        node=NODE,
        grantee=UTILITY,
        grant=w.billing,
        first_day=391,
        last_day=391,
        purpose=BILLING,
        time=T0 + 2,
        data_hash=b"\x00" * 32,
    )
    alerts = audit(w.consent, w.terms, w.batches(w.thread.records + [r]), {})
    assert [(a.kind, a.household) for a in alerts] == [("wrong party", "0x" + "ee" * 20)]
