"""The deployment's coordinator from gridchain.toml: the node, the named accounts, the recorded and checked
address, and a client that reads the history from the deployment's block on."""

from __future__ import annotations

from collections.abc import Sequence

from gridchain.chain.events import DEFAULT_MAX_RANGE
from gridchain.config.file import Config
from gridchain.config.network import Network, connect
from gridchain.config.record import checked_address, load_record
from gridchain.coordination.client import CoordinatorClient


def coordinator(
    config: Config,
    accounts: Sequence[str] = (),
    max_log_range: int = DEFAULT_MAX_RANGE,
    confirmations: int | None = None,
) -> tuple[Network, CoordinatorClient]:
    """Connect, then the recorded coordinator after checking its code on chain. `confirmations`: blocks the
    history stays below the head (default: [network] confirmations)."""
    network = connect(config, accounts)
    record = load_record(config, network.settings.chain_id)
    address = checked_address(record, "coordinator", network.gateway.code)
    below = network.settings.confirmations if confirmations is None else confirmations
    start = int(record.entry("coordinator").get("block", 0))
    client = CoordinatorClient(network.gateway, address, None, start, max_log_range, below)
    return network, client
