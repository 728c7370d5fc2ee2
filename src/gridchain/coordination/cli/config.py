"""The coordination sections of gridchain.toml: `[community]`, and what `gridchain init` writes for them.

```toml
[community]
slot_length_s = 60            # seconds per slot (the contract's SLOT_LENGTH)
beta1_pm = 500                # weight of the state of charge in the priority [per-mille] (Baza et al.'s beta1)
initial_capacity_w = 50000    # C - P_R until the utility posts another [W]
members = "members.txt"       # the ESUs' identity addresses, one per line (# comments allowed)
quota = 4                     # tokens per member and epoch (UTC day)
lookahead_epochs = 1          # epochs ahead of today for which keys and tokens are given out
issuance_per_minute = 60      # issuance requests (POST /tokens) per member and minute; more get 429
```

The members file seeds the utility's store the first time `gridchain utility serve` serves the community;
from then on the store holds the members (the admin API changes them) and the file is its export.

Only the CLI reads the config: parties and services take plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gridchain.checks import parse_address
from gridchain.config.file import Config
from gridchain.coordination.model.request import DEFAULT_BETA1_PM
from gridchain.errors import InputError

MAX_SLOT_LENGTH_S = 86_400
DEFAULT_ISSUANCE_PER_MINUTE = 60  # generous: a wallet asks once per epoch, a retry or two at most


@dataclass(frozen=True)
class Community:
    slot_length_s: int
    beta1_pm: int
    initial_capacity_w: int
    members_file: Path
    quota: int
    lookahead_epochs: int
    issuance_per_minute: int = DEFAULT_ISSUANCE_PER_MINUTE

    def deploy_settings(self) -> dict:
        """What the coordinator is deployed from (a change needs `deploy --redeploy`)."""
        return {"slot_length_s": self.slot_length_s, "beta1_pm": self.beta1_pm}


def community(config: Config) -> Community:
    section = config.section("community")
    out = Community(
        section.int("slot_length_s", 1, MAX_SLOT_LENGTH_S),
        section.int("beta1_pm", 0, 1000, DEFAULT_BETA1_PM),
        section.int("initial_capacity_w", 0, 2**64 - 1),
        section.path("members", "members.txt"),
        section.int("quota", 1, 10_000, 4),
        section.int("lookahead_epochs", 0, 30, 1),
        section.int("issuance_per_minute", 1, 1_000_000, DEFAULT_ISSUANCE_PER_MINUTE),
    )
    section.done()
    return out


def read_members(path: Path) -> list[str]:
    """The identity addresses in a members file: one per line, blank lines and `#` comments ignored."""
    try:
        lines = path.read_text().splitlines()
    except OSError as e:
        raise InputError("community.members", f"cannot read {str(path)!r}: {e.strerror or e}") from None
    out = []
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip()
        if text:
            out.append(parse_address(f"community.members ({path.name}:{number})", text))
    return out


def write_members(path: Path, members: list[str]) -> None:
    """Rewrite a members file with `members`, atomically (a crash leaves the old list or the new one)."""
    from gridchain.crypto.keystore import write_private

    header = "# the community's ESUs: identity addresses, one per line (rewritten by `gridchain utility serve`)\n"
    write_private(path, header + "".join(f"{m}\n" for m in members))
