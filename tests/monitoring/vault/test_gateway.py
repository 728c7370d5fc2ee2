"""The gateway that seals (metering's MeterGateway with the vault's HouseholdSealer) on the embedded chain: it
anchors a day from the readings in memory and keeps only the sealed day, in memory and in the store (a restart
finds the sealed days and no plaintext); the household, or a grantee for its range, proves a reading from the
opened day and the contract verifies it against the anchored root."""

from __future__ import annotations

import shutil

import pytest
from nacl.public import PrivateKey

from gridchain.errors import InputError
from gridchain.metering import model as m
from gridchain.metering.parties import MeterGateway
from gridchain.metering.parties_store import SCHEMA, MeteringStore
from gridchain.metering.scenarios.meter_proof import prove_reading
from gridchain.monitoring import vault as v
from gridchain.store.migrate import Schema, head, revision
from tests.metering.test_parties import Net

I, P = m.INTERVAL_S, m.PERIOD_S  # noqa: E741
HOUSEHOLD, GRANTEE = PrivateKey.generate(), PrivateKey.generate()


@pytest.fixture
def net():
    return Net()


def _sealer(net) -> v.HouseholdSealer:
    return v.HouseholdSealer({net.meter.address: HOUSEHOLD.public_key, net.cp.address: bytes(HOUSEHOLD.public_key)})


def _days(net, n_days: int = 1, per_day: int = 5):
    return [
        net.meter.sign_reading(net.day0 + d * P + i * I, 100 * d + i) for d in range(n_days) for i in range(per_day)
    ]


def _after(net, day: int) -> None:
    net.gateway.advance_time((day + 1) * P - net.gateway.now())


def test_a_sealed_day_is_proved_by_its_household_as_the_plain_gateway_would(net):
    day = net.day0 // P
    readings = _days(net)
    plain = MeterGateway(net.client, net.ami)  # the plain path: anchors and proves from its readings
    plain.collect(readings)
    _after(net, day)
    plain.anchor(net.meter.address, day)
    root = net.client.root(net.meter.address, day)
    sealed = v.SealedDay.from_bytes(_sealer(net)(net.meter.address, day, root, readings))
    key = v.open_day_key(HOUSEHOLD, sealed)
    for i in range(5):
        proof = v.prove(net.client.domain(), sealed, key, net.day0 + i * I)
        assert proof == plain.proof(net.meter.address, net.day0 + i * I)
        assert net.client.verify_reading(proof.signed, proof.proof)


def test_the_sealing_gateway_keeps_no_plaintext_and_a_grantee_proves_on_chain(net):
    day = net.day0 // P
    gw = MeterGateway(net.client, net.ami, sealer=_sealer(net))
    assert gw.collect(_days(net, n_days=2)) == 10
    _after(net, day)
    gw.anchor(net.meter.address, day)
    key = (net.meter.address.lower(), day)
    assert key not in gw.readings and set(gw.sealed) == {key} and gw.readings[(key[0], day + 1)]
    with pytest.raises(InputError, match="^interval_start: day .* is sealed to its household"):
        gw.proof(net.meter.address, net.day0)
    archive = gw.archive()
    assert [a.get("sealed", "")[:2] for a in archive["anchors"]] == ["0x"] and "readings" not in archive["anchors"][0]
    with pytest.raises(InputError, match="^--meter: day .* is sealed to its household"):  # `gridchain meter prove`
        prove_reading(archive, net.meter.address, net.day0)
    sealed = v.SealedDay.from_bytes(gw.sealed[key])
    assert sealed.root == net.client.root(net.meter.address, day)

    grant = bytes(range(32))
    envelope = v.envelope_for(HOUSEHOLD, [sealed], grant, day, day, GRANTEE.public_key)
    granted = v.open_envelope(GRANTEE, envelope, grant)
    anchored = net.client.root(net.meter.address, day)
    assert [s.reading.active_wh for s in granted.open(sealed)] == [0, 1, 2, 3, 4]
    day_key = granted.keys[key]
    v.open_day(sealed, day_key, net.meter.address, day, anchored)  # what the chain anchored
    proof = v.prove(net.client.domain(), sealed, day_key, net.day0 + 3 * I)
    assert proof.signed.reading.active_wh == 3 and net.client.verify_reading(proof.signed, proof.proof)
    forged = m.Reading(net.meter.address, net.day0 + 3 * I, 4, 0)  # the proof does not carry another value
    assert not net.client.verify_reading(type(proof.signed)(forged, proof.signed.signature), proof.proof)


def test_a_meter_without_a_household_key_anchors_nothing(net):
    day = net.day0 // P
    gw = MeterGateway(net.client, net.ami, sealer=v.HouseholdSealer({net.cp.address: HOUSEHOLD.public_key}))
    gw.collect(_days(net))
    _after(net, day)
    with pytest.raises(InputError, match=f"^meter: {net.meter.address.lower()} has no household key"):
        gw.anchor(net.meter.address, day)
    assert net.client.root(net.meter.address, day) is None and not gw.anchored and gw.readings


def test_a_corrected_day_is_sealed_again_under_the_meters_root(net):
    day = net.day0 // P
    readings = _days(net)
    gw = MeterGateway(net.client, net.ami, sealer=_sealer(net))
    gw.collect(readings[:3])  # two readings lost on the way: the anchored root is wrong
    _after(net, day)
    gw.anchor(net.meter.address, day)
    day_root, signature = net.meter.sign_day_root(readings, 1)
    gw.correct(net.meter.address, day, readings, day_root, signature)
    sealed = v.SealedDay.from_bytes(gw.sealed[(net.meter.address.lower(), day)])
    assert sealed.root == day_root.root == net.client.root(net.meter.address, day)
    assert len(v.open_day(sealed, v.open_day_key(HOUSEHOLD, sealed))) == 5
    assert (net.meter.address.lower(), day) not in gw.readings


def test_sealed_days_survive_a_restart_and_their_plaintext_is_gone(net, store):
    day = net.day0 // P
    readings = MeteringStore.open(store)
    gw = MeterGateway(net.client, net.ami, readings, sealer=_sealer(net))
    gw.collect(_days(net, n_days=2))
    _after(net, day)
    gw.anchor(net.meter.address, day)
    assert {t // P for _, t, *_ in readings.readings()} == {day + 1}  # only the day not anchored yet
    assert [(meter, d) for meter, d, _ in readings.sealed_days()] == [(net.meter.address.lower(), day)]

    restarted = MeterGateway(net.client, net.ami, readings, sealer=_sealer(net))
    assert restarted.restore() == 1
    key = (net.meter.address.lower(), day)
    assert key not in restarted.readings and len(restarted.readings[(key[0], day + 1)]) == 5
    sealed = v.SealedDay.from_bytes(restarted.sealed[key])
    proof = v.prove(net.client.domain(), sealed, v.open_day_key(HOUSEHOLD, sealed), net.day0 + I)
    assert net.client.verify_reading(proof.signed, proof.proof)
    with pytest.raises(ValueError, match="already anchored"):
        restarted.collect(_days(net)[:1])
    without_sealer = MeterGateway(net.client, net.ami, readings)  # the bytes are opaque to it, and kept
    assert without_sealer.restore() == 1 and without_sealer.sealed == restarted.sealed


def test_a_day_anchored_but_not_sealed_before_a_kill_is_sealed_on_restart(net, store):
    day = net.day0 // P
    readings = MeteringStore.open(store)
    gw = MeterGateway(net.client, net.ami, readings)  # anchored, then SIGKILL before the day was sealed
    gw.collect(_days(net))
    _after(net, day)
    gw.anchor(net.meter.address, day)
    assert len(readings.readings()) == 5 and readings.sealed_days() == []

    restarted = MeterGateway(net.client, net.ami, readings, sealer=_sealer(net))
    assert restarted.restore() == 1
    assert readings.readings() == [] and len(readings.sealed_days()) == 1
    sealed = v.SealedDay.from_bytes(readings.sealed_days()[0][2])
    assert sealed.root == net.client.root(net.meter.address, day)
    assert len(v.open_day(sealed, v.open_day_key(HOUSEHOLD, sealed), root=sealed.root)) == 5


def test_a_store_at_revision_0001_upgrades_to_0002_keeping_its_rows(store, tmp_path):
    first = tmp_path / "versions"
    first.mkdir()
    shutil.copy(SCHEMA.versions / "0001_metering.py", first)
    store.migrate(Schema(SCHEMA.name, SCHEMA.metadata, first))
    assert revision(store, SCHEMA) == "0001"
    old = MeteringStore(store)
    old.add_readings([("0x" + "ab" * 20, 900, 5, 0, b"\x01" * 65)])
    upgraded = MeteringStore.open(store)
    assert revision(store, SCHEMA) == head(SCHEMA) == "0002"
    assert upgraded.readings() == [("0x" + "ab" * 20, 900, 5, 0, b"\x01" * 65)] and upgraded.sealed_days() == []
    upgraded.put_sealed_day("0x" + "AB" * 20, 0, b"sealed")
    assert upgraded.readings() == [] and upgraded.sealed_days() == [("0x" + "ab" * 20, 0, b"sealed")]
