"""Encrypted readings: each meter-day sealed to its household, and a grant's day keys handed to its grantee.

Why: a reading's Merkle leaf (its EIP-712 digest) hashes only (meter, interval, activeWh, reactiveVarh), so a
leaf kept in the clear gives the reading away to anyone who tries the few plausible values (milliseconds). The
gateway therefore anchors a day's root from the readings it holds in memory, seals the day (`seal_day`) and keeps
only the `SealedDay`. Proofs are made by whoever holds the day's key: the household (`open_day_key`), or a
grantee for the days of its grant (`envelope_for`, `open_envelope`), from the opened day (`prove`): the same
proof as the gateway's plain path, checked against the anchored root as before.

- Day: the meter's signed readings of one UTC day (interval_start // PERIOD_S), compact JSON sorted by
  interval, padded to a length that depends only on how many readings there are (public on chain as the anchor's
  count), encrypted with a fresh 32-byte day key by XChaCha20-Poly1305 (libsodium, PyNaCl) with associated data
  (meter, day, anchored root): a blob cannot be moved to another meter, day or root.
- The day key is sealed to the household's X25519 public key (NaCl sealed box) together with (meter, day), so a
  sealed key moved to another day is refused by name.
- A grant's envelope: the day keys of every meter of the household for days [first_day, last_day], sealed as
  one box to the grantee's X25519 key, bound to the grant id (the Grant's EIP-712 digest, opaque here) and range.

Limits: what is public stays public. A day of one reading has that reading's leaf as its anchored root (on chain),
and a proof shows its sibling leaf (a neighbour's reading, as guessable): hiding those needs salted leaves, a
change of the contract's Reading. Before its day is anchored the gateway keeps readings in the clear (its store
too, so that a restart loses none); a deleted row may linger in the database's free pages or log until reused.

Pure Python and libsodium, no chain. Every refusal is an `InputError` naming the field and the value.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils
from nacl.public import PrivateKey, PublicKey, SealedBox

from gridchain.crypto import eip712
from gridchain.errors import InputError
from gridchain.metering import model as m
from gridchain.metering.client import ReadingProof, SignedReading

VERSION = 1
KEY_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_KEYBYTES  # 32
NONCE_BYTES = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES  # 24
SEALED_KEY_BYTES = sodium.crypto_box_SEALBYTES + 20 + 8 + KEY_BYTES  # 48 + (meter, day, key)
AD_TAG = b"gridchain vault day v1"
ENVELOPE_TAG = b"gridchain vault grant v1"
UINT256 = 2**256
# the longest compact JSON of one signed reading (three uint256 of 78 digits) and its separating comma
READING_BYTES = (
    len(
        json.dumps(
            {
                "activeWh": 0,
                "intervalStart": 0,
                "meter": "0x" + "0" * 40,
                "reactiveVarh": 0,
                "signature": "0x" + "0" * 130,
            },
            separators=(",", ":"),
        )
    )
    + 3 * 77
    + 1
)
_HEAD = struct.Struct(">B20sQ32s24s")  # version, meter, day, root, nonce; then the sealed key, then the ciphertext
_ENTRY = struct.Struct(">20sQ32s")  # meter, day, day key
_ENVELOPE_HEAD = struct.Struct(">32sQQI")  # grant, first day, last day, entries


def _meter_bytes(meter: str, field: str = "meter") -> bytes:
    try:
        raw = bytes.fromhex(meter[2:]) if isinstance(meter, str) and meter[:2].lower() == "0x" else b""
    except ValueError:
        raw = b""
    if len(raw) != 20:
        raise InputError(field, f"{meter!r:.60} is not an address (0x and 40 hex digits)")
    return raw


def _address(raw: bytes) -> str:
    return "0x" + raw.hex()


def _day(day: int, field: str = "day") -> int:
    if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day < 2**64:
        raise InputError(field, f"{day!r} is not a day number (0 <= day < 2**64)")
    return day


def _public(key: PublicKey | bytes, field: str) -> PublicKey:
    if isinstance(key, PublicKey):
        return key
    if isinstance(key, bytes) and len(key) == 32:
        return PublicKey(key)
    raise InputError(field, f"{key!r:.60} is not an X25519 public key (32 bytes)")


def associated_data(meter: str, day: int, root: bytes) -> bytes:
    """What a day's ciphertext is bound to: (meter, day, anchored root)."""
    if not isinstance(root, bytes) or len(root) != 32:
        raise InputError("root", f"{root!r:.60} is not a 32-byte root")
    return AD_TAG + _meter_bytes(meter) + struct.pack(">Q", _day(day)) + root


@dataclass(frozen=True)
class SealedDay:
    """One meter-day sealed to its household: (meter, day, root) in the clear (the root is on chain anyway), the
    day key sealed to the household, and the day's readings under that key."""

    meter: str  # lower case
    day: int
    root: bytes  # the anchored Merkle root of the day
    nonce: bytes
    sealed_key: bytes
    ciphertext: bytes

    def to_bytes(self) -> bytes:
        head = _HEAD.pack(VERSION, _meter_bytes(self.meter), _day(self.day), self.root, self.nonce)
        return head + self.sealed_key + self.ciphertext

    @classmethod
    def from_bytes(cls, blob: bytes) -> SealedDay:
        if not isinstance(blob, bytes | bytearray) or len(blob) < _HEAD.size + SEALED_KEY_BYTES + 16:
            size = len(blob) if isinstance(blob, bytes | bytearray) else type(blob).__name__
            raise InputError("sealed", f"truncated or not a sealed day ({size} bytes)")
        version, meter, day, root, nonce = _HEAD.unpack_from(blob)
        if version != VERSION:
            raise InputError("sealed.version", f"{version}, this vault reads version {VERSION}")
        key_end = _HEAD.size + SEALED_KEY_BYTES
        return cls(_address(meter), day, root, nonce, bytes(blob[_HEAD.size : key_end]), bytes(blob[key_end:]))


def _plaintext(meter: str, day: int, readings: Iterable[SignedReading]) -> tuple[bytes, int]:
    """The day's readings as padded compact JSON (sorted by interval), and how many there are."""
    ordered = sorted(readings, key=lambda s: s.reading.interval_start)
    if not ordered:
        raise InputError("readings", f"no readings of meter {meter} on day {day}")
    rows = []
    for i, s in enumerate(ordered):
        r = s.reading
        if r.meter.lower() != meter.lower() or r.interval_start // m.PERIOD_S != day:
            raise InputError(
                f"readings[{i}]", f"meter {r.meter} at {r.interval_start} is not meter {meter}'s on day {day}"
            )
        if i and r.interval_start == ordered[i - 1].reading.interval_start:
            raise InputError(f"readings[{i}].interval_start", f"{r.interval_start} twice")
        if not all(0 <= v < UINT256 for v in (r.interval_start, r.active_wh, r.reactive_varh)):
            raise InputError(f"readings[{i}]", "a value outside uint256")
        if len(s.signature) != 65:
            raise InputError(f"readings[{i}].signature", f"{len(s.signature)} bytes, a kept signature has 65")
        rows.append({**r.message(), "signature": "0x" + s.signature.hex()})
    text = json.dumps(rows, separators=(",", ":"), sort_keys=True).encode()
    return text.ljust(2 + len(rows) * READING_BYTES, b" "), len(rows)  # JSON allows trailing white space


def _readings(text: bytes, meter: str, day: int) -> list[SignedReading]:
    try:
        rows = json.loads(text)
        out = [
            SignedReading(
                m.Reading(r["meter"], int(r["intervalStart"]), int(r["activeWh"]), int(r["reactiveVarh"])),
                bytes.fromhex(r["signature"][2:]),
            )
            for r in rows
        ]
    except (ValueError, KeyError, TypeError) as e:  # authenticated, so only a sealer's bug lands here
        raise InputError("ciphertext", f"opens but is not a day's readings ({type(e).__name__}: {e})") from None
    for i, s in enumerate(out):
        if s.reading.meter.lower() != meter or s.reading.interval_start // m.PERIOD_S != day:
            raise InputError(f"readings[{i}]", f"not meter {meter}'s on day {day}")
    return out


def seal_day(
    household: PublicKey | bytes, meter: str, day: int, root: bytes, readings: Iterable[SignedReading]
) -> SealedDay:
    """Seal one meter-day's signed readings (whose anchored root is `root`) to the household's X25519 key; the
    SealedDay. The readings are not checked against `root` here (the gateway computed it from them)."""
    meter = _address(_meter_bytes(meter))
    text, _ = _plaintext(meter, _day(day), readings)
    key, nonce = nacl.utils.random(KEY_BYTES), nacl.utils.random(NONCE_BYTES)
    ad = associated_data(meter, day, root)
    ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(text, ad, nonce, key)
    sealed_key = SealedBox(_public(household, "household")).encrypt(_ENTRY.pack(_meter_bytes(meter), day, key))
    return SealedDay(meter, day, root, nonce, bytes(sealed_key), ciphertext)


def open_day_key(household: PrivateKey, sealed: SealedDay) -> bytes:
    """The day key of `sealed`, opened with the household's X25519 private key."""
    try:
        payload = SealedBox(household).decrypt(sealed.sealed_key)
    except nacl.exceptions.CryptoError:
        raise InputError("sealed_key", f"does not open with this household's key (meter {sealed.meter})") from None
    meter, day, key = _ENTRY.unpack(payload)
    if (_address(meter), day) != (sealed.meter, sealed.day):
        raise InputError(
            "sealed_key", f"sealed for meter {_address(meter)} day {day}, not {sealed.meter} day {sealed.day}"
        )
    return key


def open_day(
    sealed: SealedDay,
    key: bytes,
    meter: str | None = None,
    day: int | None = None,
    root: bytes | None = None,
) -> list[SignedReading]:
    """The day's signed readings (sorted by interval). `meter`, `day` and `root` (e.g. the root anchored on chain)
    are what the caller expects: a sealed day of another is refused by name before decrypting."""
    for field, want, have in (("meter", meter and meter.lower(), sealed.meter), ("day", day, sealed.day)):
        if want is not None and want != have:
            raise InputError(field, f"the sealed day is of {field} {have}, not {want}")
    if root is not None and root != sealed.root:
        raise InputError("root", f"the sealed day is under root 0x{sealed.root.hex()}, not the anchored 0x{root.hex()}")
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise InputError("key", f"a day key has {KEY_BYTES} bytes")
    ad = associated_data(sealed.meter, sealed.day, sealed.root)
    try:
        text = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(sealed.ciphertext, ad, sealed.nonce, key)
    except nacl.exceptions.CryptoError:
        raise InputError(
            "ciphertext",
            f"does not open as meter {sealed.meter}'s day {sealed.day} under root 0x{sealed.root.hex()[:16]}…"
            " (altered, moved to another meter, day or root, or not this day's key)",
        ) from None
    return _readings(text, sealed.meter, sealed.day)


def prove(domain: eip712.Domain, sealed: SealedDay, key: bytes, interval_start: int) -> ReadingProof:
    """The proof of the reading at `interval_start` from an opened day: the gateway's plain proof (`MeterGateway
    .proof`), for the contract's `verify_reading` against the anchored root. Refused if the readings' root is not
    the sealed root."""
    readings = open_day(sealed, key, day=interval_start // m.PERIOD_S)
    leaves = [eip712.digest(domain, s.reading) for s in readings]
    if m.merkle_root(leaves) != sealed.root:
        raise InputError("root", f"the opened readings' root is not 0x{sealed.root.hex()} (another domain?)")
    times = [s.reading.interval_start for s in readings]
    if interval_start not in times:
        raise InputError("interval_start", f"no reading of meter {sealed.meter} at {interval_start}")
    i = times.index(interval_start)
    return ReadingProof(readings[i], tuple(m.merkle_proof(leaves, i)), sealed.day, sealed.root)


# -- the grant's key hand-over --------------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyEnvelope:
    """A grant's day keys sealed to its grantee: the grant id and range in the clear, the keys in `sealed`."""

    grant: bytes
    first_day: int
    last_day: int
    sealed: bytes

    def to_bytes(self) -> bytes:
        return self.grant + struct.pack(">QQ", self.first_day, self.last_day) + self.sealed

    @classmethod
    def from_bytes(cls, blob: bytes) -> KeyEnvelope:
        if not isinstance(blob, bytes) or len(blob) < 48 + sodium.crypto_box_SEALBYTES + _ENVELOPE_HEAD.size:
            raise InputError("envelope", f"truncated or not an envelope ({len(blob)} bytes)")
        first, last = struct.unpack_from(">QQ", blob, 32)
        return cls(blob[:32], first, last, blob[48:])


@dataclass(frozen=True)
class GrantedKeys:
    """The day keys a grantee opened from its envelope: only the days [first_day, last_day] of the grant."""

    grant: bytes
    first_day: int
    last_day: int
    keys: Mapping[tuple[str, int], bytes]  # (meter, day) -> day key

    def open(self, sealed: SealedDay) -> list[SignedReading]:
        """A sealed day of the grant's range, opened; refused by name outside the range or without its key."""
        if not self.first_day <= sealed.day <= self.last_day:
            raise InputError("day", f"{sealed.day} is outside the grant's days [{self.first_day}, {self.last_day}]")
        key = self.keys.get((sealed.meter, sealed.day))
        if key is None:
            raise InputError("meter", f"the grant holds no key of meter {sealed.meter} on day {sealed.day}")
        return open_day(sealed, key)


def _grant(grant: bytes) -> bytes:
    if not isinstance(grant, bytes) or len(grant) != 32:
        raise InputError("grant", f"{grant!r:.60} is not a 32-byte grant id")
    return grant


def envelope_for(
    household: PrivateKey,
    days: Iterable[SealedDay],
    grant: bytes,
    first_day: int,
    last_day: int,
    grantee: PublicKey | bytes,
) -> KeyEnvelope:
    """The household's day keys of `days` that fall in [first_day, last_day] (every meter), opened with its key
    and sealed as one box to the grantee's X25519 key, bound to the grant id and range."""
    grant, first_day, last_day = _grant(grant), _day(first_day, "first_day"), _day(last_day, "last_day")
    if first_day > last_day:
        raise InputError("last_day", f"{last_day} is before first_day {first_day}")
    entries = {}
    for sealed in days:
        if first_day <= sealed.day <= last_day:
            entries[(sealed.meter, sealed.day)] = open_day_key(household, sealed)
    body = _ENVELOPE_HEAD.pack(grant, first_day, last_day, len(entries)) + b"".join(
        _ENTRY.pack(_meter_bytes(meter), day, key) for (meter, day), key in sorted(entries.items())
    )
    sealed_box = SealedBox(_public(grantee, "grantee")).encrypt(ENVELOPE_TAG + body)
    return KeyEnvelope(grant, first_day, last_day, bytes(sealed_box))


def open_envelope(grantee: PrivateKey, envelope: KeyEnvelope, grant: bytes) -> GrantedKeys:
    """The day keys of the grant `grant` (the id the grantee checked on chain), from an envelope sealed to it."""
    grant = _grant(grant)
    if envelope.grant != grant:
        raise InputError("grant", f"the envelope is for grant 0x{envelope.grant.hex()}, not 0x{grant.hex()}")
    try:
        body = SealedBox(grantee).decrypt(envelope.sealed)
    except nacl.exceptions.CryptoError:
        raise InputError("envelope", "does not open with this grantee's key (sealed to another, or altered)") from None
    if not body.startswith(ENVELOPE_TAG) or len(body) < len(ENVELOPE_TAG) + _ENVELOPE_HEAD.size:
        raise InputError("envelope", "opens but is not a grant's keys")
    body = body[len(ENVELOPE_TAG) :]
    inner, first, last, count = _ENVELOPE_HEAD.unpack_from(body)
    if (inner, first, last) != (grant, envelope.first_day, envelope.last_day):
        raise InputError("envelope", f"sealed for grant 0x{inner.hex()} days [{first}, {last}], not the one shown")
    if len(body) != _ENVELOPE_HEAD.size + count * _ENTRY.size:
        raise InputError("envelope", f"{count} keys announced, {len(body) - _ENVELOPE_HEAD.size} bytes of keys")
    keys = {}
    for i in range(count):
        meter, day, key = _ENTRY.unpack_from(body, _ENVELOPE_HEAD.size + i * _ENTRY.size)
        if not first <= day <= last:
            raise InputError(f"envelope.keys[{i}].day", f"{day} is outside the grant's days [{first}, {last}]")
        keys[(_address(meter), day)] = key
    return GrantedKeys(grant, first, last, keys)


# -- the gateway's sealer (metering's MeterGateway takes any such callable) --------------------------------------
class HouseholdSealer:
    """Seals each anchored day to its meter's household: `households` maps a meter to the household's X25519
    public key. Called by the gateway as sealer(meter, day, root, readings) -> bytes (a SealedDay's bytes)."""

    def __init__(self, households: Mapping[str, PublicKey | bytes]) -> None:
        self.households = {meter.lower(): _public(k, f"households[{meter}]") for meter, k in households.items()}

    def __call__(self, meter: str, day: int, root: bytes, readings: Iterable[SignedReading]) -> bytes:
        household = self.households.get(meter.lower())
        if household is None:
            raise InputError("meter", f"{meter} has no household key to seal its day {day} to")
        return seal_day(household, meter, day, root, readings).to_bytes()
