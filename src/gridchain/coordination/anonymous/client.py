"""Anonymous requests as the coordinator sees them: EIP-712 typed data signed by a one-time pseudonym.

The contract side is `contracts/modules/anonymous_requests.vy`; the token on the pseudonym comes from
`gridchain.crypto.blind`. A request here is exactly the ABI tuple the coordinator takes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from gridchain.crypto import eip712
from gridchain.crypto.blind import MODULUS_BYTES
from gridchain.crypto.keys import address_of, compact, recover_digest, sign_digest

DOMAIN_NAME = "gridchain coordinator"
DOMAIN_VERSION = "1"


def domain(chain_id: int, coordinator: str) -> eip712.Domain:
    """The EIP-712 domain of the coordinator at `coordinator` on `chain_id`."""
    return eip712.Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, coordinator)


@dataclass(frozen=True)
class AnonymousRequest(eip712.TypedStruct):
    """A request signed by its one-time pseudonym (EIP-712 `AnonymousRequest`), with the blind token on the
    pseudonym riding along unsigned."""

    TYPE = "AnonymousRequest(address pseudonym,uint256 epoch,uint256 slot,uint256 demandW,uint256 socPm,uint256 tcc)"

    pseudonym: str
    epoch: int
    slot: int
    demand_w: int
    soc_pm: int
    tcc: int
    token: bytes
    signature: bytes  # 65 bytes r | s | v; token and signature are not members of TYPE

    def as_abi(self) -> tuple:
        r, vs = compact(self.signature)
        return (self.pseudonym, self.demand_w, self.soc_pm, self.tcc, words(self.token), r, vs)

    def to_json(self) -> dict:
        return {
            "pseudonym": self.pseudonym,
            "epoch": self.epoch,
            "slot": self.slot,
            "demand_w": self.demand_w,
            "soc_pm": self.soc_pm,
            "tcc": self.tcc,
            "token": "0x" + self.token.hex(),
            "signature": "0x" + self.signature.hex(),
        }


def words(value: bytes) -> list[int]:
    """256 bytes as the 8 big-endian words the contract takes (tokens and moduli)."""
    if len(value) != MODULUS_BYTES:
        raise ValueError(f"expected {MODULUS_BYTES} bytes, got {len(value)}")
    return [int.from_bytes(value[i : i + 32], "big") for i in range(0, MODULUS_BYTES, 32)]


def sign_request(
    pseudonym_key: bytes,
    chain_id: int,
    coordinator: str,
    epoch: int,
    slot: int,
    demand_w: int,
    soc_pm: int,
    tcc: int,
    token: int | bytes,
) -> AnonymousRequest:
    """The pseudonym signs its request; the token rides along unsigned (it is bound to the pseudonym itself)."""
    token_bytes = token if isinstance(token, bytes) else token.to_bytes(MODULUS_BYTES, "big")
    unsigned = AnonymousRequest(address_of(pseudonym_key), epoch, slot, demand_w, soc_pm, tcc, token_bytes, b"")
    signature = sign_digest(pseudonym_key, eip712.digest(domain(chain_id, coordinator), unsigned))
    return dataclasses.replace(unsigned, signature=signature)


def signer_of(chain_id: int, coordinator: str, request: AnonymousRequest) -> str:
    """Who signed `request` (what the contract recovers): the pseudonym if nobody altered a field."""
    return recover_digest(eip712.digest(domain(chain_id, coordinator), request), request.signature)
