"""The `[v2v]` section of gridchain.toml and the EVs' keystores.

```toml
[v2v]
validity_s = 3600             # an access token's life [s] (the contract's VALIDITY, 1 .. 30 days)
grace_s = 600                 # [s] the contract's GRACE (60 .. 30 days)
evs = "evs"                   # one keystore per EV: evs/<name>.json (the EV owner's key, not the operator's)
wallets = "v2v-wallets"       # a consumer EV's receipts: v2v-wallets/<name>.json
poll_s = 1.0                  # how often a provider reads new events [s]
increment_wh = 2000           # energy a provider delivers per receipt [Wh]

[v2v.listen]                  # provider EVs' services; `v2v register` announces http://host:port on chain
p1 = "127.0.0.1:8710"
```

The organisation that admits EVs is `[accounts] owner`, who deployed the contract. An EV is a keystore in the
`evs` folder: its name is the file's name. Only the cli reads the config; parties take plain values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gridchain.config.accounts import DEV_CHAIN_ID, password
from gridchain.config.file import Config
from gridchain.crypto.keystore import keystore_address, read_keystore
from gridchain.errors import InputError

MAX_PERIOD_S = 30 * 86_400
MAX_INFO = 64  # characters of EVAdded's info: the announced URL
NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class V2VSettings:
    validity_s: int
    grace_s: int
    evs_dir: Path
    wallets_dir: Path
    poll_s: float
    increment_wh: int
    listen: dict[str, tuple[str, int]]  # provider EV name -> (host, port)

    def deploy_settings(self) -> dict:
        """What the contract is deployed from (a change needs `deploy --redeploy`)."""
        return {"validity_s": self.validity_s, "grace_s": self.grace_s}

    def ev_names(self) -> list[str]:
        return sorted(p.stem for p in self.evs_dir.glob("*.json")) if self.evs_dir.is_dir() else []

    def keystore(self, name: str) -> Path:
        """The keystore of EV `name`; an unknown name is an error naming --ev and the EVs there are."""
        path = self.evs_dir / f"{name}.json"
        if not NAME.fullmatch(name) or not path.is_file():
            known = ", ".join(self.ev_names()) or "none"
            raise InputError("--ev", f"{name!r} is not an EV of this config (no {path}; EVs: {known})")
        return path

    def url(self, name: str) -> str | None:
        """The service URL provider `name` announces (None: it has no [v2v.listen] entry)."""
        if name not in self.listen:
            return None
        host, port = self.listen[name]
        return f"http://{host}:{port}"


def v2v_settings(config: Config) -> V2VSettings:
    section = config.section("v2v")
    listen_section = config.section("v2v.listen", required=False)
    listen = {name: listen_section.listen(name) for name in listen_section.table}
    for name, (_, port) in listen.items():
        if port == 0:
            raise InputError(listen_section.option(name), "port 0 cannot be announced: give a fixed port")
    settings = V2VSettings(
        section.int("validity_s", 1, MAX_PERIOD_S, 3600),
        section.int("grace_s", 60, MAX_PERIOD_S, 600),
        section.path("evs", "evs"),
        section.path("wallets", "v2v-wallets"),
        section.float("poll_s", 0.05, 3600, 1.0),
        section.int("increment_wh", 1, 2**64 - 1, 2000),
        listen,
    )
    section.done()
    return settings


def ev_address(settings: V2VSettings, name: str) -> str:
    """The EV's address, read from its keystore without the password."""
    return keystore_address(settings.keystore(name), "--ev")


def ev_key(config: Config, settings: V2VSettings, name: str, chain_id: int) -> str:
    """The EV's private key (decrypted with [keys]' password); anvil's public keys are refused off 31337."""
    from gridchain.chain.anvil import dev_keys

    key = read_keystore(settings.keystore(name), password(config), "--ev")
    if chain_id != DEV_CHAIN_ID and key.lower() in {k.lower() for k in dev_keys(20)}:
        raise InputError("--ev", f"{name} holds one of anvil's public development keys: refused on chain {chain_id}")
    return key
