"""The `[relayer]` section of gridchain.toml, and what `gridchain init` writes for it.

```toml
[relayer]
listen = "127.0.0.1:8701"                        # where POST /requests is served
admin_token_file = "secrets/relayer-admin-token"  # enables POST /flush for its holder (absent: disabled)
batch = 20                                       # requests per transaction (1..32); a full batch goes at once
flush_margin_s = 5                               # flush this long before each slot ends [s] (> the block time)
receipt_timeout_s = 60                           # a flush waits this long for a batch's receipt [s]
confirmations = 3                                # a mined batch is final once its block is this deep
backoff_cap_s = 30                               # the longest wait between failing flushes [s]
```

The relayer pays the gas from `[accounts] relayer` and relays for the coordinator of the deployment record; it
keeps its tickets and signed transactions in the deployment's store (`[store] url`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gridchain.config.file import Config
from gridchain.config.init import InitOptions
from gridchain.net.auth import read_admin_token

DEFAULT_BATCH = 20
DEFAULT_FLUSH_MARGIN_S = 5
DEFAULT_RECEIPT_TIMEOUT_S = 60
DEFAULT_BACKOFF_CAP_S = 30
DEFAULT_CONFIRMATIONS = 3  # a node restarted from a state file a second old loses a block or two at 1 s blocks


@dataclass(frozen=True)
class RelayerSettings:
    listen: tuple[str, int]
    admin_token: str | None
    batch: int
    flush_margin_s: int
    receipt_timeout_s: int = DEFAULT_RECEIPT_TIMEOUT_S
    backoff_cap_s: int = DEFAULT_BACKOFF_CAP_S
    confirmations: int = DEFAULT_CONFIRMATIONS


def relayer_settings(config: Config) -> RelayerSettings:
    section = config.section("relayer")
    listen = section.listen("listen", "127.0.0.1:8701")
    token_file = section.path("admin_token_file") if "admin_token_file" in section.table else None
    settings = RelayerSettings(
        listen,
        _admin_token(token_file, section.option("admin_token_file")),
        section.int("batch", 1, 32, DEFAULT_BATCH),
        section.int("flush_margin_s", 1, 3600, DEFAULT_FLUSH_MARGIN_S),
        section.int("receipt_timeout_s", 1, 3600, DEFAULT_RECEIPT_TIMEOUT_S),
        section.int("backoff_cap_s", 1, 3600, DEFAULT_BACKOFF_CAP_S),
        section.int("confirmations", 1, 1000, DEFAULT_CONFIRMATIONS),
    )
    section.done()
    return settings


def _admin_token(path: Path | None, option: str) -> str | None:
    return None if path is None else read_admin_token(option, path)


def init_relayer(opts: InitOptions) -> str:
    """The relayer's admin token (secrets/, owner-only) and its `[relayer]` section."""
    opts.secret("secrets/relayer-admin-token")
    return f"""
[relayer]
listen = "127.0.0.1:{opts.port_base + 1}"      # POST /requests, GET /requests/<id>, /health
admin_token_file = "secrets/relayer-admin-token"  # POST /flush needs it (Authorization: Bearer)
batch = {DEFAULT_BATCH}                      # requests per transaction (1..32); a full batch goes at once
flush_margin_s = {DEFAULT_FLUSH_MARGIN_S}              # flush this long before each slot ends [s]; > block time
"""
