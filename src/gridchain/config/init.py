"""What `gridchain init` hands each feature so it can write its part of a new pilot: the folder, the keystore
password and cost, and the pilot's size. A feature's `init` hook writes its files and returns its TOML sections.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from gridchain.crypto.keystore import new_key, write_keystore, write_private


@dataclass(frozen=True)
class InitOptions:
    dir: Path
    password: str
    scrypt_n: int
    members: int  # ESUs to create (identity keystores and the members file)
    port_base: int  # services listen on 127.0.0.1:port_base + k
    slot_length_s: int = 60  # the community's slot length [s]
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (name, comment) a feature added to [accounts]

    def keystore(self, relative: str) -> str:
        """A new key, encrypted into `dir/relative`; returns its address."""
        return write_keystore(self.dir / relative, new_key(), self.password, self.scrypt_n)

    def account(self, name: str, comment: str) -> str:
        """A funded account of the feature's: a keystore `keys/<name>.json` listed in [accounts]; its address."""
        self.accounts.append((name, comment))
        return self.keystore(f"keys/{name}.json")

    def secret(self, relative: str) -> None:
        """A new random token (an admin token), readable by its owner only, in `dir/relative`."""
        write_private(self.dir / relative, secrets.token_hex(24) + "\n")
