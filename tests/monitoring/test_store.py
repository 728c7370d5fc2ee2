"""Monitoring's store (gridchain.monitoring.store): records, batches, roots and alerts round-trip; a batch is
written whole and never replaced by another; an alert's key is unique (on SQLite and, with a server, PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from gridchain.monitoring.model.records import RecordBatch, Thread, next_record, purpose_tag
from gridchain.monitoring.store import AccessStore, access_from, access_json

H1, H2, N, G = "0x" + "11" * 20, "0x" + "aB" * 20, "0x" + "22" * 20, "0x" + "33" * 20


def _thread(household: str, n: int) -> Thread:
    t = Thread(household)
    for i in range(n):
        fields = dict(node=N, grantee=G, grant=bytes([i + 1]) * 32, first_day=10, last_day=10 + i,
                      purpose=purpose_tag("billing"), time=100 + i, data_hash=bytes([i]) * 32)  # fmt: skip
        next_record(t, **fields)
    return t


def test_access_json_round_trips():
    for r in _thread(H2, 3).records:
        assert access_from(access_json(r)) == r


def test_threads_and_batches_round_trip(store):
    s = AccessStore.open(store)
    a, b = _thread(H1, 3), _thread(H2, 2)
    s.put_records(a.records + b.records)
    threads = s.threads()
    assert threads == {H1: a.records, H2.lower(): b.records}
    assert s.threads(H2) == {H2.lower(): b.records}
    altered = a.records[1].__class__(**{**a.records[1].__dict__, "time": 999})
    s.put_records([altered])  # a node rewriting a record replaces its row
    assert s.threads(H1)[H1][1] == altered
    first, second = RecordBatch(0, (a.records[0], b.records[0])), RecordBatch(1, (a.records[1],))
    s.publish(first)
    s.publish(second)
    s.publish(first)  # again: nothing changes
    assert s.batches() == [first, second] and s.batches(1) == [second]
    with pytest.raises(ValueError, match="batch 1: published with root"):
        s.publish(RecordBatch(1, (a.records[2],)))
    assert s.attested(H1) == [(0, 0, a.records[0]), (1, 0, a.records[1])]


def test_roots_cursor_and_alerts(store):
    s = AccessStore.open(store)
    assert s.roots() == [] and s.value("roots_block") is None
    s.put_roots([(0, b"\x01" * 32, 5), (1, b"\x02" * 32, 7)], 9)
    assert s.roots() == [b"\x01" * 32, b"\x02" * 32] and s.value("roots_block") == "9"
    record = _thread(H1, 1).records[0]
    i = s.store.atomic(lambda c: s.add_alert(c, "k1", "after the expiry", H1, "reporting", 50, seq=0, detail="d",
                                                 batch=0, position=0, record=record))  # fmt: skip
    s.store.atomic(lambda c: s.add_alert(c, "k2", "missing record", H2, "notified", 60, seq=3, detail="gap"))
    with pytest.raises(IntegrityError):
        s.store.atomic(lambda c: s.add_alert(c, "k1", "missing record", H2, "notified", 60, detail="again"))
    with pytest.raises(ValueError, match="state"):
        s.store.atomic(lambda c: s.add_alert(c, "k3", "x", H2, "lost", 60, detail=""))
    s.set_alert(i, state="reported", reason=5, tx_hash="0x" + "ab" * 32, gas=80_000)
    (row,) = s.alerts(H1)
    assert (row.state, row.reason, row.record, row.seq) == ("reported", 5, record, 0)
    assert row.as_json()["leaf"] == "0x" + record.leaf().hex()
    assert [r.key for r in s.alerts()] == ["k1", "k2"] and s.alert_keys() == {"k1", "k2"}
    assert [r.key for r in s.alerts(states=("notified",))] == ["k2"]
