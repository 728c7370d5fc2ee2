"""EIP-712 typed data as our contracts hash it: the one implementation.

A contract's `Domain` (name, version, chain id, verifying contract) has the separator snekmate's
`eip712_domain_separator` computes. Every signed type is a frozen dataclass on `TypedStruct`: its `TYPE` is the
EIP-712 type string the contract hashes (`"Receipt(bytes32 token,uint256 deliveredWh)"`), each member the
attribute of the same name in snake case (`deliveredWh` -> `delivered_wh`; other attributes, such as a
signature, ride along unsigned), and `struct_hash()` is hashStruct of EIP-712. `digest(domain, struct)` is
what is signed: keccak256(0x1901 || separator || struct_hash). Signing and recovering: `gridchain.crypto.keys`.

Members may be atomic (`address`, `bool`, `uintN`, `intN`, `bytesN`), `string`, `bytes`, or arrays of atomic
ones (`uint256[]`); nested structs are not needed by any contract and are refused when the class is defined.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

from eth_abi import encode, is_encodable_type
from eth_utils import keccak, to_checksum_address

DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
DOMAIN_TYPEHASH = keccak(text=DOMAIN_TYPE)
_ATOMIC = re.compile(r"address|bool|u?int[0-9]+|bytes[0-9]+")  # and eth_abi's sizes (`is_encodable_type`)
_ARRAY = re.compile(r"(?P<item>\w+)\[(?P<length>[0-9]*)\]")
_TYPE = re.compile(r"(?P<primary>[A-Za-z_]\w*)\((?P<members>[^()]*)\)")


@dataclass(frozen=True)
class Domain:
    """An EIP-712 domain as snekmate's `eip712_domain_separator` declares it (EIP-5267's `eip712Domain`)."""

    name: str
    version: str
    chain_id: int
    verifying_contract: str

    @cached_property
    def separator(self) -> bytes:
        """keccak256(abi_encode(DOMAIN_TYPEHASH, keccak256(name), keccak256(version), chainId, contract))."""
        name, version = keccak(text=self.name), keccak(text=self.version)
        chain_and_contract = encode(["uint256", "address"], [self.chain_id, self.verifying_contract])
        return keccak(DOMAIN_TYPEHASH + name + version + chain_and_contract)

    def as_json(self) -> dict:
        """The domain as EIP-712's JSON (`eth_signTypedData_v4`'s `domain`)."""
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


def snake_case(member: str) -> str:
    """The Python attribute of an EIP-712 member: `intervalStart` -> `interval_start`, `demandW` -> `demand_w`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", member).lower()


def parse_type(type_string: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """(primary type, ((member type, member name), ...)) of an EIP-712 type string; ValueError if it is not one
    this module encodes (one struct of atomic, string, bytes or array-of-atomic members)."""
    match = _TYPE.fullmatch(type_string)
    if match is None:
        raise ValueError(f"TYPE: {type_string!r} is not 'Name(type member,...)'")
    members = []
    for part in match["members"].split(",") if match["members"] else []:
        kind, _, name = part.partition(" ")
        array = _ARRAY.fullmatch(kind)
        item = array["item"] if array else kind
        atomic = _ATOMIC.fullmatch(item) is not None and is_encodable_type(item)
        if not (atomic or (array is None and item in ("string", "bytes"))):
            raise ValueError(f"TYPE: member {part!r} of {type_string!r}: unsupported type {kind!r}")
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise ValueError(f"TYPE: member {part!r} of {type_string!r} has no name")
        members.append((kind, name))
    return match["primary"], tuple(members)


def encode_member(kind: str, value: Any) -> bytes:
    """One member as the 32 bytes hashStruct concatenates (encodeData of EIP-712)."""
    if kind == "string":
        return keccak(text=value)
    if kind == "bytes":
        return keccak(bytes(value))
    array = _ARRAY.fullmatch(kind)
    if array:
        if array["length"] and len(value) != int(array["length"]):
            raise ValueError(f"{kind}: expected {array['length']} items, got {len(value)}")
        return keccak(b"".join(encode([array["item"]], [v]) for v in value))
    return encode([kind], [value])


class TypedStruct:
    """Base of a signed EIP-712 struct (a frozen dataclass): set `TYPE`, get `struct_hash()` and `message()`."""

    TYPE: ClassVar[str]
    PRIMARY: ClassVar[str]
    MEMBERS: ClassVar[tuple[tuple[str, str], ...]]  # (type, name) in the order of TYPE
    TYPEHASH: ClassVar[bytes]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TYPE" not in cls.__dict__:
            return
        cls.PRIMARY, cls.MEMBERS = parse_type(cls.TYPE)
        cls.TYPEHASH = keccak(text=cls.TYPE)
        annotated = {name for klass in cls.__mro__ for name in getattr(klass, "__annotations__", {})}
        missing = [name for _, name in cls.MEMBERS if snake_case(name) not in annotated]
        if missing:
            raise TypeError(f"{cls.__name__}: TYPE names {missing}, which it has no attribute for (in snake case)")

    def struct_hash(self) -> bytes:
        """hashStruct: keccak256(TYPEHASH || encodeData of each member), as the contract's abi_encode has it."""
        members = (encode_member(kind, getattr(self, snake_case(name))) for kind, name in self.MEMBERS)
        return keccak(self.TYPEHASH + b"".join(members))

    def message(self) -> dict:
        """The signed members by their EIP-712 names (arrays as lists), in the order of TYPE."""
        values = {name: getattr(self, snake_case(name)) for _, name in self.MEMBERS}
        return {name: list(v) if isinstance(v, tuple) else v for name, v in values.items()}

    @classmethod
    def eip712_types(cls) -> list[dict]:
        """The members as EIP-712's JSON lists them (`types[PRIMARY]`)."""
        return [{"name": name, "type": kind} for kind, name in cls.MEMBERS]


def digest(domain: Domain, struct: TypedStruct) -> bytes:
    """What is signed: keccak256(0x1901 || the domain's separator || struct_hash) (snekmate's
    `_hash_typed_data_v4`)."""
    return keccak(b"\x19\x01" + domain.separator + struct.struct_hash())


def typed_data(domain: Domain, struct: TypedStruct) -> dict:
    """The full typed-data message of `struct` (what `eth_signTypedData_v4` and eth_account's
    `encode_typed_data(full_message=...)` take): for wallets, and for tests that check `digest` against them."""
    return {
        "types": {
            "EIP712Domain": [{"name": name, "type": kind} for kind, name in parse_type(DOMAIN_TYPE)[1]],
            struct.PRIMARY: struct.eip712_types(),
        },
        "primaryType": struct.PRIMARY,
        "domain": domain.as_json(),
        "message": struct.message(),
    }
