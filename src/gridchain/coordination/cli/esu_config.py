"""The `[esu]` section of gridchain.toml (where ESU wallets live and which services they use), and what
`gridchain init` writes for it.

```toml
[esu]
wallets = "wallets"                       # one folder per wallet: identity.json (keystore), wallet.db
utility_url = "http://127.0.0.1:8700"     # the utility's token issuance
relayer_url = "http://127.0.0.1:8701"     # the relayer that submits requests
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gridchain.config.file import Config
from gridchain.config.init import InitOptions
from gridchain.errors import InputError

WALLET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
IDENTITY = "identity.json"  # the wallet's identity keystore (the address the utility admits)


@dataclass(frozen=True)
class EsuSettings:
    wallets: Path
    utility_url: str
    relayer_url: str

    def wallet_dir(self, name: str) -> Path:
        """The folder of wallet `name` (checked: a plain name, no path)."""
        if not WALLET_NAME.fullmatch(name):
            raise InputError("--wallet", f"{name!r} is not a wallet name (letters, digits, _ . -; at most 64)")
        return self.wallets / name


def esu_settings(config: Config) -> EsuSettings:
    section = config.section("esu")
    settings = EsuSettings(
        section.path("wallets", "wallets"),
        _url(section.str("utility_url"), section.option("utility_url")),
        _url(section.str("relayer_url"), section.option("relayer_url")),
    )
    section.done()
    return settings


def _url(value: str, option: str) -> str:
    if not value.startswith(("http://", "https://")) or len(value) <= len("https://"):
        raise InputError(option, f"{value!r} is not an http:// or https:// URL")
    return value.rstrip("/")


def init_esu(opts: InitOptions) -> str:
    """The `[esu]` section: the wallets folder (`gridchain init` fills it) and the services' URLs."""
    return f"""
[esu]
wallets = "wallets"           # one folder per ESU wallet: identity.json (keystore), wallet.db (tokens)
utility_url = "http://127.0.0.1:{opts.port_base}"     # the utility's token issuance
relayer_url = "http://127.0.0.1:{opts.port_base + 1}"     # the relayer
"""
