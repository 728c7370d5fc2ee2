"""The vault's sealed days: round trips, no leaf in what is stored, a length that tells only the count, and every
tampering (ciphertext, meter/day/root, a blob or a sealed key moved to another day, a wrong household key, a
truncated blob) refused naming the field."""

from __future__ import annotations

import dataclasses
import time

import pytest
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey

from gridchain.crypto import eip712
from gridchain.errors import InputError
from gridchain.metering import model as m
from gridchain.metering.client import SignedReading
from gridchain.metering.parties import SmartMeter
from gridchain.monitoring import vault as v
from tests.monitoring.vault.leak import guess_reading

I, P = m.INTERVAL_S, m.PERIOD_S  # noqa: E741
DOMAIN = m.domain(31337, "0x" + "c0" * 20)
METER = SmartMeter(Account.create().key, DOMAIN)
HOUSEHOLD = PrivateKey.generate()
DAY = 20_000


def day_of(meter: SmartMeter, day: int, energies: list[int]) -> list[SignedReading]:
    return [meter.sign_reading(day * P + i * I, wh) for i, wh in enumerate(energies)]


def sealed_day(readings: list[SignedReading], household=HOUSEHOLD) -> tuple[v.SealedDay, bytes]:
    """The day sealed under its true root, and its leaves' root."""
    r0 = readings[0].reading
    root = m.merkle_root([eip712.digest(DOMAIN, s.reading) for s in readings])
    return v.seal_day(household.public_key, r0.meter, r0.interval_start // P, root, readings), root


@pytest.fixture(scope="module")
def day():
    readings = day_of(METER, DAY, [120, 0, 431, 95, 2210])
    sealed, root = sealed_day(readings)
    return readings, sealed, root


def test_the_household_opens_its_day_and_the_blob_round_trips(day):
    readings, sealed, root = day
    again = v.SealedDay.from_bytes(sealed.to_bytes())
    assert again == sealed and (again.meter, again.day, again.root) == (METER.address.lower(), DAY, root)
    key = v.open_day_key(HOUSEHOLD, again)
    assert v.open_day(again, key, meter=METER.address, day=DAY, root=root) == readings
    assert len(key) == 32 and key != v.open_day_key(HOUSEHOLD, sealed_day(readings)[0])  # a fresh key per seal


def test_a_plain_leaf_gives_its_reading_away_and_the_sealed_day_holds_no_leaf(day):
    """The design's reason: the leaf of a reading is found from meter and interval in milliseconds; the stored
    bytes of a sealed day contain none of its leaves."""
    readings, sealed, _ = day
    target = readings[3].reading
    leaf = eip712.digest(DOMAIN, target)
    began = time.perf_counter()
    assert guess_reading(DOMAIN, target.meter, target.interval_start, leaf, max_wh=500) == (95, 0)
    print(f"brute force: {1e3 * (time.perf_counter() - began):.1f} ms (96 guesses)")
    blob = sealed.to_bytes()
    for s in readings:
        leaf = eip712.digest(DOMAIN, s.reading)
        assert leaf not in blob and leaf.hex().encode() not in blob and s.signature not in blob


def test_the_length_tells_the_count_not_the_values():
    """Padding to the longest encoding: the largest uint256 values seal to the same length as zeros."""
    meter, sig = "0x" + "ab" * 20, b"\x1c" * 65
    for count in (1, 7, m.READINGS_PER_PERIOD):
        lengths = {
            len(v.seal_day(HOUSEHOLD.public_key, meter, 2**64 - 1, bytes(32), readings).to_bytes())
            for value in (0, 2**256 - 1)
            for readings in [
                [SignedReading(m.Reading(meter, (2**64 - 1) * P + i * I, value, value), sig) for i in range(count)]
            ]
        }
        assert len(lengths) == 1


def test_a_flipped_bit_anywhere_in_the_ciphertext_is_refused(day):
    _, sealed, _ = day
    key = v.open_day_key(HOUSEHOLD, sealed)
    for i in (0, len(sealed.ciphertext) // 2, len(sealed.ciphertext) - 1):
        flipped = bytearray(sealed.ciphertext)
        flipped[i] ^= 1
        with pytest.raises(InputError, match="ciphertext: does not open") as e:
            v.open_day(dataclasses.replace(sealed, ciphertext=bytes(flipped)), key)
        assert e.value.field == "ciphertext"
    flipped_nonce = bytes([sealed.nonce[0] ^ 1]) + sealed.nonce[1:]
    with pytest.raises(InputError, match="ciphertext"):
        v.open_day(dataclasses.replace(sealed, nonce=flipped_nonce), key)


@pytest.mark.parametrize(
    "field, value",
    [("meter", "0x" + "11" * 20), ("day", DAY + 1), ("root", b"\x22" * 32)],
    ids=["meter", "day", "root"],
)
def test_a_swapped_meter_day_or_root_is_refused(day, field, value):
    """Changed in the clear, the associated data no longer matches (the ciphertext fails); against what the
    caller expects (the anchored root, the meter and day it asked for), the field is named before decrypting."""
    _, sealed, root = day
    key = v.open_day_key(HOUSEHOLD, sealed)
    moved = dataclasses.replace(sealed, **{field: value})
    with pytest.raises(InputError, match="^ciphertext: does not open"):
        v.open_day(moved, key)
    with pytest.raises(InputError, match=f"^{field}: the sealed day is") as e:
        v.open_day(moved, key, meter=METER.address, day=DAY, root=root)
    assert e.value.field == field


def test_a_blob_moved_to_another_day_and_a_key_of_another_day_are_refused(day):
    _, sealed, _ = day
    other, _ = sealed_day(day_of(METER, DAY + 1, [7, 8, 9]))
    # the other day's ciphertext under this day's label: neither key opens it
    moved = dataclasses.replace(sealed, nonce=other.nonce, ciphertext=other.ciphertext)
    for key in (v.open_day_key(HOUSEHOLD, sealed), v.open_day_key(HOUSEHOLD, other)):
        with pytest.raises(InputError, match="^ciphertext"):
            v.open_day(moved, key)
    # one day's key does not open another day
    with pytest.raises(InputError, match="^ciphertext"):
        v.open_day(other, v.open_day_key(HOUSEHOLD, sealed))
    # another day's sealed key in this day's blob: refused naming the day it was sealed for
    with pytest.raises(InputError, match=f"^sealed_key: sealed for meter .* day {DAY + 1}, not"):
        v.open_day_key(HOUSEHOLD, dataclasses.replace(sealed, sealed_key=other.sealed_key))


def test_another_households_key_and_truncated_or_unknown_blobs_are_refused(day):
    _, sealed, _ = day
    with pytest.raises(InputError, match="^sealed_key: does not open with this household's key"):
        v.open_day_key(PrivateKey.generate(), sealed)
    blob = sealed.to_bytes()
    for cut in (0, 10, v._HEAD.size + v.SEALED_KEY_BYTES):
        with pytest.raises(InputError, match="^sealed: truncated"):
            v.SealedDay.from_bytes(blob[:cut])
    with pytest.raises(InputError, match="^ciphertext"):  # cut inside the ciphertext: the tag fails
        v.open_day(v.SealedDay.from_bytes(blob[:-1]), v.open_day_key(HOUSEHOLD, sealed))
    with pytest.raises(InputError, match="^sealed.version: 2"):
        v.SealedDay.from_bytes(b"\x02" + blob[1:])
    with pytest.raises(InputError, match="^key: a day key has 32 bytes"):
        v.open_day(sealed, b"short")


def test_sealing_refuses_bad_inputs_naming_the_field(day):
    readings, _, root = day
    pk = HOUSEHOLD.public_key
    with pytest.raises(InputError, match="^readings: no readings"):
        v.seal_day(pk, METER.address, DAY, root, [])
    with pytest.raises(InputError, match=r"^readings\[0\]: .* is not meter"):
        v.seal_day(pk, METER.address, DAY + 1, root, readings)
    with pytest.raises(InputError, match=r"^readings\[1\].interval_start: .* twice"):
        v.seal_day(pk, METER.address, DAY, root, [readings[0], readings[0]])
    with pytest.raises(InputError, match="^meter: 'nope'"):
        v.seal_day(pk, "nope", DAY, root, readings)
    with pytest.raises(InputError, match="^day: -1"):
        v.seal_day(pk, METER.address, -1, root, readings)
    with pytest.raises(InputError, match="^root: "):
        v.seal_day(pk, METER.address, DAY, root[:31], readings)
    with pytest.raises(InputError, match="^household: "):
        v.seal_day(b"x" * 31, METER.address, DAY, root, readings)
    huge = SignedReading(dataclasses.replace(readings[0].reading, active_wh=2**256), readings[0].signature)
    with pytest.raises(InputError, match=r"^readings\[0\]: a value outside uint256"):
        v.seal_day(pk, METER.address, DAY, root, [huge])


def test_the_proof_from_an_opened_day_is_the_gateways_and_checks_the_root(day):
    readings, sealed, root = day
    key = v.open_day_key(HOUSEHOLD, sealed)
    leaves = [eip712.digest(DOMAIN, s.reading) for s in readings]
    proof = v.prove(DOMAIN, sealed, key, DAY * P + 2 * I)
    assert proof.signed == readings[2] and proof.root == root and proof.period == DAY
    assert proof.proof == tuple(m.merkle_proof(leaves, 2))
    assert m.verify_proof(proof.proof, root, leaves[2])
    with pytest.raises(InputError, match="^interval_start: no reading"):
        v.prove(DOMAIN, sealed, key, DAY * P + 9 * I)
    with pytest.raises(InputError, match="^root: the opened readings' root"):
        v.prove(m.domain(1, "0x" + "c0" * 20), sealed, key, DAY * P)
    with pytest.raises(InputError, match="^day: the sealed day is of day"):
        v.prove(DOMAIN, sealed, key, (DAY + 1) * P)


# -- hostile and random days --------------------------------------------------------------------------------
METERS = ["0x" + f"{i:02x}" * 20 for i in (1, 0xAB, 0xFF)]
uint = st.one_of(st.integers(0, 5000), st.integers(0, 2**256 - 1))
days = st.builds(
    lambda meter, day, slots, values, sig: (
        meter,
        day,
        [SignedReading(m.Reading(meter, day * P + s * I, a, r), sig) for s, (a, r) in zip(sorted(slots), values)],
    ),
    st.sampled_from(METERS),
    st.integers(0, 2**40),
    st.sets(st.integers(0, m.READINGS_PER_PERIOD - 1), min_size=1, max_size=m.READINGS_PER_PERIOD),
    st.lists(st.tuples(uint, uint), min_size=m.READINGS_PER_PERIOD, max_size=m.READINGS_PER_PERIOD),
    st.binary(min_size=65, max_size=65),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days, days, st.binary(min_size=32, max_size=32))
def test_random_days_round_trip_hide_their_leaves_and_tell_only_their_count(first, second, root):
    meter, day, readings = first
    sealed = v.seal_day(HOUSEHOLD.public_key, meter, day, root, readings)
    blob = sealed.to_bytes()
    opened = v.open_day(v.SealedDay.from_bytes(blob), v.open_day_key(HOUSEHOLD, sealed), meter, day, root)
    assert opened == sorted(readings, key=lambda s: s.reading.interval_start)
    for s in readings:
        assert eip712.digest(DOMAIN, s.reading) not in blob
    # the length depends on the number of readings only (which the anchor's count makes public anyway)
    meter2, day2, readings2 = second
    other = v.seal_day(HOUSEHOLD.public_key, meter2, day2, root, readings2)
    assert (len(other.to_bytes()) == len(blob)) == (len(readings2) == len(readings))
    # a key of the other day never opens this one
    with pytest.raises(InputError, match="^ciphertext"):
        v.open_day(sealed, v.open_day_key(HOUSEHOLD, other))


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_are_refused_as_input_errors(blob):
    try:
        sealed = v.SealedDay.from_bytes(blob)
    except InputError as e:
        assert e.field in ("sealed", "sealed.version")
        return
    with pytest.raises(InputError, match="^sealed_key"):
        v.open_day_key(HOUSEHOLD, sealed)
