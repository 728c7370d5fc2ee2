"""The notes tests' fixed keys: RSA-2048 issuer keys (generated once per process: cryptography's keygen is slow)
and secp256k1 keys of a fixed pool (fresh addresses, depositors, relayers, outsiders)."""

from __future__ import annotations

from functools import cache

from eth_utils import keccak

from gridchain.crypto import blind
from gridchain.crypto.keys import address_of


@cache
def rsa(i: int) -> blind.PrivateKey:
    """The i-th issuer key of this process."""
    return blind.PrivateKey.generate()


@cache
def key(i: int) -> bytes:
    """The i-th secp256k1 key of the pool (fixed)."""
    return keccak(text=f"notes test key {i}")


@cache
def address(i: int) -> str:
    return address_of(key(i)).lower()


def note(private: blind.PrivateKey, message: int) -> int:
    """The issuer's token on `message` through the whole blind protocol (blind, sign, finalize)."""
    state = blind.blind(private.public, message)
    return blind.finalize(private.public, state, blind.blind_sign(private, state.blinded))


def words(value: int) -> list[int]:
    """A 2048-bit integer as the contract's 8 big-endian words."""
    raw = value.to_bytes(blind.MODULUS_BYTES, "big")
    return [int.from_bytes(raw[i : i + 32], "big") for i in range(0, blind.MODULUS_BYTES, 32)]
