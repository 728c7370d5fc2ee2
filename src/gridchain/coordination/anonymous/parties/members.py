"""The utility's member roll for one community: who may obtain tokens, changed at run time by the operator.

The roll is the issuer's (off chain): in the anonymous mode the chain never sees an identity, so a change is
not mirrored on the coordinator's `set_member` list (which would publish the community's identities and serve
only the non-anonymous mode). Every change is saved through `save` (the members file, written atomically)
before it is answered, so a restart keeps it. Removing a member stops new issuance at once; tokens it already
holds stay valid for their epoch (they are unlinkable, so nobody can revoke them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gridchain.checks import parse_address
from gridchain.coordination.anonymous.parties.issuer import Issuer


@dataclass
class MemberRoll:
    """Adds and removes `community`'s members in `issuer`, saving the whole list after each change."""

    issuer: Issuer
    community: str
    save: Callable[[list[str]], None]  # writes the list (sorted identities) durably
    lock: threading.Lock = field(default_factory=threading.Lock)

    def members(self) -> list[str]:
        with self.lock:
            return sorted(self.issuer.members.get(self.community, set()))

    def add(self, identity: str) -> bool:
        """Admit `identity` (checked, errors name `identity`); False if it was a member already."""
        identity = parse_address("identity", identity)
        with self.lock:
            current = self.issuer.members.setdefault(self.community, set())
            if identity in current:
                return False
            self.save(sorted(current | {identity}))  # saved first: a failed write changes nothing
            current.add(identity)
            return True

    def remove(self, identity: str) -> bool:
        """Remove `identity`; False if it was not a member."""
        identity = parse_address("identity", identity)
        with self.lock:
            current = self.issuer.members.setdefault(self.community, set())
            if identity not in current:
                return False
            self.save(sorted(current - {identity}))
            current.discard(identity)
            return True
