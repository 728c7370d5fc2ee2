"""EIP-712 typed data as our contracts hash it (snekmate's `eip712_domain_separator`), and EIP-2098 signatures."""

from __future__ import annotations

from eth_utils import to_checksum_address

DOMAIN_TYPE = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


def typed_data(name: str, version: str, chain_id: int, contract: str, primary: str, fields: list[dict],
               message: dict) -> dict:  # fmt: skip
    """The full EIP-712 message for `eth_account.messages.encode_typed_data(full_message=...)`: one struct
    type `primary` with `fields`, under the domain (name, version, chain id, verifying contract)."""
    return {
        "types": {"EIP712Domain": DOMAIN_TYPE, primary: fields},
        "primaryType": primary,
        "domain": {"name": name, "version": version, "chainId": chain_id,
                   "verifyingContract": to_checksum_address(contract)},  # fmt: skip
        "message": message,
    }


def compact(signature: bytes) -> tuple[int, int]:
    """A 65-byte signature (r, s, v) as EIP-2098's (r, vs): the parity of y in the top bit of s."""
    if len(signature) != 65:
        raise ValueError(f"expected a 65-byte signature, got {len(signature)} bytes")
    r, s, v = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"), signature[64]
    if v not in (27, 28):
        raise ValueError(f"signature v must be 27 or 28, got {v}")
    return r, s | ((v - 27) << 255)
