"""`gridchain deploy committee`, from gridchain.toml's `[committee]` (what the root CLI's DEPLOY registry calls):

```toml
[committee]
members = ["0x...", "0x...", "0x..."]   # the LAGs' signing addresses (each LAG keeps its own key), 1 .. 32
rule = "unanimous"                       # PETCON's rule; or "two-thirds" (ceil(2N/3)) or "fixed" (with m)
# m = 2                                  # only with rule = "fixed": signatures an attestation needs, 1 .. N
```

The committee is deployed by `[accounts] owner` (the consortium's administrator; in production a Safe), who may
add and remove members and change the rule later; every such change voids signatures made before it
(docs/committee.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from gridchain.committee.client import CommitteeClient
from gridchain.committee.model import FIXED, MAX_MEMBERS, RULES
from gridchain.config.deploy import Deployed, deploy_once
from gridchain.config.file import Config
from gridchain.config.network import Network
from gridchain.config.record import DeploymentRecord
from gridchain.errors import InputError

OWNER = "owner"  # the [accounts] entry that deploys the committee and administers its membership


@dataclass(frozen=True)
class CommitteeSettings:
    members: tuple[str, ...]
    rule: int
    m: int

    def deploy_settings(self) -> dict:
        """What the committee is deployed from (a change needs `deploy --redeploy`, or the owner's calls)."""
        return {"members": list(self.members), "rule": self.rule, "m": self.m}


def committee_settings(config: Config) -> CommitteeSettings:
    """`[committee]`, every value checked (the section is required: nobody can guess the members)."""
    section = config.section("committee")
    members = section.addresses("members", MAX_MEMBERS, None)  # missing: "must be a list"
    rule = RULES[section.str("rule", "unanimous", choices=tuple(RULES))]
    m = section.int("m", 1, len(members)) if rule == FIXED else 0
    if rule != FIXED and "m" in section.table:
        raise InputError(section.option("m"), 'is only for rule = "fixed"')
    section.done()
    return CommitteeSettings(members, rule, m)


def deploy_committee(config: Config, network: Network, record: DeploymentRecord, redeploy: bool) -> Deployed:
    """The LAG committee of [committee], administered by [accounts] owner."""
    s = committee_settings(config)
    owner = network.address(OWNER)
    args = [list(s.members), s.rule, s.m]
    return deploy_once(network, record, "committee", CommitteeClient, owner, args, s.deploy_settings(), redeploy)


deploy_committee.SECTION = "committee"  # `deploy all` skips the committee when gridchain.toml has no [committee]
