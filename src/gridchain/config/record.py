"""The deployment record: what `gridchain deploy` deployed where, read by every other command.

```json
{"chain_id": 31337, "contracts": {"coordinator": {"contract": "charging_coordinator", "address": "0x...",
  "block": 3, "tx_hash": "0x...", "code_hash": "0x...", "source_sha256": "...", "compiler": "0.4.3",
  "args": {...}}}}
```

The file is `[deployment] record` in gridchain.toml (default `deployment.json` beside it), rewritten atomically.
A command that uses a contract checks that the code on chain at the recorded address is the recorded code
(`checked_address`): a record from another chain, or a node restarted without its state, is an error naming
the record, not a call into nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils import keccak

from gridchain.checks import parse_address
from gridchain.config.file import Config
from gridchain.crypto.keystore import write_private
from gridchain.errors import InputError

DEFAULT_RECORD = "deployment.json"


@dataclass
class DeploymentRecord:
    path: Path
    data: dict[str, Any]

    @property
    def contracts(self) -> dict[str, dict[str, Any]]:
        return self.data.setdefault("contracts", {})

    def entry(self, name: str) -> dict[str, Any]:
        """The recorded deployment of `name` (coordinator, v2v, metering); an error if there is none."""
        if name not in self.contracts:
            raise InputError(
                f"deployment.{name}", f"not deployed (no entry in {str(self.path)!r}): run `gridchain deploy {name}`"
            )
        return self.contracts[name]

    def put(self, name: str, entry: dict[str, Any]) -> None:
        self.contracts[name] = entry
        self.save()

    def save(self) -> None:
        write_private(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")


def record_path(config: Config) -> Path:
    section = config.section("deployment", required=False)
    path = section.path("record", DEFAULT_RECORD)
    section.done()
    return path


def load_record(config: Config, chain_id: int) -> DeploymentRecord:
    """The record (empty if `deploy` has not written one); a record of another chain is refused."""
    path = record_path(config)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return DeploymentRecord(path, {"chain_id": chain_id, "contracts": {}})
    except (OSError, ValueError) as e:
        raise InputError("deployment.record", f"cannot read {str(path)!r}: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("contracts", {}), dict):
        raise InputError("deployment.record", f"{str(path)!r} is not a deployment record")
    if data.get("chain_id") != chain_id:
        raise InputError(
            "deployment.record", f"{str(path)!r} records chain {data.get('chain_id')}, the node is chain {chain_id}"
        )
    return DeploymentRecord(path, data)


def code_hash(code: bytes) -> str:
    return "0x" + keccak(code).hex()


def checked_address(record: DeploymentRecord, name: str, code_at) -> str:
    """The recorded address of `name`, after checking the chain holds the recorded code there.
    `code_at(address) -> bytes` reads the code (a gateway's `code`)."""
    entry = record.entry(name)
    if not isinstance(entry, dict):
        raise InputError(f"deployment.{name}", f"the record's entry is {type(entry).__name__}, not an object")
    address = parse_address(f"deployment.{name}", entry.get("address"))
    code = code_at(address)
    if not code:
        raise InputError(
            f"deployment.{name}",
            f"no contract at {address} (a fresh node, or one restarted without --state?): "
            f"run `gridchain deploy {name}`",
        )
    if code_hash(code) != entry.get("code_hash"):
        raise InputError(f"deployment.{name}", f"the code at {address} is not the {entry.get('contract')} deployed")
    return address
