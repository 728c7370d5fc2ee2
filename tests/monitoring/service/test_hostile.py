"""What the store holds is not trusted: a published batch whose records do not make the root the log attested is
a notice (BAD_BATCH), not a crash; a batch the log never attested is ignored until it is; a thread row rewritten
after attestation is alerted; records younger than the grace wait."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridchain.monitoring.model.audit import BAD_BATCH, UNATTESTED
from gridchain.monitoring.model.records import RecordBatch
from gridchain.monitoring.store import AccessStore
from tests.monitoring.service.world import BILLING, World


@pytest.fixture
def w(store):
    return World(AccessStore.open(store))


def _kinds(w: World) -> list[tuple[str, int | None, str]]:
    return [(a.kind, a.seq, a.state) for a in w.store.alerts()]


def test_a_batch_that_does_not_make_its_attested_root_is_a_notice(w):
    r0 = w.honest()
    w.honest()
    w.store.publish(RecordBatch(0, (r0,)))  # the attestor published one record of the two the root holds
    w.attest(publish=False)
    out = w.service().round()
    assert out["alerts"] == {"notified": 2}
    assert _kinds(w) == [(BAD_BATCH, None, "notified"), (UNATTESTED, 0, "notified")]
    assert "batch 0" in w.store.alerts()[0].detail
    assert w.service().round()["alerts"] == {}  # once


def test_a_batch_the_log_never_attested_is_ignored_until_it_is(w):
    w.honest()
    w.attest()
    r = w.breach()
    w.store.publish(RecordBatch(1, (r,)))  # published before (or without) the log attesting it
    w.show()
    s = w.service(grace_s=3600)  # the record waits for its batch within the grace
    assert s.round()["alerts"] == {} and w.store.alerts() == []
    w.attest()  # now batch 1 is on chain, with those records
    assert s.round()["alerts"] == {"reported": 1}
    assert _kinds(w) == [("another purpose", 1, "reported")]


def test_a_thread_row_rewritten_after_attestation_is_alerted(w):
    w.honest(), w.honest()
    w.attest()
    assert w.service().round()["alerts"] == {}
    w.rewrite(1, purpose=BILLING, data_hash=b"\x07" * 32)
    assert w.service().round()["alerts"] == {"notified": 1}
    assert _kinds(w) == [(UNATTESTED, 1, "notified")]


def test_a_record_within_the_grace_waits_for_its_batch(w):
    w.honest()
    w.show()  # shown, never attested
    assert w.service(grace_s=3600).round()["alerts"] == {}
    w.gw.advance_time(3601)
    assert w.service(grace_s=3600).round()["alerts"] == {"notified": 1}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    index=st.integers(0, 5),
    picks=st.lists(st.integers(0, 3), min_size=1, max_size=4),
    change=st.sampled_from(["time", "seq", "grantee", "none"]),
)
def test_any_published_batch_is_judged_never_crashes_the_round(tmp_path_factory, index, picks, change):
    """Hostile batches (any index, any records of the thread, altered or not): a round never raises; a batch the
    log attested is a BAD_BATCH notice unless it holds exactly the attested records; one it never attested is
    ignored."""
    from dataclasses import replace

    from gridchain.store.engine import open_store

    path = tmp_path_factory.mktemp("hostile") / "gridchain.db"
    store = open_store(f"sqlite:///{path}")
    try:
        w = _shared(AccessStore.open(store))
        records = [w.records[i] for i in picks]
        if change != "none":
            records[0] = replace(records[0], **{change: {"time": 1, "seq": 9, "grantee": w.house.address}[change]})
        w.store.publish(RecordBatch(index, tuple(records)))
        w.store.put_roots([], -1)
        out = w.service().round()
        assert out["roots"] == 2
        kinds = [a.kind for a in w.store.alerts()]
        honest = index < 2 and tuple(records) == tuple(w.records[2 * index : 2 * index + 2])
        assert (BAD_BATCH in kinds) == (index < 2 and not honest)
        assert kinds.count(BAD_BATCH) <= 1 and ("another purpose" in kinds) == (honest and index == 0)
    finally:
        store.close()


_world: list[World] = []


def _shared(store: AccessStore) -> World:
    """One chain for every example (two batches attested, four records: one a breach); a new store each time."""
    if not _world:
        w = World(store)
        w.records = [w.honest(), w.breach()]
        w.attest(publish=False)
        w.records += [w.honest(), w.honest()]
        w.attest(publish=False)
        _world.append(w)
    w = _world[0]
    w.store = store
    return w
