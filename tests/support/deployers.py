"""Contracts compiled once per test process: `load(path)` is a contract's deployer (boa's partial contract)."""

from __future__ import annotations

from pathlib import Path

import boa

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"

_deployers: dict[str, object] = {}


def load(path: Path):
    """A contract's deployer, compiled once per test process."""
    if str(path) not in _deployers:
        _deployers[str(path)] = boa.load_partial(str(path))
    return _deployers[str(path)]
