"""Deploy a contract once: reuse the recorded deployment when the chain holds the same code built from the same
sources with the same settings; otherwise deploy, check the code landed, and record it.

Idempotent by design: `gridchain deploy all` may be run again at any time (after a crash half-way, too): what
is already there is kept, what is missing is deployed. A recorded deployment whose settings differ from the
config is not silently replaced (its community would be orphaned): that needs `--redeploy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridchain.chain.client import ContractClient
from gridchain.chain.compiler import compile_contract
from gridchain.checks import parse_address
from gridchain.config.network import Network
from gridchain.config.record import DeploymentRecord, code_hash
from gridchain.errors import InputError


@dataclass(frozen=True)
class Deployed:
    name: str
    address: str
    reused: bool
    entry: dict[str, Any]


def deploy_once(
    network: Network,
    record: DeploymentRecord,
    name: str,
    client_cls: type[ContractClient],
    owner: str,
    args: list[Any],
    settings: dict[str, Any],
    redeploy: bool = False,
) -> Deployed:
    """`client_cls`'s contract under `name`: the recorded one if it is still valid, else a new deployment.

    `settings` are the config values the deployment was made from (compared on the next run); `args` the
    constructor's arguments (which may include values computed at deploy time, such as a start time)."""
    gateway = network.gateway
    artifact = compile_contract(client_cls.CONTRACT)
    old = record.contracts.get(name)
    if old is not None and not redeploy:
        reused = _reusable(gateway, name, old, artifact, settings)
        if reused is not None:
            return reused
    receipt = gateway.deploy(artifact, args, owner)
    address = receipt.contract_address
    code = gateway.code(address)
    if not code:
        raise InputError(f"deployment.{name}", f"the node reports no code at {address} after deploying it")
    entry = {
        "contract": client_cls.CONTRACT,
        "address": address,
        "block": receipt.block,
        "tx_hash": receipt.tx_hash,
        "gas_used": receipt.gas_used,
        "code_hash": code_hash(code),
        "source_sha256": artifact.source_sha256,
        "compiler": artifact.compiler,
        "owner": owner,
        "args": [a if isinstance(a, int | str | bool) else str(a) for a in args],
        "settings": settings,
    }
    record.put(name, entry)
    return Deployed(name, address, False, entry)


def _reusable(gateway, name: str, old: dict[str, Any], artifact, settings: dict[str, Any]) -> Deployed | None:
    """The recorded deployment if it can be kept; None if a new one is due (no code there: a fresh node, or one
    restarted without its state; or a new build of the contract). Code that is not what the record says (an
    edited record, another chain), or other settings, is an error: replacing it needs --redeploy."""
    if not isinstance(old, dict):
        raise InputError(f"deployment.{name}", f"the record's entry is {type(old).__name__}, not an object")
    address = parse_address(f"deployment.{name}", old.get("address"))
    code = gateway.code(address)
    if not code:
        return None
    if code_hash(code) != old.get("code_hash"):
        raise InputError(
            f"deployment.{name}",
            f"the code at {address} is not the {old.get('contract')} recorded: "
            "fix the record, or pass --redeploy to deploy a new one",
        )
    if old.get("source_sha256") != artifact.source_sha256 or old.get("compiler") != artifact.compiler:
        return None
    if old.get("settings") != settings:
        changed = sorted(k for k in settings if (old.get("settings") or {}).get(k) != settings[k])
        raise InputError(
            f"deployment.{name}",
            f"deployed at {address} with other settings ({', '.join(changed)} changed): "
            "pass --redeploy to deploy a new one",
        )
    return Deployed(name, address, True, old)
