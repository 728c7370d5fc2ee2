"""The `[monitoring]` section of gridchain.toml: the consensus nodes, the threshold, and the monitor's settings.

```toml
[monitoring]
nodes = ["0x...", "0x...", "0x..."]   # the consensus nodes' signing addresses (each keeps its own key), 1 .. 32
m = 2                                  # signatures an attested batch needs, 1 .. len(nodes)
monitor = "owner"                      # the [accounts] entry `gridchain monitor` reports breaches from (pays gas)
grace_s = 86400                        # how long a record may wait for its batch before it is alerted [s]
poll_s = 5.0                           # the monitor's wait between rounds once caught up [s]
confirmations = 0                      # blocks behind the head the monitor reads the log's roots up to
attestor = "owner"                     # the [accounts] entry `gridchain monitoring attest` submits batches from
node_keys = "consensus"                # a pilot's consensus node keystores, one per node (each address in nodes)
```

The access log is deployed by `[accounts] owner` (in production a Safe, `deploy --owner`), who alone may rotate
the node set later (`set_nodes`: every rotation voids the signatures made before it); the consent contract has
no owner. The section is optional: `gridchain deploy all` skips both contracts without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gridchain.config.file import Config
from gridchain.monitoring.model.log import MAX_NODES

OWNER = "owner"  # the [accounts] entry that deploys the access log and may rotate its nodes
SECTION = "monitoring"


@dataclass(frozen=True)
class MonitoringSettings:
    nodes: tuple[str, ...]
    m: int
    monitor: str  # an [accounts] name
    grace_s: int
    poll_s: float
    confirmations: int
    attestor: str = OWNER  # an [accounts] name
    node_keys: Path | None = None  # the folder of the consensus nodes' keystores (a pilot's)

    def deploy_settings(self) -> dict:
        """What the access log is deployed from (a change needs `deploy --redeploy`, or the owner's set_nodes)."""
        return {"nodes": list(self.nodes), "m": self.m}


def monitoring(config: Config) -> MonitoringSettings:
    """`[monitoring]`, every value checked (the section is required here: nobody can guess the nodes)."""
    section = config.section(SECTION)
    nodes = section.addresses("nodes", MAX_NODES, None)
    out = MonitoringSettings(
        nodes,
        section.int("m", 1, len(nodes)),
        section.str("monitor", OWNER),
        section.int("grace_s", 0, 30 * 86_400, 86_400),
        section.float("poll_s", 0.05, 3600.0, 5.0),
        section.int("confirmations", 0, 1000, 0),
        section.str("attestor", OWNER),
        section.path("node_keys", "consensus"),
    )
    section.done()
    return out
