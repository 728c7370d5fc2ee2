"""The central system's backend on the store (both backends): a restart resumes every transaction, sample,
anomaly, DataTransfer and id tag, never gives a transaction id out twice, stores a resent frame once, and a
failed write leaves memory equal to the store."""

from __future__ import annotations

import pytest

from gridchain.ocpp.anomalies import AnomalyKind
from gridchain.ocpp.backend import RecordingBackend
from gridchain.ocpp.messages.meter_values import MeterSample
from gridchain.ocpp.store import OcppStore

T0 = 1_700_000_000


def _samples(register_wh: int, t: int, signed: str | None = None) -> list[MeterSample]:
    return [MeterSample(t, register_wh, 7400, signed, "Sample.Clock")]


@pytest.fixture
def ocpp_store(store):
    return OcppStore.open(store)


def _session(backend: RecordingBackend) -> int:
    tx = backend.start_transaction("CP1", 1, "tag1", 1000, T0)
    backend.meter_values("CP1", tx, _samples(2850, T0 + 900, '{"kind":"reading"}'))
    backend.meter_values("CP1", tx, _samples(4700, T0 + 1800))
    return tx


def test_a_restart_resumes_every_transaction_sample_anomaly_and_data_transfer(ocpp_store):
    backend = RecordingBackend(["tag1"], store=ocpp_store)
    backend.add_vendor("org.example")
    tx = _session(backend)
    backend.meter_values("CP1", tx, _samples(9999, T0 + 900))  # contradicts the kept sample: an anomaly
    assert backend.data_transfer("CP1", "org.example", "Hello", "signed") == ("Accepted", None)
    before = backend.transactions()

    again = RecordingBackend(store=ocpp_store)  # the restart: nothing but the store
    assert again.transactions() == before and before[0].open and before[0].energy_wh == 3700
    assert [a.kind for a in again.anomalies] == [AnomalyKind.CONFLICT]
    assert again.data_transfers == [("CP1", "org.example", "Hello", "signed")]
    assert again.authorize("CP1", "tag1")
    again.stop_transaction("CP1", tx, 5000, T0 + 2000, "Local", _samples(5000, T0 + 2000))
    third = RecordingBackend(store=ocpp_store)
    assert third.transaction(tx).energy_wh == 4000 and not third.transaction(tx).open
    assert third.start_transaction("CP1", 1, "tag1", 5000, T0 + 3000) == tx + 1  # never an id given before


def test_a_resent_frame_after_a_restart_is_stored_once(ocpp_store):
    backend = RecordingBackend(["tag1"], store=ocpp_store)
    tx = _session(backend)
    again = RecordingBackend(store=ocpp_store)
    assert again.start_transaction("CP1", 1, "tag1", 1000, T0) == tx  # the resent start gets its id back
    again.meter_values("CP1", tx, _samples(4700, T0 + 1800))
    assert again.duplicates == 1 and ocpp_store.count_samples(tx) == 2
    again.stop_transaction("CP1", tx, 5000, T0 + 2000, "Local", [])
    again.stop_transaction("CP1", tx, 5000, T0 + 2000, "Local", [])  # resent stop: nothing new
    third = RecordingBackend(store=ocpp_store)
    assert third.transaction(tx).meter_stop_wh == 5000 and third.anomalies == []


def test_a_sample_resent_with_more_readings_is_merged_in_the_store(ocpp_store):
    backend = RecordingBackend(["tag1"], store=ocpp_store)
    tx = _session(backend)
    backend.meter_values("CP1", tx, [MeterSample(T0 + 1800, 4700, 7400, "sig", "Sample.Clock", soc_pm=500)])
    (kept,) = [s for s in RecordingBackend(store=ocpp_store).transaction(tx).samples if s.timestamp == T0 + 1800]
    assert (kept.signed_data, kept.soc_pm) == ("sig", 500) and ocpp_store.count_samples(tx) == 2


def test_a_failed_write_leaves_memory_as_the_store_and_is_not_answered(ocpp_store, monkeypatch):
    backend = RecordingBackend(["tag1"], store=ocpp_store)
    tx = _session(backend)

    def down(writes):
        raise ConnectionError("the database went away")

    monkeypatch.setattr(ocpp_store, "atomic", down)
    with pytest.raises(ConnectionError):
        backend.stop_transaction("CP1", tx, 5000, T0 + 2000, "Local", _samples(5000, T0 + 2000))
    assert backend.transaction(tx).open and len(backend.transaction(tx).samples) == 2
    with pytest.raises(ConnectionError):
        backend.start_transaction("CP1", 1, "tag1", 6000, T0 + 4000)
    monkeypatch.undo()
    assert backend.start_transaction("CP1", 1, "tag1", 6000, T0 + 4000) == tx + 1
