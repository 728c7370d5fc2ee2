"""The embedded chain: titanoboa's in-process py-evm (Prague rules), no server.

titanoboa executes messages, not mined transactions: there are no receipts and no log index. This gateway
therefore records, for every transaction it sends, the logs and the input (the way a node's index would),
and computes the receipt's gas as a Prague node does: intrinsic gas (21000, calldata, creation) plus
execution, less the refund (capped at a fifth), and at least the EIP-7623 calldata floor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import boa
from eth_utils import keccak, to_canonical_address, to_checksum_address

from gridchain.chain.anvil import DEV_BALANCE_WEI, dev_addresses
from gridchain.chain.compiler import Artifact
from gridchain.chain.gateway import (
    Call,
    ChainRevert,
    Event,
    Header,
    NotSent,
    Receipt,
    calldata_floor,
    decode_input,
    decode_log,
    decode_result,
    encode_call,
    encode_deploy,
    event_topic,
    initcode_word_gas,
    intrinsic_gas,
    revert_reason,
)


@dataclass(frozen=True)
class _Log:
    address: str
    topics: tuple[bytes, ...]
    data: bytes
    block: int
    tx_hash: str
    index: int

    def decode(self, artifact: Artifact) -> Event | None:
        return decode_log(
            artifact, self.address, self.topics, self.data, self.block, self.tx_hash, self.index, _hash(self.block)
        )


def _hash(block: int) -> str:
    """The embedded chain's stand-in for a block hash: it never reorganises, so any fixed value per number."""
    return "0x" + keccak(b"gridchain-embedded-block" + block.to_bytes(8, "big")).hex()


def _failure(computation: Any) -> ChainRevert:
    output = bytes(computation.output or b"")
    return ChainRevert(revert_reason(output) if output else str(computation.error))


class BoaGateway:
    """One fresh in-process chain per instance; gas price 0, and each account holds DEV_BALANCE_WEI for values.

    Its accounts are anvil's development addresses, so that transactions are byte for byte those a local
    node would get (calldata gas depends on the bytes) and results are deterministic.
    """

    kind = "embedded"

    def __init__(self, accounts: int = 8) -> None:
        self._env = boa.Env()
        self.accounts = dev_addresses(accounts)
        for account in self.accounts:
            self._env.set_balance(account, DEV_BALANCE_WEI)
        self._logs: list[_Log] = []
        self._inputs: dict[str, bytes] = {}
        self._targets: dict[str, str | None] = {}
        self._block = 0
        self._times = [self.now()]  # each block's timestamp [s], by number

    def _mine(
        self, computation: Any, data: bytes, artifact: Artifact, address: str | None = None, to: str | None = None
    ) -> Receipt:
        if computation.is_error:
            raise _failure(computation)  # py-evm has already rolled the state back
        self._block += 1
        self._times.append(self.now())
        tx_hash = "0x" + keccak(b"gridchain-embedded-tx" + self._block.to_bytes(8, "big")).hex()
        gas = intrinsic_gas(data, create=address is not None) + computation.get_gas_used()
        if address is not None:
            gas -= initcode_word_gas(data)  # py-evm's create message has charged these already
        gas -= min(computation.get_gas_refund(), gas // 5)
        gas = max(gas, calldata_floor(data))
        logs = [
            _Log(
                to_checksum_address(a), tuple(t.to_bytes(32, "big") for t in topics), bytes(d), self._block, tx_hash, i
            )
            for i, (_, a, topics, d) in enumerate(sorted(computation.get_raw_log_entries()))
        ]
        self._logs.extend(logs)
        self._inputs[tx_hash] = data
        self._targets[tx_hash] = to
        events = tuple(e for e in (log.decode(artifact) for log in logs) if e is not None)
        return Receipt(tx_hash, self._block, gas, events, address)

    def _new_transaction(self, sender: str) -> None:
        # What py-evm does between a block's transactions: fix storage originals (EIP-2200 prices SSTORE
        # against them) and forget warm accounts and slots (EIP-2929), so gas matches a node's receipts.
        # A transaction starts with its sender warm (EIP-2929); boa's message calls do not warm it, which
        # showed as 2,000 gas too many on a contract paying the caller back (measured against anvil).
        state = self._env.evm.vm.state
        state.lock_changes()
        state.mark_address_warm(to_canonical_address(sender))

    def deploy(self, artifact: Artifact, args: Sequence[Any], sender: str) -> Receipt:
        self._new_transaction(sender)
        data = encode_deploy(artifact, args)
        address, computation = self._env.deploy(sender=sender, bytecode=data)
        return self._mine(computation, data, artifact, to_checksum_address(str(address)))

    def transact(
        self, artifact: Artifact, address: str, fn: str, args: Sequence[Any], sender: str, value: int = 0
    ) -> Receipt:
        return self._transact(artifact, address, encode_call(artifact, fn, args), sender, value, None)

    def _transact(
        self, artifact: Artifact, address: str, data: bytes, sender: str, value: int, gas: int | None
    ) -> Receipt:
        """One call; with a gas limit `gas` it is held to it as a node would (intrinsic gas first, then the
        execution), so that a limit too low fails here as it would on chain."""
        self._new_transaction(sender)
        if value > self._env.get_balance(sender):
            raise NotSent(f"insufficient funds: {sender} has {self._env.get_balance(sender)} wei, sends {value}")
        execution = None
        if gas is not None:
            least = max(intrinsic_gas(data), calldata_floor(data))
            if gas < least:
                raise NotSent(f"intrinsic gas too low: gas limit {gas}, the transaction needs at least {least}")
            execution = gas - intrinsic_gas(data)
        computation = self._env.execute_code(to_address=address, sender=sender, data=data, value=value, gas=execution)
        receipt = self._mine(computation, data, artifact, to=to_checksum_address(address))
        if gas is not None and receipt.gas_used > gas:  # the calldata floor above the limit: a node refuses it
            raise ChainRevert(f"out of gas (gas limit {gas}, used {receipt.gas_used})")
        return receipt

    def transfer(self, sender: str, to: str, value: int) -> Receipt:
        """Send `value` wei from `sender` to `to` (an account: no call data), as RpcGateway.transfer."""
        if value > self._env.get_balance(sender):
            raise NotSent(f"insufficient funds: {sender} has {self._env.get_balance(sender)} wei, sends {value}")
        self._new_transaction(sender)
        computation = self._env.execute_code(to_address=to, sender=sender, data=b"", value=value)
        return self._mine(computation, b"", None, to=to_checksum_address(to))  # type: ignore[arg-type]  # no logs

    def transact_many(self, calls: Sequence[Call]) -> list[Receipt | ChainRevert]:
        """One call after another, each its own block: a call that would revert (or run past its `gas`) changes
        nothing and is reported (py-evm has no pool, so no call of the batch is left waiting behind it)."""
        out: list[Receipt | ChainRevert] = []
        for c in calls:
            try:
                if c.artifact is None:
                    out.append(self.transfer(c.sender, c.address, c.value))
                else:
                    out.append(self._transact(c.artifact, c.address, c.data(), c.sender, c.value, c.gas))
            except ChainRevert as e:
                out.append(e)
        return out

    def balance(self, address: str) -> int:
        return int(self._env.get_balance(address))

    def code(self, address: str) -> bytes:
        return bytes(self._env.get_code(address))

    def call(self, artifact: Artifact, address: str, fn: str, args: Sequence[Any] = ()) -> Any:
        # like eth_call, a call changes nothing even when `fn` is not a view (the relayer simulates its batches)
        computation = self._env.execute_code(to_address=address, data=encode_call(artifact, fn, args), simulate=True)
        if computation.is_error:
            raise _failure(computation)
        return decode_result(artifact, fn, len(args), bytes(computation.output))

    def events(
        self, artifact: Artifact, address: str, name: str, from_block: int = 0, to_block: int | None = None
    ) -> list[Event]:
        return self.logs(artifact, address, [name], from_block, self._block if to_block is None else to_block)

    def logs(
        self, artifact: Artifact, address: str, names: Sequence[str], from_block: int, to_block: int
    ) -> list[Event]:
        topics, address = {event_topic(artifact, name) for name in names}, to_checksum_address(address)
        return [
            log.decode(artifact)
            for log in self._logs
            if log.address == address
            and log.topics[:1]
            and log.topics[0] in topics
            and from_block <= log.block <= to_block
        ]

    def block_number(self) -> int:
        """Each transaction is a block of its own (block 0: before the first)."""
        return self._block

    def block_hash(self, number: int) -> str | None:
        return _hash(number) if 0 <= number <= self._block else None

    def header(self, number: int) -> Header | None:
        if not 0 <= number <= self._block:
            return None
        parent = _hash(number - 1) if number else "0x" + "00" * 32
        return Header(number, _hash(number), parent, self._times[number])

    def transaction_input(self, artifact: Artifact, tx_hash: str) -> tuple[str, dict[str, Any]]:
        return decode_input(artifact, self._inputs[tx_hash])

    def transaction_to(self, tx_hash: str) -> str | None:
        return self._targets[tx_hash]

    def known(self, tx_hash: str) -> bool:
        return tx_hash in self._inputs  # the embedded chain mines at once and never reorganises

    def forget_nonce(self, sender: str) -> None:
        """Nothing to forget: py-evm takes every nonce from its state."""

    def now(self) -> int:
        return int(self._env.evm.patch.timestamp)

    def advance_time(self, seconds: int) -> None:
        self._env.time_travel(seconds=seconds)
