"""The utility's member roll for one community: who may obtain tokens, changed at run time by the operator.

The roll is the issuer's (off chain): in the anonymous mode the chain never sees an identity, so a change is
not mirrored on the coordinator's `set_member` list (which would publish the community's identities and serve
only the non-anonymous mode). A change is made in the issuer's book (the deployment's store, under
`gridchain utility serve`) before it is answered, so a restart keeps it; after it, the whole list is handed to
`export` (the members file, rewritten atomically: a copy for the operator to read, not the truth). Removing a
member stops new issuance at once; tokens it already holds stay valid for their epoch (they are unlinkable, so
nobody can revoke them).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from gridchain.checks import parse_address
from gridchain.coordination.anonymous.parties.issuer import Issuer


@dataclass
class MemberRoll:
    """Adds and removes `community`'s members in `issuer`, exporting the whole list after each change."""

    issuer: Issuer
    community: str
    export: Callable[[list[str]], None] | None = None  # writes the list (sorted identities), e.g. the members file
    lock: threading.Lock = field(default_factory=threading.Lock)

    def members(self) -> list[str]:
        return sorted(self.issuer.book.members(self.community))

    def add(self, identity: str) -> bool:
        """Admit `identity` (checked, errors name `identity`); False if it was a member already."""
        identity = parse_address("identity", identity)
        with self.lock:  # exports in the order of the changes
            changed = self.issuer.admit(self.community, identity)
            self._export()
            return changed

    def remove(self, identity: str) -> bool:
        """Remove `identity`; False if it was not a member."""
        identity = parse_address("identity", identity)
        with self.lock:
            changed = self.issuer.remove(self.community, identity)
            self._export()
            return changed

    def _export(self) -> None:
        """The list as it is now (also after a change that changed nothing: a stale export is healed)."""
        if self.export is not None:
            self.export(self.members())
