"""What the utility's issuance desk keeps, behind one interface: its communities and their members, one RSA key
per (community, epoch), the tokens issued per (community, epoch, identity), and the record of every issuance.

`IssuerBook` is the interface the `Issuer` works on; `MemoryBook` keeps it in memory (demos, experiments and
tests in one process); `gridchain.coordination.anonymous.parties.issuer_store.IssuerStore` keeps it in the
deployment's database (what `gridchain utility serve` runs on, so that a restart loses nothing). Both are safe
to call from several threads: `take` checks the quota and counts in one step, so two concurrent requests of
one member never both pass a quota that fits one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from gridchain.crypto import blind


@dataclass(frozen=True)
class IssuanceRecord:
    """One issuance as the utility sees it: everything it could use to link tokens to ESUs."""

    identity: str
    community: str
    epoch: int
    blinded: tuple[int, ...]
    time: float  # unix time [s]


class OverQuota(Exception):
    """`take` refused: the member has `used` tokens of the epoch already and asks for more than is left."""

    def __init__(self, used: int) -> None:
        super().__init__(used)
        self.used = used


class NotMember(Exception):
    """`take` refused: the identity is not (or no longer) a member of the community."""


class IssuerBook(Protocol):
    """The issuer's state (addresses checksummed by the caller)."""

    def add_community(self, community: str, seed: Iterable[str] = ()) -> bool:
        """Serve `community`; the first time only (True), admit the members `seed` with it."""

    def communities(self) -> list[str]: ...

    def members(self, community: str) -> set[str]: ...

    def is_member(self, community: str, identity: str) -> bool: ...

    def admit(self, community: str, identity: str) -> bool:
        """Admit `identity` (False: it was a member already)."""

    def remove(self, community: str, identity: str) -> bool:
        """Remove `identity` (False: it was not a member)."""

    def epoch_key(self, community: str, epoch: int, make: Callable[[], blind.PrivateKey]) -> blind.PrivateKey:
        """The (community, epoch) key: the one kept, else `make()`'s, kept from then on (one per slot, ever)."""

    def used(self, community: str, epoch: int, identity: str) -> int:
        """Tokens issued to `identity` for (community, epoch)."""

    def take(self, record: IssuanceRecord, quota: int) -> int:
        """Count `record`'s tokens against `quota` and keep `record`, in one step; the new count. Raises
        NotMember or OverQuota (nothing counted, nothing kept)."""

    def records(self) -> list[IssuanceRecord]:
        """Every issuance, oldest first."""

    def counts(self) -> dict[tuple[str, int, str], int]:
        """Tokens issued per (community, epoch, identity)."""


@dataclass
class MemoryBook:
    """The issuer's state in memory: lost when the process ends."""

    members_of: dict[str, set[str]] = field(default_factory=dict)  # community -> identities
    keys: dict[tuple[str, int], blind.PrivateKey] = field(default_factory=dict)
    issued: dict[tuple[str, int, str], int] = field(default_factory=dict)
    view: list[IssuanceRecord] = field(default_factory=list)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def add_community(self, community: str, seed: Iterable[str] = ()) -> bool:
        with self._lock:
            if community in self.members_of:
                return False
            self.members_of[community] = set(seed)
            return True

    def communities(self) -> list[str]:
        with self._lock:
            return sorted(self.members_of)

    def members(self, community: str) -> set[str]:
        with self._lock:
            return set(self.members_of.get(community, ()))

    def is_member(self, community: str, identity: str) -> bool:
        with self._lock:
            return identity in self.members_of.get(community, ())

    def admit(self, community: str, identity: str) -> bool:
        with self._lock:
            current = self.members_of.setdefault(community, set())
            changed = identity not in current
            current.add(identity)
            return changed

    def remove(self, community: str, identity: str) -> bool:
        with self._lock:
            current = self.members_of.setdefault(community, set())
            changed = identity in current
            current.discard(identity)
            return changed

    def epoch_key(self, community: str, epoch: int, make: Callable[[], blind.PrivateKey]) -> blind.PrivateKey:
        with self._lock:  # the service and the utility's loop ask at once: one key per (community, epoch)
            if (community, epoch) not in self.keys:
                self.keys[(community, epoch)] = make()
            return self.keys[(community, epoch)]

    def used(self, community: str, epoch: int, identity: str) -> int:
        with self._lock:
            return self.issued.get((community, epoch, identity), 0)

    def take(self, record: IssuanceRecord, quota: int) -> int:
        slot = (record.community, record.epoch, record.identity)
        with self._lock:
            if record.identity not in self.members_of.get(record.community, ()):
                raise NotMember(record.identity)
            used = self.issued.get(slot, 0)
            if used + len(record.blinded) > quota:
                raise OverQuota(used)
            self.issued[slot] = used + len(record.blinded)
            self.view.append(record)
            return self.issued[slot]

    def records(self) -> list[IssuanceRecord]:
        with self._lock:
            return list(self.view)

    def counts(self) -> dict[tuple[str, int, str], int]:
        with self._lock:
            return dict(self.issued)
