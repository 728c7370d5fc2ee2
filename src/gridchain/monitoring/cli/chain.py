"""What every monitoring command run against a deployment does first: read the config, connect as the named
accounts, find the recorded access log and consent contract (checked on chain), open the store; and how a
revert becomes one line."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from gridchain.config.file import Config, config_path, load_config
from gridchain.config.network import Network
from gridchain.errors import InputError
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.store import AccessStore


@dataclass
class Deployment:
    config: Config
    network: Network
    consent: ConsentClient
    log: AccessLogClient
    store: AccessStore
    from_block: int  # the earlier of the two deployment blocks: where their events start

    def address(self, name: str) -> str:
        return self.network.address(name)


def read_config(config_file: Path | None) -> Config:
    return load_config(config_path(config_file))


def open_monitoring(config: Config, accounts: list[str]) -> Deployment:
    """Connect as `accounts` ([accounts] names) to the node gridchain.toml names, find both contracts and open
    the store (its monitoring tables migrated)."""
    from gridchain.config.network import connect
    from gridchain.config.record import checked_address, load_record
    from gridchain.config.store import config_store

    network = connect(config, accounts)
    record = load_record(config, network.settings.chain_id)
    for name in ("access_log", "data_access"):
        if name not in record.contracts:
            raise InputError(f"deployment.{name}", "is not deployed: run `gridchain deploy all` ([monitoring] set)")
    log = checked_address(record, "access_log", network.gateway.code)
    consent = checked_address(record, "data_access", network.gateway.code)
    block = min(int(record.entry(n).get("block", 0)) for n in ("access_log", "data_access"))
    store = AccessStore.open(config_store(config))
    return Deployment(
        config, network, ConsentClient(network.gateway, consent), AccessLogClient(network.gateway, log), store, block
    )


@contextlib.contextmanager
def contract_refusals():
    """A transaction a contract reverts is one line: `error: data_access: <its reason>` (exit 2)."""
    from gridchain.chain.gateway import ChainRevert

    try:
        yield
    except ChainRevert as e:
        reason = e.reason or str(e)
        field, _, rest = reason.partition(": ")
        raise InputError(field if rest else "monitoring", rest or reason) from None
