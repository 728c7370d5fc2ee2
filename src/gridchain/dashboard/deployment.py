"""What the dashboard reads: a deployment's node (no keys), its deployment record and its index store.

One `Deployment` per server. The pages share its gateway (one call at a time: the HTTP handlers run in threads)
and ask it for the features' clients, whose histories come from the index, not from the node's logs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gridchain.chain.locked import LockedGateway
from gridchain.config.file import Config, load_config
from gridchain.config.network import connect
from gridchain.config.record import DeploymentRecord, checked_address, load_record
from gridchain.config.store import config_store
from gridchain.dashboard.settings import DashboardSettings, dashboard_settings
from gridchain.index.reader import Checkpoint, IndexReader
from gridchain.index.tables import SCHEMA
from gridchain.store.engine import Store
from gridchain.store.migrate import revision


@dataclass
class Deployment:
    config: Config
    settings: DashboardSettings
    gateway: LockedGateway
    chain_id: int
    rpc_url: str
    record: DeploymentRecord
    store: Store
    reader: IndexReader
    views: dict[str, object] = field(default_factory=dict)  # the pages' shared views, by name (one per server)
    _checked: dict[str, str] = field(default_factory=dict)
    _migrated: bool = False

    @classmethod
    def open(cls, path: Path) -> Deployment:
        """Read the config, reach the node (its chain id checked) and open the store; nothing is decrypted."""
        config = load_config(path)
        settings = dashboard_settings(config)
        network = connect(config)  # no accounts: no keystore is opened, nothing can be signed
        record = load_record(config, network.settings.chain_id)
        store = config_store(config)
        gateway = LockedGateway(network.gateway)
        return cls(
            config,
            settings,
            gateway,
            network.settings.chain_id,
            network.settings.rpc_url,
            record,
            store,
            IndexReader(store),
        )

    def address(self, name: str) -> str | None:
        """The recorded address of contract `name` (its code checked on chain once), or None if not deployed."""
        if name not in self.record.contracts:
            return None
        if name not in self._checked:
            self._checked[name] = checked_address(self.record, name, self.gateway.code)
        return self._checked[name]

    def start_block(self, name: str) -> int:
        return int(self.record.contracts[name].get("block", 0))

    def checkpoint(self, name: str) -> Checkpoint | None:
        """How far the indexer has read contract `name`: None if it never has (or the index has no tables)."""
        if not self._migrated:  # the indexer creates its tables once; until then there is nothing to read
            self._migrated = revision(self.store, SCHEMA) is not None
            if not self._migrated:
                return None
        return self.reader.checkpoint(name)

    def close(self) -> None:
        self.store.close()
