"""An ESU wallet's state: its unused tokens and every request it keeps until the chain confirms it.

One object (`WalletState`) behind `load` / `save`, so that a database can take the file's place (issue 17).
The file holds secrets (each token's one-time pseudonym key and the token itself): it is written atomically and
readable by its owner only (`write_private`). The identity key is not here: it stays in its keystore.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from gridchain.crypto.keystore import read_json_file, write_private
from gridchain.errors import InputError

VERSION = 1
OPEN = ("new", "unsent", "queued", "submitted", "late")  # statuses `status` still follows
"""new: signed, not yet sent; unsent: the relayer could not be reached; queued, submitted: the relayer's
ticket; late: it missed its slot (refused, failed as late, or not on chain after the slot closed): re-signed for
the current slot with the same token. Final: confirmed (its arrival checked on chain), failed (refused for
another reason), expired (its token's epoch is over)."""


@dataclass
class Token:
    """A one-time pseudonym with the utility's blind token on it, for one community and epoch."""

    community: str
    epoch: int
    key: str  # the pseudonym's private key, 0x hex
    address: str
    token: str  # 0x hex of the 2048-bit token


@dataclass
class KeptRequest:
    """A request and the token it spends, kept until its arrival is confirmed on chain."""

    number: int  # the wallet's own running number (never sent anywhere)
    token: Token
    demand_w: int
    soc_pm: int
    tcc: int
    slot: int  # the slot it is signed for now
    status: str = "new"
    ticket: str | None = None  # the relayer's ticket id (a secret: whoever holds it may read it)
    arrival: int | None = None
    reason: str | None = None
    slots_tried: list[int] = field(default_factory=list)


@dataclass
class WalletState:
    """What an ESU's wallet holds on disk (`path`): tokens, kept requests, tokens obtained per epoch."""

    path: Path
    tokens: list[Token] = field(default_factory=list)
    requests: list[KeptRequest] = field(default_factory=list)
    obtained: dict[str, int] = field(default_factory=dict)  # "<community>/<epoch>" -> tokens obtained

    @classmethod
    def load(cls, path: Path, field_name: str = "--wallet") -> WalletState:
        """The state at `path` (empty if the file does not exist yet); an unreadable file names `field_name`."""
        data = read_json_file(path, field_name, "the wallet state")
        if data is None:
            return cls(path)
        try:
            return cls(
                path,
                [Token(**t) for t in data["tokens"]],
                [KeptRequest(**{**r, "token": Token(**r["token"])}) for r in data["requests"]],
                {str(k): int(v) for k, v in data["obtained"].items()},
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise InputError(field_name, f"{str(path)!r} is not a wallet state ({e})") from None

    def save(self) -> None:
        data = {
            "version": VERSION,
            "tokens": [asdict(t) for t in self.tokens],
            "requests": [asdict(r) for r in self.requests],
            "obtained": self.obtained,
        }
        write_private(self.path, json.dumps(data, indent=1) + "\n")

    def unused(self, community: str, epoch: int) -> list[Token]:
        return [t for t in self.tokens if t.community == community and t.epoch == epoch]

    def take(self, community: str, epoch: int) -> Token | None:
        """Remove and return an unused token of (community, epoch), if there is one."""
        left = self.unused(community, epoch)
        if not left:
            return None
        self.tokens.remove(left[0])
        return left[0]

    def keep(self, token: Token, demand_w: int, soc_pm: int, tcc: int, slot: int) -> KeptRequest:
        number = max((r.number for r in self.requests), default=0) + 1
        kept = KeptRequest(number, token, demand_w, soc_pm, tcc, slot)
        self.requests.append(kept)
        return kept

    def count_obtained(self, community: str, epoch: int) -> int:
        return self.obtained.get(f"{community}/{epoch}", 0)

    def add_obtained(self, community: str, epoch: int, tokens: list[Token]) -> None:
        self.tokens += tokens
        key = f"{community}/{epoch}"
        self.obtained[key] = self.obtained.get(key, 0) + len(tokens)
