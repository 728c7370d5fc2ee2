"""The `[utility]` section (what `gridchain utility serve` runs with) and `gridchain init`'s part for it.

```toml
[utility]
listen = "127.0.0.1:8700"                          # the service: issuance, member admin API, /health
admin_token_file = "secrets/utility-admin-token"   # Bearer token of the member admin API (>= 16 characters)
post_ahead_slots = 2                               # post a slot's capacity this many slots before it begins
epoch_keys_warn_days = 7                           # under a Safe: warn below this many days of keys registered
```

`[accounts] poster` is the coordinator's capacity poster (a bounded hot key): when a Safe owns the coordinator,
the service posts capacities with it, and the Safe registers the epoch keys ahead (`gridchain utility
epoch-keys`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gridchain.config.file import Config
from gridchain.config.init import InitOptions

MAX_POST_AHEAD_SLOTS = 1000
MAX_WARN_DAYS = 366
POSTER = "poster"  # the [accounts] entry of the capacity poster
ADMIN_TOKEN_FILE = "secrets/utility-admin-token"
DEFAULT_LISTEN = "127.0.0.1:8700"


@dataclass(frozen=True)
class UtilitySettings:
    listen: tuple[str, int]
    admin_token_file: Path
    post_ahead_slots: int
    epoch_keys_warn_days: int = 7


def utility_settings(config: Config) -> UtilitySettings:
    section = config.section("utility")
    out = UtilitySettings(
        section.listen("listen", DEFAULT_LISTEN),
        section.path("admin_token_file"),
        section.int("post_ahead_slots", 0, MAX_POST_AHEAD_SLOTS, 2),
        section.int("epoch_keys_warn_days", 1, MAX_WARN_DAYS, 7),
    )
    section.done()
    return out


def init_utility(opts: InitOptions) -> str:
    """The utility's admin token and capacity poster's keystore ([accounts] poster); returns the [utility] and
    [community.capacity] sections."""
    opts.secret(ADMIN_TOKEN_FILE)
    opts.account(POSTER, "posts capacity when a Safe owns the coordinator (its hot key)")
    return f"""
[utility]
listen = "127.0.0.1:{opts.port_base}"      # token issuance, member admin API, /health
admin_token_file = "{ADMIN_TOKEN_FILE}"   # Bearer token of the member admin API
post_ahead_slots = 2          # post each slot's capacity this many slots before it begins
epoch_keys_warn_days = 7      # under a Safe: warn when fewer days of epoch keys are registered ahead

[community.capacity]          # C - P_R: constant (capacity_w), csv (file of utc_time,capacity_w) or simbench
source = "constant"
capacity_w = 50000            # [W]
"""
