"""The `[dashboard]` section of gridchain.toml.

```toml
[dashboard]
listen = "127.0.0.1:8709"   # where the pages are served (port 0: any free port)
poll_s = 2.0                # how often an open page asks for what changed [s]
results = "results"         # the experiments' JSON outputs (grid, fig2, gas report) [folder]
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gridchain.config.file import Config
from gridchain.config.init import InitOptions

DEFAULT_PORT_OFFSET = 9  # init: port_base + 9


@dataclass(frozen=True)
class DashboardSettings:
    listen: tuple[str, int]
    poll_s: float
    results: Path


def dashboard_settings(config: Config) -> DashboardSettings:
    section = config.section("dashboard", required=False)
    out = DashboardSettings(
        section.listen("listen", "127.0.0.1:8709"),
        section.float("poll_s", 0.2, 3600.0, 2.0),
        section.path("results", "results"),
    )
    section.done()
    return out


def init_dashboard(opts: InitOptions) -> str:
    """The [dashboard] section `gridchain init` writes."""
    return f"""
[dashboard]
listen = "127.0.0.1:{opts.port_base + DEFAULT_PORT_OFFSET}"     # gridchain dashboard serves its pages here
poll_s = 2.0                  # how often an open page asks for what changed [s]
results = "results"           # the experiments' JSON outputs (grid, fig2, gas report)
"""
