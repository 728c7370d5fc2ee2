"""The `[keys]` and `[accounts]` sections: named accounts held in encrypted keystores.

```toml
[keys]
password_env = "GRIDCHAIN_KEYSTORE_PASSWORD"  # the keystores' password comes from this variable...
password_file = "secrets/keystore-password"    # ...or, if it is unset, from this file (never from argv)
dev_funding = true                             # chain 31337 only: top accounts up from anvil's dev account

[accounts]
owner = "keys/owner.json"                      # one keystore per named account
```

anvil's development keys are public (the "test ... junk" mnemonic): a keystore holding one is refused on any
chain id but 31337, naming the option, and so is `dev_funding`.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

from gridchain.config.file import Config
from gridchain.crypto.keystore import keystore_address, read_keystore
from gridchain.errors import InputError

PASSWORD_ENV = "GRIDCHAIN_KEYSTORE_PASSWORD"
DEV_CHAIN_ID = 31337  # anvil's and hardhat's: the only chain where the public development keys may sign
DEV_KEYS_CHECKED = 20  # anvil's first accounts (it funds 10 by default)


@dataclass(frozen=True)
class KeySettings:
    password_env: str
    password_file: Path | None
    dev_funding: bool


def key_settings(config: Config) -> KeySettings:
    section = config.section("keys", required=False)
    settings = KeySettings(
        section.str("password_env", PASSWORD_ENV),
        section.path("password_file") if "password_file" in section.table else None,
        section.bool("dev_funding", False),
    )
    section.done()
    return settings


def password(config: Config) -> str:
    """The keystores' password: from the environment variable [keys] names, else from its file."""
    settings = key_settings(config)
    if value := os.environ.get(settings.password_env):
        return value
    if settings.password_file is None:
        raise InputError("keys.password_env", f"${settings.password_env} is not set and [keys] names no password_file")
    try:
        value = settings.password_file.read_text().rstrip("\n")
    except OSError as e:
        raise InputError(
            "keys.password_file", f"cannot read {str(settings.password_file)!r}: {e.strerror or e}"
        ) from None
    if not value:
        raise InputError("keys.password_file", f"{str(settings.password_file)!r} is empty")
    return value


def keystore_path(config: Config, name: str) -> Path:
    section = config.section("accounts")
    if name not in section.table:
        known = ", ".join(sorted(section.table)) or "none"
        raise InputError(f"accounts.{name}", f"is not configured (this file has: {known})")
    return section.path(name)


def account_address(config: Config, name: str) -> str:
    """The address of a named account, read from its keystore without the password."""
    return keystore_address(keystore_path(config, name), f"accounts.{name}")


def account_key(config: Config, name: str, chain_id: int) -> str:
    """The private key of a named account (decrypted), refused if it is a public development key off 31337."""
    key = read_keystore(keystore_path(config, name), password(config), f"accounts.{name}")
    if chain_id != DEV_CHAIN_ID and key.lower() in _dev_keys():
        raise InputError(
            f"accounts.{name}",
            f"holds one of anvil's public development keys: refused on chain id {chain_id} (only {DEV_CHAIN_ID})",
        )
    return key


def check_dev_funding(config: Config, chain_id: int) -> bool:
    """Whether to top accounts up from anvil's development account; refused on any chain but 31337."""
    if not key_settings(config).dev_funding:
        return False
    if chain_id != DEV_CHAIN_ID:
        raise InputError(
            "keys.dev_funding", f"anvil's development account exists only on chain id {DEV_CHAIN_ID}, not {chain_id}"
        )
    return True


@functools.cache
def _dev_keys() -> frozenset[str]:
    from gridchain.chain.anvil import dev_keys

    return frozenset(k.lower() for k in dev_keys(DEV_KEYS_CHECKED))
