"""A gateway that counts what is read through it: log requests with their block ranges, transaction reads.

Wraps any gateway (embedded or JSON-RPC); tests use it to prove that a reader asks for each block once."""

from __future__ import annotations

from typing import Any


class CountingGateway:
    def __init__(self, gateway: Any) -> None:
        self._gateway = gateway
        self.kind = gateway.kind
        self.accounts = gateway.accounts
        self.ranges: list[tuple[int, int]] = []  # (from_block, to_block) of every log request
        self.transactions: list[str] = []  # hashes of every transaction read (input or target)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gateway, name)

    def logs(self, artifact, address, names, from_block, to_block):
        self.ranges.append((from_block, to_block))
        return self._gateway.logs(artifact, address, names, from_block, to_block)

    def events(self, artifact, address, name, from_block=0, to_block=None):
        self.ranges.append((from_block, to_block))
        return self._gateway.events(artifact, address, name, from_block, to_block)

    def transaction_input(self, artifact, tx_hash):
        self.transactions.append(tx_hash)
        return self._gateway.transaction_input(artifact, tx_hash)

    def transaction_to(self, tx_hash):
        self.transactions.append(tx_hash)
        return self._gateway.transaction_to(tx_hash)

    def blocks_read(self) -> list[int]:
        """Every block number a log request covered, once per request covering it."""
        return [b for lo, hi in self.ranges for b in range(lo, hi + 1)]
