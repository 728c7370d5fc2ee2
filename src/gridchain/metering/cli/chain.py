"""What every metering command run against a deployment does first: read the config, connect as the named
accounts, find the recorded metering contract (checked on chain); and how a revert becomes one line."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from gridchain.config.file import Config, config_path, load_config
from gridchain.config.network import Network
from gridchain.errors import InputError
from gridchain.metering.client import MeteringClient
from gridchain.ui.console import emit  # noqa: F401  (the metering commands import it from here)

ETH = 10**18


@dataclass
class Deployment:
    config: Config
    network: Network
    client: MeteringClient
    from_block: int  # the contract's deployment block: where its events start

    def address(self, name: str) -> str:
        return self.network.address(name)


def read_config(config_file: Path | None) -> Config:
    return load_config(config_path(config_file))


def open_metering(config: Config, accounts: list[str]) -> Deployment:
    """Connect as `accounts` (accounts.names) to the node gridchain.toml names and find the metering contract."""
    from gridchain.config.network import connect
    from gridchain.config.record import checked_address, load_record

    network = connect(config, accounts)
    record = load_record(config, network.settings.chain_id)
    address = checked_address(record, "metering", network.gateway.code)
    block = int(record.entry("metering").get("block", 0))
    return Deployment(config, network, MeteringClient(network.gateway, address), block)


@contextlib.contextmanager
def contract_refusals():
    """A transaction the contract reverts is one line: `error: metering: <the contract's reason>` (exit 2)."""
    from gridchain.chain.gateway import ChainRevert

    try:
        yield
    except ChainRevert as e:
        reason = e.reason or str(e)
        field, _, rest = reason.partition(": ")
        raise InputError(field if rest else "metering", rest or reason) from None


def eth(wei: int) -> str:
    return f"{wei / ETH:.6f} ETH"
