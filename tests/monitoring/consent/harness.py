"""The consent contract's harness: contracts/data_access.vy deployed with its twin
(gridchain.monitoring.model.consent), every call to both through `Mirrored.mirror`; after each success `check`
compares every grant word the twin knows, every reported record and the events.

`report` needs an access log: the harness takes one (`log_address`, and `log_view`, anything with `includes`)
or deploys `stand_in`, any contract (grants and revocations never read the log)."""

from __future__ import annotations

from functools import cache

import boa
from eth_utils import keccak

from gridchain.crypto import eip712
from gridchain.crypto.keys import address_of, sign_digest
from gridchain.monitoring.model.consent import (
    ConsentError,
    ConsentModel,
    Grant,
    GrantState,
    InLog,
    Revoke,
)
from gridchain.monitoring.model.records import Access, purpose_tag
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import Mirrored
from tests.support.mirrored import refused as _refused

CONTRACT = CONTRACTS / "data_access.vy"
EVENTS = ("Granted", "Revoked", "Breach")
DAY = 86_400
BILLING = purpose_tag("billing")
RESEARCH = purpose_tag("research")


@cache
def key(i: int) -> bytes:
    """The i-th key of a fixed pool: households and grantees."""
    return keccak(text=f"consent test key {i}")


@cache
def address(i: int) -> str:
    return address_of(key(i)).lower()


def refused(reason: str, call, *args, **kwargs) -> None:
    with _refused(reason, ConsentError):
        call(*args, **kwargs)


@cache
def _empty():
    return boa.loads_partial("@external\ndef f():\n    pass\n", name="empty")


def stand_in() -> str:
    """Any contract, as the log of a harness that never reports (grants and revocations never read it)."""
    return str(_empty().deploy().address)


class Consent(Mirrored):
    """A deployed data_access with its ConsentModel twin."""

    ERROR = ConsentError
    EVENTS = EVENTS

    def __init__(self, log_address: str, log_view=None):
        self.c = load(CONTRACT).deploy(log_address)
        self.address = str(self.c.address)
        self.log_view = log_view
        self.chain_id = self.c.eip712Domain()[3]
        self.model = ConsentModel(self.chain_id, self.address.lower())
        self.init_accounts()
        self.events: dict[str, list[dict]] = {}
        self.stranger = self.new_account().address

    # -- terms and signatures ---------------------------------------------------------------------------------
    def terms(
        self,
        household: int = 0,
        grantee: int = 1,
        first_day: int | None = None,
        days: int = 30,
        purpose: bytes = BILLING,
        expiry: int | None = None,
        salt: bytes = b"\x00" * 32,
    ) -> Grant:
        first = self.now // DAY - days if first_day is None else first_day
        return Grant(
            address(household),
            address(grantee),
            first,
            first + days - 1,
            purpose,
            self.now + 30 * DAY if expiry is None else expiry,
            salt,
        )

    def sign_grant(self, g: Grant, signer: int = 0) -> bytes:
        return sign_digest(key(signer), self.model.grant_id(g))

    def sign_revoke(self, g: Grant, signer: int = 0) -> bytes:
        return sign_digest(key(signer), eip712.digest(self.model.domain(), Revoke(self.model.grant_id(g))))

    # -- calls (sender first, as the model's) -------------------------------------------------------------------
    def grant(self, sender, g: Grant, signature: bytes) -> bytes:
        now = self.now
        gid, out = self.mirror(
            sender, lambda: self.model.grant(now, g, signature), lambda: self.c.grant(g.as_tuple(), signature)
        )
        assert out == gid
        ev = {
            "grant": gid,
            "household": g.household.lower(),
            "grantee": g.grantee.lower(),
            "firstDay": g.first_day,
            "lastDay": g.last_day,
            "purpose": g.purpose,
            "expiry": g.expiry,
            "salt": g.salt,
        }
        assert self.events["Granted"] == [ev]
        self.check()
        return gid

    def revoke(self, sender, g: Grant) -> None:
        now = self.now
        self.mirror(sender, lambda: self.model.revoke(now, str(sender), g), lambda: self.c.revoke(g.as_tuple()))
        assert self.events["Revoked"] == [{"grant": self.model.grant_id(g), "household": g.household.lower()}]
        self.check()

    def revoke_signed(self, sender, g: Grant, signature: bytes) -> None:
        now = self.now
        self.mirror(
            sender,
            lambda: self.model.revoke_signed(now, g, signature),
            lambda: self.c.revoke_signed(g.as_tuple(), signature),
        )
        assert self.events["Revoked"] == [{"grant": self.model.grant_id(g), "household": g.household.lower()}]
        self.check()

    def report(self, sender, record: Access, g: Grant, where: InLog) -> int:
        reason, out = self.mirror(
            sender,
            lambda: self.model.report(self.log_view, record, g, where),
            lambda: self.c.report(record.as_tuple(), g.as_tuple(), where.as_tuple()),
        )
        assert out == reason
        assert self.events["Breach"] == [
            {
                "record": record.leaf(),
                "household": record.household.lower(),
                "grantee": record.grantee.lower(),
                "grant": record.grant,
                "reason": reason,
            }
        ]
        self.check()
        return reason

    # -- comparing ----------------------------------------------------------------------------------------------
    def check(self) -> None:
        for gid, st in self.model.grants.items():
            assert self.c.grants(gid) == st.word, gid.hex()
        for leaf in self.model.reported:
            assert self.c.reported(leaf)
        self.model.check_invariant()

    def state(self, gid: bytes) -> GrantState:
        return self.model.state(gid)
