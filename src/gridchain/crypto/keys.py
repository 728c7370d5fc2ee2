"""secp256k1 keys: the one place that signs a digest and recovers its signer, and that reads signatures in the
forms standard wallets produce.

- `sign_digest(key, digest)` signs a 32-byte digest (an EIP-712 digest, `gridchain.crypto.eip712.digest`) as
  65 bytes r | s | v with v in {27, 28}; `recover_digest(digest, signature)` is whom it recovers to.
- `sign_personal` / `recover_personal`: the same for an EIP-191 personal message ("\\x19Ethereum Signed
  Message:\\n" || length || message, what wallets' `personal_sign` hashes).
- `normalize_signature` / `parse_signature`: every entry that takes a signature from outside passes it through
  one of them, which returns the one canonical form the rest of the code handles, or refuses it naming the
  field; `compact` is that form as EIP-2098's (r, vs), the contracts' arguments.

Signing is deterministic (RFC 6979): the same key and digest always give the same bytes, the bytes eth_account
gives (both are eth_keys over coincurve; tests/crypto checks it). Only public eth_keys API is used.
"""

from __future__ import annotations

from eth_keys import keys
from eth_keys.exceptions import BadSignature, ValidationError
from eth_utils import keccak

from gridchain.checks import show
from gridchain.errors import InputError

ZERO_ADDRESS = "0x" + "00" * 20
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""The order of secp256k1's group; s <= n // 2 is the low half (EIP-2), snekmate's malleability threshold."""
SECP256K1_P = 2**256 - 2**32 - 977
"""The field's prime: a valid r is the x-coordinate of a point on y^2 = x^3 + 7 over it."""
PERSONAL_PREFIX = b"\x19Ethereum Signed Message:\n"

Key = bytes | str
"""A private key: 32 bytes, or their hex (0x-prefixed or not)."""


def private_key(key: Key) -> keys.PrivateKey:
    """`key` as an eth_keys private key; ValueError if it is not 32 bytes (or their hex) below the group order."""
    if isinstance(key, keys.PrivateKey):
        return key
    try:
        return keys.PrivateKey(bytes.fromhex(key.removeprefix("0x")) if isinstance(key, str) else bytes(key))
    except ValidationError as e:  # eth_keys' own error is no ValueError
        raise ValueError(f"key: {e}") from None


def address_of(key: Key) -> str:
    """The checksummed address of a private key."""
    return private_key(key).public_key.to_checksum_address()


def public_key_of(key: Key) -> bytes:
    """The 64-byte uncompressed public key (x || y, no 0x04 prefix) of a private key."""
    return private_key(key).public_key.to_bytes()


def address_of_public_key(public_key: bytes) -> str:
    """The checksummed address of a 64-byte uncompressed public key: keccak256(x || y)[12:] (not checked to be a
    point of the curve: a wrong key simply has an address nobody signs for)."""
    return keys.PublicKey(public_key).to_checksum_address()


# -- signing and recovering -------------------------------------------------------------------------------
def sign_digest(key: Key, digest: bytes) -> bytes:
    """A 65-byte signature r | s | v (v in {27, 28}, s in the low half) of a 32-byte digest."""
    if len(digest) != 32:
        raise ValueError(f"digest: expected 32 bytes, got {len(digest)}")
    signature = private_key(key).sign_msg_hash(digest)
    return signature.r.to_bytes(32, "big") + signature.s.to_bytes(32, "big") + bytes([27 + signature.v])


def recover_digest(digest: bytes, signature: bytes, field: str = "signature") -> str:
    """The checksummed address whose key signed the 32-byte `digest`. `signature` in any standard form: 65 bytes
    with v = 27/28 or 0/1, or EIP-2098's 64 bytes. A signature no address recovers from is an InputError
    naming `field`. Recovery applies no policy: a high-s signature recovers too (entries refuse it first,
    `normalize_signature`)."""
    if len(digest) != 32:
        raise ValueError(f"digest: expected 32 bytes, got {len(digest)}")
    r, s, parity = _split(signature, field)
    try:
        public_key = keys.Signature(vrs=(parity, r, s)).recover_public_key_from_msg_hash(digest)
    except (BadSignature, ValidationError) as e:
        raise InputError(field, f"recovers to no address ({e})") from None
    return public_key.to_checksum_address()


def ecrecover(digest: bytes, v: int, r: int, s: int) -> str:
    """What the EVM's ecrecover precompile gives for (v, r, s): the signer in lower case, or the zero address where
    it finds nobody (v not 27 or 28, r or s outside 1..n-1, r no point's x-coordinate). The twins of contracts that
    recover signatures call it where the contract does."""
    if v not in (27, 28) or not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        return ZERO_ADDRESS
    try:
        return recover_digest(digest, r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])).lower()
    except InputError:
        return ZERO_ADDRESS


def split_signature(signature: bytes) -> tuple[int, int, int]:
    """(v in {27, 28}, r, s) of a wallet's signature as gridchain's contracts normalise it before ecrecover (65
    bytes r | s | v with v 27/28 or 0/1, or EIP-2098's 64), or a ValueError with the contract's reason (without
    the contract's prefix): the twins of trade_escrow, trade_notes and lag_committee call it."""
    if len(signature) not in (64, 65):
        raise ValueError("signature is not 64 or 65 bytes")
    r, word = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
    if len(signature) == 65:
        v = signature[64] + 27 if signature[64] < 2 else signature[64]
        if v not in (27, 28):
            raise ValueError("signature v is not 0, 1, 27 or 28")
        s = word
    else:
        v, s = 27 + (word >> 255), word & (2**255 - 1)
    if s > SECP256K1_N // 2:
        raise ValueError("signature s in the upper half (malleable, EIP-2)")
    return v, r, s


def personal_digest(message: bytes) -> bytes:
    """EIP-191 (version 0x45): keccak256("\\x19Ethereum Signed Message:\\n" || len(message) || message)."""
    return keccak(PERSONAL_PREFIX + str(len(message)).encode() + message)


def sign_personal(key: Key, message: bytes) -> bytes:
    """A personal_sign signature (65 bytes, v in {27, 28}) of `message`."""
    return sign_digest(key, personal_digest(message))


def recover_personal(message: bytes, signature: bytes, field: str = "signature") -> str:
    """Whom a personal_sign signature of `message` recovers to (checksummed); forms as `recover_digest`."""
    return recover_digest(personal_digest(message), signature, field)


# -- signatures as they come from outside -----------------------------------------------------------------
def _split(raw: object, field: str) -> tuple[int, int, int]:
    """(r, s, y parity) of a signature in any standard form; InputError naming `field` for another length or v."""
    if not isinstance(raw, bytes | bytearray):
        raise InputError(field, f"expected bytes, got {type(raw).__name__}")
    if len(raw) == 65:
        v = raw[64]
        if v not in (0, 1, 27, 28):
            raise InputError(field, f"v must be 0, 1, 27 or 28, got {v}")
        return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), v % 27
    if len(raw) == 64:  # EIP-2098: the parity of y in the top bit of s
        vs = int.from_bytes(raw[32:], "big")
        return int.from_bytes(raw[:32], "big"), vs & (2**255 - 1), vs >> 255
    raise InputError(field, f"must be 65 bytes (r, s, v) or 64 bytes (EIP-2098 r, vs), got {len(raw)}")


def normalize_signature(raw: object, field: str = "signature") -> bytes:
    """A signature in any form standard signers produce, as the canonical 65 bytes r | s | v with v in {27, 28}.

    Accepted: 65 bytes (r, s, v) with v = 27/28 (eth_account, web3 wallets) or v = 0/1 (the bare recovery id of
    @noble/curves, go-ethereum's `crypto.Sign`, coincurve), and 64 bytes (r, vs) of EIP-2098. Refused, with an
    InputError naming `field`: any other length or v, r or s zero or not below the group order, an r that is
    no point's x-coordinate (ecrecover finds nobody), and a high s (above n/2: EIP-2; snekmate's `ecdsa`
    reverts on it, so a contract would refuse what an off-chain check let through)."""
    r, s, parity = _split(raw, field)
    if not 0 < r < SECP256K1_N:
        raise InputError(field, "r is 0" if r == 0 else "r is not below the curve order")
    if pow(r**3 + 7, (SECP256K1_P - 1) // 2, SECP256K1_P) != 1:  # Euler's criterion: y^2 has no root
        raise InputError(field, "r is not the x-coordinate of a point on the curve")
    if s == 0:
        raise InputError(field, "s is 0")
    if s > SECP256K1_N // 2:
        raise InputError(field, "s is in the upper half of the curve order (a malleable high-s signature, EIP-2)")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([27 + parity])


def parse_signature(value: object, field: str = "signature") -> bytes:
    """A signature from JSON (a 0x-prefixed hex string), normalised; InputError naming `field` if it is not one."""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise InputError(field, f"{show(value)[:80]} is not a 0x-prefixed hex string")
    if len(value) > 2 + 2 * 65:  # refused before decoding an arbitrarily long string
        raise InputError(field, f"must be 65 bytes (r, s, v) or 64 bytes (EIP-2098 r, vs), got {(len(value) - 2) // 2}")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise InputError(field, f"{show(value)[:80]} is not hex") from None
    return normalize_signature(raw, field)


def compact(signature: bytes) -> tuple[int, int]:
    """A 65-byte signature (r, s, v) as EIP-2098's (r, vs): the parity of y in the top bit of s. v may be the
    bare recovery id 0/1 as well as 27/28 (the same signature); anything else is refused."""
    if len(signature) != 65:
        raise ValueError(f"expected a 65-byte signature, got {len(signature)} bytes")
    r, s, v = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"), signature[64]
    if v not in (0, 1, 27, 28):
        raise ValueError(f"signature v must be 0, 1, 27 or 28, got {v}")
    return r, s | ((v % 27) << 255)
