"""A grant's key hand-over: the household seals the day keys of [first_day, last_day] (all its meters) to the
grantee, bound to the grant id; the grantee opens those days and no other; envelopes truncated, altered, for
another grant or sealed to another grantee are refused naming the field."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey

from gridchain.errors import InputError
from gridchain.metering import model as m
from gridchain.metering.client import SignedReading
from gridchain.monitoring import vault as v

P = m.PERIOD_S
HOUSEHOLD, GRANTEE = PrivateKey.generate(), PrivateKey.generate()
METERS = ["0x" + "a1" * 20, "0x" + "b2" * 20]  # the household's two meters
GRANT = bytes(range(32))
FIRST = 19_000


def sealed(meter: str, day: int) -> v.SealedDay:
    readings = [SignedReading(m.Reading(meter, day * P + i * m.INTERVAL_S, day + i, 0), b"\x1b" * 65) for i in range(3)]
    return v.seal_day(HOUSEHOLD.public_key, meter, day, bytes([day % 256]) * 32, readings)


@pytest.fixture(scope="module")
def archive() -> dict[tuple[str, int], v.SealedDay]:
    """Five days of both meters: FIRST - 1 .. FIRST + 3."""
    return {(meter, d): sealed(meter, d) for meter in METERS for d in range(FIRST - 1, FIRST + 4)}


def test_the_grantee_opens_the_days_of_its_range_and_no_other(archive):
    envelope = v.envelope_for(HOUSEHOLD, archive.values(), GRANT, FIRST, FIRST + 1, GRANTEE.public_key)
    granted = v.open_envelope(GRANTEE, v.KeyEnvelope.from_bytes(envelope.to_bytes()), GRANT)
    assert set(granted.keys) == {(meter, d) for meter in METERS for d in (FIRST, FIRST + 1)}
    for (_, d), day in archive.items():
        if FIRST <= d <= FIRST + 1:
            assert [s.reading.active_wh for s in granted.open(day)] == [d, d + 1, d + 2]
            continue
        with pytest.raises(InputError, match=rf"^day: {d} is outside the grant's days \[{FIRST}, {FIRST + 1}\]"):
            granted.open(day)
        # no key of the range opens a day outside it (another key, and the day's own associated data)
        for key in granted.keys.values():
            with pytest.raises(InputError, match="^ciphertext"):
                v.open_day(day, key)


def test_a_day_in_range_the_household_did_not_include_has_no_key(archive):
    only_first_meter = [s for (meter, _), s in archive.items() if meter == METERS[0]]
    granted = v.open_envelope(
        GRANTEE, v.envelope_for(HOUSEHOLD, only_first_meter, GRANT, FIRST, FIRST, GRANTEE.public_key), GRANT
    )
    with pytest.raises(InputError, match=f"^meter: the grant holds no key of meter {METERS[1]} on day {FIRST}"):
        granted.open(archive[(METERS[1], FIRST)])


def test_another_grantee_another_grant_and_altered_envelopes_are_refused(archive):
    envelope = v.envelope_for(HOUSEHOLD, archive.values(), GRANT, FIRST, FIRST + 1, GRANTEE.public_key)
    with pytest.raises(InputError, match="^envelope: does not open with this grantee's key"):
        v.open_envelope(PrivateKey.generate(), envelope, GRANT)
    with pytest.raises(InputError, match="^grant: the envelope is for grant"):
        v.open_envelope(GRANTEE, envelope, bytes(32))
    # the range or grant shown in the clear changed: the sealed body says otherwise
    for changed in (dataclasses.replace(envelope, last_day=FIRST + 3), dataclasses.replace(envelope, first_day=0)):
        with pytest.raises(InputError, match=r"^envelope: sealed for grant 0x.* days \[19000, 19001\], not the one"):
            v.open_envelope(GRANTEE, changed, GRANT)
    other_grant = bytes(31) + b"\x01"
    with pytest.raises(InputError, match="^envelope: sealed for grant"):
        v.open_envelope(GRANTEE, dataclasses.replace(envelope, grant=other_grant), other_grant)
    blob = envelope.to_bytes()
    with pytest.raises(InputError, match="^envelope: truncated"):
        v.KeyEnvelope.from_bytes(blob[:40])
    for cut in (1, 32, len(blob) - 160):  # long enough to parse: the sealed box fails
        with pytest.raises(InputError, match="^envelope: does not open"):
            v.open_envelope(GRANTEE, v.KeyEnvelope.from_bytes(blob[:-cut]), GRANT)
    flipped = bytearray(blob)
    flipped[-1] ^= 0x80
    with pytest.raises(InputError, match="^envelope: does not open"):
        v.open_envelope(GRANTEE, v.KeyEnvelope.from_bytes(bytes(flipped)), GRANT)


def test_bad_grants_are_refused_naming_the_field(archive):
    days = archive.values()
    with pytest.raises(InputError, match="^last_day: 4 is before first_day 5"):
        v.envelope_for(HOUSEHOLD, days, GRANT, 5, 4, GRANTEE.public_key)
    with pytest.raises(InputError, match="^grant: "):
        v.envelope_for(HOUSEHOLD, days, GRANT[:31], FIRST, FIRST, GRANTEE.public_key)
    with pytest.raises(InputError, match="^first_day: "):
        v.envelope_for(HOUSEHOLD, days, GRANT, -1, FIRST, GRANTEE.public_key)
    with pytest.raises(InputError, match="^grantee: "):
        v.envelope_for(HOUSEHOLD, days, GRANT, FIRST, FIRST, b"short")
    with pytest.raises(InputError, match="^sealed_key: does not open"):  # days of another household
        v.envelope_for(PrivateKey.generate(), days, GRANT, FIRST, FIRST, GRANTEE.public_key)


@settings(max_examples=25, deadline=None)
@given(st.integers(FIRST - 3, FIRST + 5), st.integers(0, 6))
def test_random_ranges_hand_over_exactly_the_days_inside(first, length):
    archive = {(METERS[0], d): sealed(METERS[0], d) for d in range(FIRST - 1, FIRST + 2)}
    granted = v.open_envelope(
        GRANTEE, v.envelope_for(HOUSEHOLD, archive.values(), GRANT, first, first + length, GRANTEE.public_key), GRANT
    )
    assert set(granted.keys) == {k for k in archive if first <= k[1] <= first + length}
    for (meter, d), day in archive.items():
        if (meter, d) in granted.keys:
            assert len(granted.open(day)) == 3
        else:
            with pytest.raises(InputError, match="^day: "):
                granted.open(day)
