"""The Safe 1.4.1 contracts through any gateway: deploy them from safe-eth-py's published bytecode (the runtime
code on chain checked byte for byte against the published `deployedBytecode`), create a Safe proxy with owners
and a threshold, and run owner actions as Safe transactions signed by M owner keys: one at a time, or several in
one SafeTx through MultiSendCallOnly (one nonce, one signature check, all or nothing).

A SafeTx's EIP-712 hash, its signatures (sorted by owner, as the Safe requires) and their encoding are
safe-eth-py's `SafeTx` (built offline: chain id and nonce given, no client of its own). The transactions go
through gridchain's gateway, with the Safe's ABI from the same published artifacts, rather than through
safe-eth-py's `Safe` class: one adapter to the chain (embedded or JSON-RPC), the gateway's nonces and revert
reasons (the Safe's "GS0xx" codes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from typing import Any

from eth_utils import to_checksum_address
from safe_eth.safe.safe_tx import SafeTx

from gridchain.chain.compiler import Artifact
from gridchain.chain.gateway import ChainRevert, Gateway, Receipt, encode_call
from gridchain.crypto.keys import Key, private_key
from gridchain.errors import InputError

SAFE_VERSION = "1.4.1"
SENTINEL = "0x0000000000000000000000000000000000000001"  # the head of the Safe's owner list
ZERO = "0x" + "00" * 20
NAMES = {
    "singleton": "Safe",
    "factory": "ProxyFactory",
    "fallback_handler": "CompatibilityFallbackHandler",
    "multi_send": "MultiSendCallOnly",
}
CANONICAL_MULTI_SEND = "0x9641d764fc13c8B624c04430C7356C1C7C8102e2"  # Safe's MultiSendCallOnly 1.4.1 where deployed
CALL, DELEGATECALL = 0, 1  # a SafeTx's (and a MultiSend entry's) operation


@cache
def published(name: str) -> tuple[Artifact, bytes]:
    """The artifact safe-eth-py ships for `name` (e.g. "Safe") at SAFE_VERSION, and its published runtime code."""
    path = resources.files("safe_eth.eth.contracts") / "abis" / f"{name}_V{SAFE_VERSION.replace('.', '_')}.json"
    data = json.loads(path.read_text())
    bytecode = bytes.fromhex(data["bytecode"].removeprefix("0x"))
    artifact = Artifact(
        f"{name}_V{SAFE_VERSION}",
        data["abi"],
        bytecode,
        hashlib.sha256(bytecode).hexdigest(),
        f"published by safe-eth-py {metadata.version('safe-eth-py')}",
    )
    return artifact, bytes.fromhex(data["deployedBytecode"].removeprefix("0x"))


@dataclass(frozen=True)
class SafeContracts:
    """Where the Safe 1.4.1 singleton, its proxy factory, its fallback handler and MultiSendCallOnly (None: not
    known, no batches) live on one chain."""

    singleton: str
    factory: str
    fallback_handler: str
    multi_send: str | None = None


def deploy_safe_contracts(gateway: Gateway, sender: str) -> SafeContracts:
    """Deploy the singleton, the proxy factory, the fallback handler and MultiSendCallOnly from the published
    bytecode; each one's runtime code on chain must equal the published `deployedBytecode` (none of them has
    immutables)."""
    out = {}
    for role, name in NAMES.items():
        artifact, runtime = published(name)
        address = gateway.deploy(artifact, [], sender).contract_address
        check_published(gateway, address, name, f"safe.{role}")
        out[role] = address
    return SafeContracts(**out)


def check_published(gateway: Gateway, address: str, name: str, what: str) -> str:
    """`address`, if the runtime code there is the published `name`'s; else InputError naming `what`."""
    if gateway.code(address) != published(name)[1]:
        raise InputError(what, f"the code at {address} is not the published {published(name)[0].name}")
    return address


def multi_send_encoding(calls: Sequence[tuple[str, bytes]]) -> bytes:
    """MultiSend's packed `transactions`: per (to, data) call, operation (uint8, 0: CALL) | to (20 bytes) | value
    (uint256, 0) | len(data) (uint256) | data."""
    return b"".join(
        CALL.to_bytes(1, "big")
        + bytes.fromhex(to.removeprefix("0x"))
        + (0).to_bytes(32, "big")
        + len(data).to_bytes(32, "big")
        + data
        for to, data in calls
    )


def is_safe(gateway: Gateway, address: str) -> tuple[list[str], int] | None:
    """(owners, threshold) if `address` answers as a Safe (code there; getOwners and getThreshold answer, the
    threshold between 1 and the number of owners), else None."""
    if not gateway.code(address):
        return None
    artifact = published("Safe")[0]
    try:
        owners = [to_checksum_address(o) for o in gateway.call(artifact, address, "getOwners")]
        threshold = int(gateway.call(artifact, address, "getThreshold"))
    except Exception:  # no such function (a fallback that returns nothing decodes badly, too): not a Safe
        return None
    return (owners, threshold) if owners and 1 <= threshold <= len(owners) else None


class SafeClient:
    """One Safe proxy: its owners, threshold and nonce; owner actions as SafeTxs signed by owner keys."""

    def __init__(self, gateway: Gateway, address: str, multi_send: str | None = None) -> None:
        self.gateway = gateway
        self.address = address
        self.artifact = published("Safe")[0]
        self.multi_send = multi_send  # MultiSendCallOnly's address, for act_batch

    @classmethod
    def create(
        cls,
        gateway: Gateway,
        contracts: SafeContracts,
        owners: Sequence[str],
        threshold: int,
        sender: str,
        salt: int = 0,
    ) -> tuple[SafeClient, Receipt]:
        """A new Safe proxy (the factory's createProxyWithNonce) set up with `owners` and `threshold`."""
        setup = encode_call(
            published("Safe")[0],
            "setup",
            [list(owners), threshold, ZERO, b"", contracts.fallback_handler, ZERO, 0, ZERO],
        )
        factory = published("ProxyFactory")[0]
        receipt = gateway.transact(
            factory, contracts.factory, "createProxyWithNonce", [contracts.singleton, setup, salt], sender
        )
        proxy = receipt.named("ProxyCreation")[0].args["proxy"]
        return cls(gateway, str(proxy), contracts.multi_send), receipt

    # -- views ------------------------------------------------------------------------------------------------
    def view(self, fn: str, *args: object) -> Any:
        return self.gateway.call(self.artifact, self.address, fn, args)

    def owners(self) -> list[str]:
        return [to_checksum_address(o) for o in self.view("getOwners")]

    def threshold(self) -> int:
        return int(self.view("getThreshold"))

    def nonce(self) -> int:
        return int(self.view("nonce"))

    def chain_id(self) -> int:
        return int(self.view("getChainId"))

    # -- transactions ---------------------------------------------------------------------------------------
    def transaction(
        self, to: str, data: bytes, value: int = 0, nonce: int | None = None, operation: int = CALL
    ) -> SafeTx:
        """An unsigned SafeTx calling `to` with `data` (a CALL unless `operation`, no refund), at the Safe's next
        nonce by default."""
        return SafeTx(
            None,  # offline: chain id and nonce given, the hash and signatures need no client
            self.address,
            to,
            value,
            data,
            operation,
            0,
            0,
            0,
            None,
            None,
            safe_nonce=self.nonce() if nonce is None else nonce,
            safe_version=SAFE_VERSION,
            chain_id=self.chain_id(),
        )

    def call_data(self, artifact: Artifact, fn: str, args: Sequence[Any]) -> bytes:
        return encode_call(artifact, fn, list(args))

    def execute(self, tx: SafeTx, sender: str) -> Receipt:
        """execTransaction with the SafeTx's signatures, sent (and paid) by `sender`, anyone. A refused one
        raises ChainRevert with the Safe's reason (e.g. GS020 too few signatures, GS026 not an owner); an inner
        call that reverts makes the whole transaction revert, GS013 (safeTxGas and gasPrice are 0)."""
        args = [
            tx.to,
            tx.value,
            tx.data,
            tx.operation,
            tx.safe_tx_gas,
            tx.base_gas,
            tx.gas_price,
            tx.gas_token,
            tx.refund_receiver,
            tx.signatures,
        ]
        receipt = self.gateway.transact(self.artifact, self.address, "execTransaction", args, sender)
        if receipt.named("ExecutionFailure"):  # not with safeTxGas 0 (GS013 instead); kept for SafeTxs made elsewhere
            raise ChainRevert(f"the Safe's call to {tx.to} failed (ExecutionFailure)")
        return receipt

    def act(
        self, artifact: Artifact, target: str, fn: str, args: Sequence[Any], keys: Sequence[Key], sender: str
    ) -> Receipt:
        """An owner action through the Safe: `target.fn(*args)` signed by `keys` (M owner keys), sent by `sender`."""
        return self._signed_and_sent(self.transaction(target, self.call_data(artifact, fn, args)), keys, sender)

    def act_batch(
        self, calls: Sequence[tuple[Artifact, str, str, Sequence[Any]]], keys: Sequence[Key], sender: str
    ) -> Receipt:
        """Owner actions through the Safe in ONE SafeTx (one nonce, one signature check): each (artifact, target,
        fn, args) call in order, signed by `keys`, sent by `sender`. The SafeTx DELEGATECALLs MultiSendCallOnly's
        multiSend (it runs in the Safe's context, so each call's msg.sender is the Safe); MultiSendCallOnly, unlike
        MultiSend, refuses any DELEGATECALL entry, so a batch can only CALL, never run foreign code as the Safe.
        Its code must be the published one (checked before signing). All or nothing: an inner call that reverts
        reverts multiSend and so the SafeTx (GS013, safeTxGas and gasPrice 0), nothing changed, the nonce kept."""
        if not calls:
            raise InputError("calls", "an empty batch")
        if self.multi_send is None:
            raise InputError("safe.multi_send", f"no MultiSendCallOnly known for the Safe {self.address}")
        multi_send = check_published(self.gateway, self.multi_send, "MultiSendCallOnly", "safe.multi_send")
        packed = multi_send_encoding([(target, encode_call(a, fn, list(args))) for a, target, fn, args in calls])
        data = encode_call(published("MultiSendCallOnly")[0], "multiSend", [packed])
        return self._signed_and_sent(self.transaction(multi_send, data, operation=DELEGATECALL), keys, sender)

    def _signed_and_sent(self, tx: SafeTx, keys: Sequence[Key], sender: str) -> Receipt:
        for key in keys:
            tx.sign(_hex_key(key))
        return self.execute(tx, sender)

    def _self_call(self, fn: str, args: Sequence[Any], keys: Sequence[Key], sender: str) -> Receipt:
        return self.act(self.artifact, self.address, fn, args, keys, sender)

    # -- rotation (the Safe's own calls, through a Safe transaction) ------------------------------------------
    def previous_owner(self, owner: str) -> str:
        """The owner before `owner` in the Safe's linked list (the sentinel for the first)."""
        owners = [o.lower() for o in self.owners()]
        if owner.lower() not in owners:
            raise InputError("owner", f"{owner} is not an owner of the Safe {self.address}")
        i = owners.index(owner.lower())
        return SENTINEL if i == 0 else self.owners()[i - 1]

    def swap_owner(self, old: str, new: str, keys: Sequence[Key], sender: str) -> Receipt:
        return self._self_call("swapOwner", [self.previous_owner(old), old, new], keys, sender)

    def add_owner(self, owner: str, threshold: int, keys: Sequence[Key], sender: str) -> Receipt:
        return self._self_call("addOwnerWithThreshold", [owner, threshold], keys, sender)

    def remove_owner(self, owner: str, threshold: int, keys: Sequence[Key], sender: str) -> Receipt:
        return self._self_call("removeOwner", [self.previous_owner(owner), owner, threshold], keys, sender)

    def change_threshold(self, threshold: int, keys: Sequence[Key], sender: str) -> Receipt:
        return self._self_call("changeThreshold", [threshold], keys, sender)


def _hex_key(key: Key) -> str:
    """A private key as safe-eth-py signs with it (0x-hex)."""
    return "0x" + private_key(key).to_bytes().hex()
