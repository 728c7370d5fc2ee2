"""Anonymous requests as the coordinator sees them: EIP-712 typed data signed by a one-time pseudonym.

The contract side is `contracts/modules/anonymous_requests.vy`; the token on the pseudonym comes from
`gridchain.crypto.blind`. A request here is exactly the ABI tuple the coordinator takes.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import to_checksum_address

from gridchain.crypto import eip712
from gridchain.crypto.blind import MODULUS_BYTES
from gridchain.crypto.eip712 import compact

DOMAIN_NAME = "gridchain coordinator"
DOMAIN_VERSION = "1"
REQUEST_TYPE = [
    {"name": "pseudonym", "type": "address"},
    {"name": "epoch", "type": "uint256"},
    {"name": "slot", "type": "uint256"},
    {"name": "demandW", "type": "uint256"},
    {"name": "socPm", "type": "uint256"},
    {"name": "tcc", "type": "uint256"},
]


@dataclass(frozen=True)
class AnonymousRequest:
    pseudonym: str
    epoch: int
    slot: int
    demand_w: int
    soc_pm: int
    tcc: int
    token: bytes
    signature: bytes  # 65 bytes r | s | v, as eth_account signs

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


def typed_data(
    chain_id: int, coordinator: str, pseudonym: str, epoch: int, slot: int, demand_w: int, soc_pm: int, tcc: int
) -> dict:
    message = {
        "pseudonym": to_checksum_address(pseudonym),
        "epoch": epoch,
        "slot": slot,
        "demandW": demand_w,
        "socPm": soc_pm,
        "tcc": tcc,
    }
    return eip712.typed_data(
        DOMAIN_NAME, DOMAIN_VERSION, chain_id, coordinator, "AnonymousRequest", REQUEST_TYPE, message
    )


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
    account = Account.from_key(pseudonym_key)
    data = typed_data(chain_id, coordinator, account.address, epoch, slot, demand_w, soc_pm, tcc)
    signed = Account.sign_message(encode_typed_data(full_message=data), pseudonym_key)
    token_bytes = token if isinstance(token, bytes) else token.to_bytes(MODULUS_BYTES, "big")
    return AnonymousRequest(account.address, epoch, slot, demand_w, soc_pm, tcc, token_bytes, bytes(signed.signature))


def signer_of(chain_id: int, coordinator: str, request: AnonymousRequest) -> str:
    """Who signed `request` (what the contract recovers): the pseudonym if nobody altered a field."""
    data = typed_data(
        chain_id,
        coordinator,
        request.pseudonym,
        request.epoch,
        request.slot,
        request.demand_w,
        request.soc_pm,
        request.tcc,
    )
    return Account.recover_message(encode_typed_data(full_message=data), signature=request.signature)
