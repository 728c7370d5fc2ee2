"""The `[keeper]` section of gridchain.toml, and what `gridchain init` writes for it.

```toml
[keeper]
poll_s = 5.0            # longest wait between two looks at the chain [s]
margin_s = 1.0          # wait this long past a slot's end for a block that passes it [s]
page = 1024             # a slot with more pending requests closes in pages of this many
max_log_range = 2000    # blocks per eth_getLogs request (public providers cap the range)
listen = ""             # host:port for GET /health and /metrics ("": none)
```

The keeper's account is `[accounts] keeper`; the coordinator is the deployment record's.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridchain.chain.events import DEFAULT_MAX_RANGE
from gridchain.config.file import Config
from gridchain.config.init import InitOptions
from gridchain.coordination.model.coordinator import MAX_REQUESTS


@dataclass(frozen=True)
class KeeperSettings:
    poll_s: float
    margin_s: float
    page: int
    max_log_range: int
    listen: tuple[str, int] | None = None  # where /health and /metrics are served (None: nowhere)


def keeper_settings(config: Config) -> KeeperSettings:
    section = config.section("keeper", required=False)
    out = KeeperSettings(
        section.float("poll_s", 0.1, 3600.0, 5.0),
        section.float("margin_s", 0.0, 600.0, 1.0),
        section.int("page", 1, MAX_REQUESTS, MAX_REQUESTS),
        section.int("max_log_range", 1, 1_000_000, DEFAULT_MAX_RANGE),
        section.listen("listen") if section.str("listen", "") else None,
    )
    section.done()
    return out


def init_keeper(opts: InitOptions) -> str:
    """The [keeper] section (its account is [accounts] keeper, written by `init` itself)."""
    return f"""
[keeper]
poll_s = 5.0                  # longest wait between two looks at the chain [s]
margin_s = 1.0                # wait this long past a slot's end for a block that passes it [s]
page = {MAX_REQUESTS}                   # a slot with more pending requests closes in pages of this many
max_log_range = {DEFAULT_MAX_RANGE}          # blocks per eth_getLogs request (public providers cap the range)
listen = ""                   # host:port for GET /health and /metrics, e.g. "127.0.0.1:{opts.port_base + 2}" ("": none)
"""
