"""Access records, threads and batches (gridchain.monitoring.model.records): a thread refuses any record that does
not link, a batch's proofs verify against its root, the head chain is access_log's."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.monitoring.model.log import chain
from gridchain.monitoring.model.records import (
    GENESIS,
    ZERO32,
    Access,
    RecordBatch,
    Thread,
    ThreadError,
    head_of,
    in_root,
    next_record,
    purpose_tag,
)

H, N, G = "0x" + "11" * 20, "0x" + "22" * 20, "0x" + "33" * 20


def fields(t: int = 100, **kw) -> dict:
    base = dict(
        node=N,
        grantee=G,
        grant=b"\x01" * 32,
        first_day=1,
        last_day=2,
        purpose=purpose_tag("billing"),
        time=t,
        data_hash=b"\x02" * 32,
    )
    return {**base, **kw}


def test_a_thread_links_each_record_to_the_last():
    t = Thread(H)
    a = next_record(t, **fields(100))
    b = next_record(t, **fields(200))
    assert (a.seq, a.prev, b.seq, b.prev) == (0, ZERO32, 1, a.leaf())
    assert t.head == b.leaf()
    assert Thread(H, [a, b]).head == b.leaf()


@pytest.mark.parametrize(
    "change, words",
    [
        ({"seq": 2}, "seq 2, expected 1"),
        ({"seq": 0}, "seq 0, expected 1"),
        ({"prev": b"\x09" * 32}, "is not the previous record's leaf"),
        ({"household": G}, "household is not"),
        ({"time": 99}, "before the previous record's"),
    ],
)
def test_a_record_that_does_not_link_is_refused_naming_what(change, words):
    t = Thread(H)
    a = next_record(t, **fields(100))
    bad = Access(**{**dict(household=H, seq=1, prev=a.leaf(), **fields(150)), **change})
    with pytest.raises(ThreadError, match=words):
        t.append(bad)
    assert t.records == [a]


def test_removing_a_record_breaks_the_thread():
    t = Thread(H)
    records = [next_record(t, **fields(100 + i)) for i in range(4)]
    with pytest.raises(ThreadError, match="seq 3, expected 2"):
        Thread(H, records[:2] + records[3:])


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), data=st.data())
def test_every_record_of_a_batch_proves_into_its_root_and_no_other(n, data):
    t = Thread(H)
    records = tuple(next_record(t, **fields(i)) for i in range(n))
    batch = RecordBatch(0, records)
    root = batch.root()
    i = data.draw(st.integers(0, n - 1))
    assert in_root(records[i], batch.proof(i), root)
    other = Access(**{**records[i].__dict__, "time": records[i].time + 1})
    assert not in_root(other, batch.proof(i), root)


def test_the_head_chain_is_keccak_of_head_and_root():
    r1, r2 = b"\x01" * 32, b"\x02" * 32
    assert chain(ZERO32, r1) == keccak(ZERO32 + r1)
    assert head_of([r1, r2]) == keccak(keccak(GENESIS + r1) + r2)


def test_an_empty_batch_has_no_root():
    with pytest.raises(ValueError, match="at least one record"):
        RecordBatch(0, ()).root()


def test_a_purpose_is_a_tag_of_its_text():
    assert purpose_tag("billing") == keccak(text="billing")
    with pytest.raises(ValueError, match="purpose"):
        purpose_tag("")
