"""The attestor as a durable job (gridchain.monitoring.attesting) on the embedded chain: the processing node's
records in the store are attested and published (and the monitor finds nothing on an honest run); a record that
breaks its thread is held back and named; a crash before or after sending neither loses nor repeats a batch (on
SQLite and PostgreSQL); a stale index is settled, not retried; too few or foreign keys are refused; a record
rewritten after it was attested is not batched again."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gridchain.errors import InputError
from gridchain.monitoring.attesting import AttestService
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.store import AccessStore
from gridchain.store.engine import open_store
from tests.monitoring.service.world import NODE_KEYS, World, k


class Killed(BaseException):
    """The process dies here (BaseException: no `except Exception` of the service catches it)."""


class Crashing(AccessLogClient):
    """The log client of an attestor killed just before (`when="before"`) or just after a batch is sent; `sent`
    counts the transactions it sent."""

    def __init__(self, inner: AccessLogClient, when: str = "") -> None:
        super().__init__(inner.gateway, inner.address, inner.artifact)
        self.when = when
        self.sent = 0

    def attest(self, *args):
        if self.when == "before":
            raise Killed
        receipt = super().attest(*args)
        self.sent += 1
        if self.when == "after":
            raise Killed
        return receipt


class Raced(AccessLogClient):
    """A log client whose batch is beaten to its index by another attestor (the world's in-memory one)."""

    def __init__(self, inner: AccessLogClient, w: World) -> None:
        super().__init__(inner.gateway, inner.address, inner.artifact)
        self.w = w

    def attest(self, *args):
        assert self.w.attestor.attest(self.w.node.thread(self.w.house.address).records[:1]) is not None
        return super().attest(*args)


@pytest.fixture
def sqlite_store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'gridchain.db'}")
    yield store
    store.close()


def attestor(w: World, log: AccessLogClient | None = None, keys=NODE_KEYS) -> AttestService:
    return AttestService(log or w.log, w.store, keys, w.relayer, w.gw.now, [w.node.address])


def serve(w: World, n: int) -> None:
    """`n` honest accesses, written by the processing node into the store."""
    for _ in range(n):
        w.honest()
    w.node.take()
    w.show()


def chain_roots(w: World) -> list[tuple[int, bytes]]:
    return sorted((int(e.args["index"]), bytes(e.args["root"])) for e in w.log.events("Attested"))


def test_a_round_attests_and_publishes_the_new_records_and_the_monitor_finds_nothing(sqlite_store):
    w = World(AccessStore.open(sqlite_store))
    serve(w, 3)
    out = attestor(w).round()
    assert (out["batch"], out["records"], out["held"], out["batches"], out["settled"]) == (0, 3, [], 1, None)
    (batch,) = w.store.batches()
    assert [r.seq for r in batch.records] == [0, 1, 2]
    assert batch.records == tuple(w.node.thread(w.house.address).records)
    assert chain_roots(w) == [(0, batch.root())] and w.store.intent() is None
    summary = w.service().round()  # the monitor on an honest run
    assert summary["alerts"] == {} and summary["new_alerts"] == [] and summary["roots"] == 1
    again = attestor(w).round()
    assert again["batch"] is None and w.log.batches() == 1
    serve(w, 1)
    out = attestor(w).round()
    assert (out["batch"], out["records"]) == (1, 1) and [r.seq for r in w.store.batches()[1].records] == [3]
    assert w.service().round()["alerts"] == {}


def test_a_record_that_breaks_its_thread_is_held_back_and_named(sqlite_store):
    w = World(AccessStore.open(sqlite_store))
    serve(w, 1)
    attestor(w).round()
    serve(w, 2)
    w.rewrite(1, prev=b"\x01" * 32)  # seq 1 no longer links to seq 0; seq 2 then does not follow the thread
    stranger = replace(
        w.node.thread(w.house.address).records[0], household="0x" + k("other")[:20].hex(), node="0x" + "ab" * 20
    )
    w.store.put_records([stranger])
    out = attestor(w).round()
    assert out["batch"] is None and w.log.batches() == 1 and len(w.store.batches()) == 1
    held = {(h["household"].lower(), h["seq"]): h["reason"] for h in out["held"]}
    house = w.house.address.lower()
    assert set(held) == {(house, 1), (house, 2), (stranger.household.lower(), 0)}
    assert "prev does not link" in held[(house, 1)] and "seq 2, the thread's next is 1" in held[(house, 2)]
    assert "is not a processing node" in held[(stranger.household.lower(), 0)]


def test_a_record_rewritten_after_attestation_is_not_batched_again(sqlite_store):
    w = World(AccessStore.open(sqlite_store))
    serve(w, 2)
    attestor(w).round()
    w.rewrite(0, time=w.gw.now() - 10)
    out = attestor(w).round()
    assert (out["batch"], out["held"]) == (None, []) and w.log.batches() == 1
    assert w.store.batches()[0].records == tuple(w.node.thread(w.house.address).records)


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_crash_around_sending_neither_loses_nor_repeats_a_batch(store, when):
    w = World(AccessStore.open(store))
    serve(w, 2)
    with pytest.raises(Killed):
        attestor(w, Crashing(w.log, when)).round()
    intent = w.store.intent()
    assert intent is not None and intent.index == 0 and len(intent.records) == 2
    assert w.store.batches() == [] and w.log.batches() == (1 if when == "after" else 0)
    serve(w, 1)  # a record that arrives while the attestor is down goes into the next batch
    log = Crashing(w.log)
    out = attestor(w, log).round()  # the restarted attestor
    assert out["settled"] == ("published" if when == "after" else "sent again")
    assert log.sent == (1 if when == "after" else 2)  # the intent sent once in all; then the new record's batch
    assert w.store.intent() is None
    first, second = w.store.batches()
    assert first == intent and [r.seq for r in second.records] == [2]
    assert chain_roots(w) == [(0, first.root()), (1, second.root())]
    out = attestor(w, log).round()
    assert (out["settled"], out["batch"], log.sent, w.log.batches()) == (None, None, 2 if when == "before" else 1, 2)


def test_a_batch_beaten_to_its_index_is_dropped_not_published(store):
    w = World(AccessStore.open(store))
    serve(w, 2)
    out = attestor(w, Raced(w.log, w)).round()
    assert (out["batch"], out["refused"]) == (None, "dropped")
    assert w.store.batches() == [] and w.store.intent() is None and w.log.batches() == 1


def test_an_intent_the_chain_holds_with_another_root_is_dropped(sqlite_store):
    w = World(AccessStore.open(sqlite_store))
    serve(w, 2)
    with pytest.raises(Killed):
        attestor(w, Crashing(w.log, "before")).round()
    assert w.attestor.attest(w.node.thread(w.house.address).records[:1]) is not None  # another batch 0
    s = attestor(w)
    assert s.settle() == "dropped" and w.store.intent() is None and w.store.batches() == []


def test_too_few_or_foreign_keys_are_refused_before_anything_is_written(sqlite_store):
    w = World(AccessStore.open(sqlite_store))
    serve(w, 1)
    with pytest.raises(InputError, match="1 consensus node keys, the log's threshold is 2"):
        attestor(w, keys=NODE_KEYS[:1]).round()
    with pytest.raises(InputError, match="is not a current node of the access log"):
        attestor(w, keys=[k("not a node"), *NODE_KEYS]).round()
    with pytest.raises(InputError, match="no consensus node key"):
        attestor(w, keys=[])
    assert w.store.intent() is None and w.log.batches() == 0
