"""EIP-1559 (type 2) transactions signed without eth-account's dictionary validation: the pipelined gateway signs
hundreds a second, and eth-account spends most of its millisecond per transaction checking and re-encoding the
dictionary. The bytes are the same (a differential test holds them to eth-account's); the encoding is pyrlp's."""

from __future__ import annotations

from typing import Any

import rlp
from coincurve import PrivateKey
from eth_utils import keccak


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
        signature = self._key.sign_recoverable(
            keccak(b"\x02" + rlp.encode(fields)), hasher=None
        )  # r || s || recovery id
        raw = b"\x02" + rlp.encode(
            fields + [signature[64], int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")]
        )
        return raw, keccak(raw)
