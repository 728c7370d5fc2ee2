"""EIP-712 typed data as our contracts hash it (snekmate's `eip712_domain_separator`), and secp256k1 signatures
as they come from outside: every entry that takes a signature passes it through `normalize_signature` (or
`parse_signature` for JSON's hex), which returns the one canonical form the rest of the code handles."""

from __future__ import annotations

from eth_utils import to_checksum_address

from gridchain.checks import show
from gridchain.errors import InputError

DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
"""The order of secp256k1's group; s <= n // 2 is the low half (EIP-2), snekmate's malleability threshold."""
SECP256K1_P = 2**256 - 2**32 - 977
"""The field's prime: a valid r is the x-coordinate of a point on y^2 = x^3 + 7 over it."""


def typed_data(
    name: str, version: str, chain_id: int, contract: str, primary: str, fields: list[dict], message: dict
) -> dict:
    """The full EIP-712 message for `eth_account.messages.encode_typed_data(full_message=...)`: one struct
    type `primary` with `fields`, under the domain (name, version, chain id, verifying contract)."""
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, primary: fields},
        "primaryType": primary,
        "domain": {
            "name": name,
            "version": version,
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(contract),
        },
        "message": message,
    }


def normalize_signature(raw: object, field: str = "signature") -> bytes:
    """A signature in any form standard signers produce, as the canonical 65 bytes r | s | v with v in {27, 28}.

    Accepted: 65 bytes (r, s, v) with v = 27/28 (eth_account, web3 wallets) or v = 0/1 (the bare recovery id of
    @noble/curves, go-ethereum's `crypto.Sign`, coincurve), and 64 bytes (r, vs) of EIP-2098. Refused, with an
    InputError naming `field`: any other length or v, r or s zero or not below the group order, an r that is
    no point's x-coordinate (ecrecover finds nobody), and a high s (above n/2: EIP-2; snekmate's `ecdsa`
    reverts on it, so a contract would refuse what an off-chain check let through)."""
    if not isinstance(raw, bytes | bytearray):
        raise InputError(field, f"expected bytes, got {type(raw).__name__}")
    if len(raw) == 65:
        r, s, v = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:64], "big"), raw[64]
        if v not in (0, 1, 27, 28):
            raise InputError(field, f"v must be 0, 1, 27 or 28, got {v}")
        v = 27 + v % 27
    elif len(raw) == 64:  # EIP-2098: the parity of y in the top bit of s
        r, vs = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        s, v = vs & (2**255 - 1), 27 + (vs >> 255)
    else:
        raise InputError(field, f"must be 65 bytes (r, s, v) or 64 bytes (EIP-2098 r, vs), got {len(raw)}")
    if not 0 < r < SECP256K1_N:
        raise InputError(field, "r is 0" if r == 0 else "r is not below the curve order")
    if pow(r**3 + 7, (SECP256K1_P - 1) // 2, SECP256K1_P) != 1:  # Euler's criterion: y^2 has no root
        raise InputError(field, "r is not the x-coordinate of a point on the curve")
    if s == 0:
        raise InputError(field, "s is 0")
    if s > SECP256K1_N // 2:
        raise InputError(field, "s is in the upper half of the curve order (a malleable high-s signature, EIP-2)")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


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
