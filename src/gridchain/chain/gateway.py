"""The gateway protocol, its data types, and the ABI codec both implementations share.

A gateway sends transactions and reads state and logs; it knows nothing about any contract beyond its
`Artifact` (ABI and bytecode). Encoding calls and decoding results, logs and revert reasons happens here,
once, with eth_abi, so that the embedded chain and a JSON-RPC node give byte-identical answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from gridchain.chain.compiler import Artifact
from gridchain.errors import ContractRevert

ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
TX_GAS_CAP = 16_777_216  # EIP-7825 (Osaka): the most gas one transaction may use
checksum = lru_cache(maxsize=4096)(to_checksum_address)
"""An address checksummed (EIP-55), remembered: a receipt's logs and a batch of calls name the same few."""


class ChainRevert(ContractRevert):
    """A transaction or call the chain refused; `reason` is the contract's revert string when it gave one."""


class NotSent(ChainRevert):
    """A transaction of a batch that never reached the chain: the node refused it (e.g. insufficient funds for
    its value and gas), so it paid nothing and changed nothing; `reason` is the node's."""


@dataclass(frozen=True)
class Call:
    """One transaction for `Gateway.transact_many`: `fn(*args)` of the contract at `address` (`artifact`), from
    `sender`, with `value` wei. `gas`, when given, is its gas limit (a measured table's bound: nothing is
    estimated, so a call that would revert is sent and, on a node, pays); None: the gateway's own.
    `Call.transfer` makes one without call data (to an account)."""

    artifact: Artifact | None
    address: str
    fn: str
    args: tuple[Any, ...]
    sender: str
    value: int = 0
    gas: int | None = None

    @staticmethod
    def transfer(sender: str, to: str, value: int) -> Call:
        return Call(None, to, "", (), sender, value)

    def data(self) -> bytes:
        return b"" if self.artifact is None else encode_call(self.artifact, self.fn, self.args)


@dataclass(frozen=True)
class Event:
    name: str
    args: dict[str, Any]
    address: str
    block: int
    tx_hash: str
    log_index: int
    block_hash: str = ""  # "0x..." of the block the log is in, as the node reported it (reorg checks)


@dataclass(frozen=True)
class Header:
    """What a reader of logs keeps of a block: where it is in the chain (its hash and its parent's) and when."""

    number: int
    hash: str  # "0x..."
    parent_hash: str
    timestamp: int  # [s]


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block: int
    gas_used: int
    events: tuple[Event, ...]
    contract_address: str | None = None
    status: int = 1  # 1: executed; 0: reverted on chain (gas paid, nothing changed)

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]


class Gateway(Protocol):
    """What the parties need from a chain. Implementations: BoaGateway (embedded), RpcGateway (JSON-RPC)."""

    kind: str
    accounts: list[str]

    def deploy(self, artifact: Artifact, args: Sequence[Any], sender: str) -> Receipt: ...

    def transact(
        self, artifact: Artifact, address: str, fn: str, args: Sequence[Any], sender: str, value: int = 0
    ) -> Receipt:
        """Send a transaction (with `value` wei); raise ChainRevert (and change nothing) if it would revert."""
        ...

    def transact_many(self, calls: Sequence[Call]) -> list[Receipt | ChainRevert]:
        """Send every call, then wait for them all (a node gets them pipelined); one sender's calls run in the
        given order. Per call, its receipt or the ChainRevert saying why it did not run: the contract's reason
        (on a node a call that reverts on chain is mined and pays its gas), or NotSent if the node refused it."""
        ...

    def balance(self, address: str) -> int:
        """An account's balance [wei]."""
        ...

    def call(self, artifact: Artifact, address: str, fn: str, args: Sequence[Any] = ()) -> Any: ...

    def code(self, address: str) -> bytes:
        """The runtime code at `address` (empty: no contract there)."""
        ...

    def events(
        self, artifact: Artifact, address: str, name: str, from_block: int = 0, to_block: int | None = None
    ) -> list[Event]:
        """Every `name` event the contract logged in blocks from_block..to_block (default: latest), oldest first."""
        ...

    def logs(
        self, artifact: Artifact, address: str, names: Sequence[str], from_block: int, to_block: int
    ) -> list[Event]:
        """The events named in `names` that the contract logged in blocks from_block..to_block (both included),
        in chain order, each with its block's hash: one `eth_getLogs` on a node (callers bound the range)."""
        ...

    def block_number(self) -> int:
        """The number of the latest block."""
        ...

    def block_hash(self, number: int) -> str | None:
        """The hash ("0x...") of block `number` on the chain as it is now; None if there is no such block."""
        ...

    def header(self, number: int) -> Header | None:
        """Block `number`'s hash, parent hash and timestamp on the chain as it is now; None if there is none."""
        ...

    def transaction_input(self, artifact: Artifact, tx_hash: str) -> tuple[str, dict[str, Any]]:
        """The function a mined transaction called and its decoded arguments."""
        ...

    def transaction_to(self, tx_hash: str) -> str | None:
        """The account a mined transaction was sent to (checksummed; None for a creation). Its input is a
        contract's calldata only if it was sent to that contract: a contract in between may take any input."""
        ...

    def known(self, tx_hash: str) -> bool:
        """Whether the chain has the transaction (mined, or pending in a node's pool): a reorganisation may drop
        one whose receipt came back."""
        ...

    def forget_nonce(self, sender: str) -> None:
        """Take `sender`'s next nonce from the chain again at its next transaction (one it sent was dropped)."""
        ...

    def now(self) -> int:
        """The timestamp the next transaction will see at the earliest."""
        ...

    def advance_time(self, seconds: int) -> None:
        """Development chains only: move the clock forward."""
        ...


# ---- ABI codec -------------------------------------------------------------------------------------------


def _type(entry: dict) -> str:
    """The eth_abi type string of an ABI entry: tuples (structs) and arrays of them spelled out."""
    if entry["type"].startswith("tuple"):
        return "(" + ",".join(_type(c) for c in entry["components"]) + ")" + entry["type"][len("tuple") :]
    return entry["type"]


def function_abi(artifact: Artifact, fn: str, nargs: int) -> dict:
    """The ABI entry of `fn` taking `nargs` arguments (Vyper default arguments make overloads)."""
    for entry in artifact.abi:
        if entry.get("type") == "function" and entry["name"] == fn and len(entry["inputs"]) == nargs:
            return entry
    raise ValueError(f"{artifact.name} has no function {fn} with {nargs} arguments")


def encode_call(artifact: Artifact, fn: str, args: Sequence[Any]) -> bytes:
    entry = function_abi(artifact, fn, len(args))
    types = [_type(i) for i in entry["inputs"]]
    return function_signature_to_4byte_selector(f"{fn}({','.join(types)})") + encode(types, list(args))


def encode_deploy(artifact: Artifact, args: Sequence[Any]) -> bytes:
    ctor = next((e for e in artifact.abi if e.get("type") == "constructor"), {"inputs": []})
    return artifact.bytecode + encode([_type(i) for i in ctor["inputs"]], list(args))


def decode_result(artifact: Artifact, fn: str, nargs: int, data: bytes) -> Any:
    outputs = [_type(o) for o in function_abi(artifact, fn, nargs)["outputs"]]
    values = decode(outputs, data)
    values = tuple(to_checksum_address(v) if t == "address" else v for v, t in zip(values, outputs))
    return values[0] if len(values) == 1 else values


def decode_input(artifact: Artifact, data: bytes) -> tuple[str, dict[str, Any]]:
    for entry in artifact.abi:
        if entry.get("type") != "function":
            continue
        types = [_type(i) for i in entry["inputs"]]
        if function_signature_to_4byte_selector(f"{entry['name']}({','.join(types)})") == data[:4]:
            values = decode(types, data[4:])
            return entry["name"], {i["name"]: v for i, v in zip(entry["inputs"], values)}
    raise ValueError("the input calls no function of " + artifact.name)


def revert_reason(data: bytes) -> str:
    if data[:4] == ERROR_SELECTOR:
        return decode(["string"], data[4:])[0]
    return "reverted without a reason" if not data else f"reverted with data 0x{data.hex()}"


_TOPICS: dict[int, tuple[list[dict], dict[bytes, dict]]] = {}  # id(abi) -> (that abi, topic -> event entry)


def _event_topics(artifact: Artifact) -> dict[bytes, dict]:
    """Each event's topic 0 (the keccak of its signature), computed once per ABI (a receipt decodes many logs)."""
    cached = _TOPICS.get(id(artifact.abi))
    if cached is not None and cached[0] is artifact.abi:
        return cached[1]
    out = {}
    for entry in artifact.abi:
        if entry.get("type") == "event":
            sig = f"{entry['name']}({','.join(_type(i) for i in entry['inputs'])})"
            out[keccak(text=sig)] = entry
    _TOPICS[id(artifact.abi)] = (artifact.abi, out)
    return out


def event_topic(artifact: Artifact, name: str) -> bytes:
    return next(t for t, e in _event_topics(artifact).items() if e["name"] == name)


def decode_log(
    artifact: Artifact,
    address: str,
    topics: Sequence[bytes],
    data: bytes,
    block: int,
    tx_hash: str,
    log_index: int,
    block_hash: str = "",
) -> Event | None:
    """The event a raw log stands for, or None if it is not one of the artifact's events."""
    entry = _event_topics(artifact).get(bytes(topics[0])) if topics else None
    if entry is None:
        return None
    indexed = [i for i in entry["inputs"] if i["indexed"]]
    plain = [i for i in entry["inputs"] if not i["indexed"]]
    args: dict[str, Any] = {}
    for i, topic in zip(indexed, topics[1:]):
        args[i["name"]] = decode([_type(i)], bytes(topic))[0]
    for i, v in zip(plain, decode([_type(i) for i in plain], bytes(data))):
        args[i["name"]] = v
    for i in entry["inputs"]:
        if i["type"] == "address":
            args[i["name"]] = checksum(args[i["name"]])
    ordered = {i["name"]: args[i["name"]] for i in entry["inputs"]}
    return Event(entry["name"], ordered, checksum(address), block, tx_hash, log_index, block_hash)


def intrinsic_gas(data: bytes, create: bool = False) -> int:
    """Prague intrinsic gas of a transaction with this input (EIP-2028, EIP-3860; EIP-7623's floor apart)."""
    zeros = data.count(0)
    gas = 21_000 + 4 * zeros + 16 * (len(data) - zeros)
    if create:
        gas += 32_000 + initcode_word_gas(data)
    return gas


def initcode_word_gas(data: bytes) -> int:
    """EIP-3860: 2 gas per 32-byte word of init code."""
    return 2 * ((len(data) + 31) // 32)


def calldata_floor(data: bytes) -> int:
    """EIP-7623 (Prague): a transaction pays at least 21000 + 10 per calldata token (zero byte 1, other 4)."""
    zeros = data.count(0)
    return 21_000 + 10 * (zeros + 4 * (len(data) - zeros))
