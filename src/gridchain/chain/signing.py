"""EIP-1559 (type 2) transactions signed without eth-account's dictionary validation: the pipelined gateway signs
hundreds a second, and eth-account spends most of its millisecond per transaction checking and re-encoding the
dictionary. The bytes are the same (a differential test holds them to eth-account's)."""

from __future__ import annotations

from typing import Any

from coincurve import PrivateKey
from eth_utils import keccak


def _length(n: int, offset: int) -> bytes:
    if n < 56:
        return bytes([offset + n])
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(size)]) + size


def rlp(item: bytes | int | list) -> bytes:
    """Recursive length prefix of bytes, non-negative integers (big-endian, no leading zeros) and lists."""
    if isinstance(item, list):
        body = b"".join(rlp(i) for i in item)
        return _length(len(body), 0xC0) + body
    if isinstance(item, int):
        item = item.to_bytes((item.bit_length() + 7) // 8, "big") if item else b""
    if len(item) == 1 and item[0] < 0x80:
        return item
    return _length(len(item), 0x80) + item


class Signer:
    """One account's key, signing type-2 transactions (no access list)."""

    def __init__(self, private_key: bytes) -> None:
        self._key = PrivateKey(private_key)

    def sign(self, tx: dict[str, Any]) -> tuple[bytes, bytes]:
        """(raw transaction, its hash) of `tx`: chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to (hex
        address or None), value, data."""
        to = bytes.fromhex(tx["to"][2:]) if tx.get("to") else b""
        fields = [
            tx["chainId"],
            tx["nonce"],
            tx["maxPriorityFeePerGas"],
            tx["maxFeePerGas"],
            tx["gas"],
            to,
            tx["value"],
            bytes(tx["data"]),
            [],
        ]
        signature = self._key.sign_recoverable(keccak(b"\x02" + rlp(fields)), hasher=None)  # r || s || recovery id
        raw = b"\x02" + rlp(
            fields + [signature[64], int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")]
        )
        return raw, keccak(raw)
