"""The consent contract (contracts/data_access.vy) through any gateway: grants signed with the household's key,
revocations, breach reports, and the chain's grants read back as the twin's state (what the monitor judges by)."""

from __future__ import annotations

from eth_utils import to_checksum_address

from gridchain.chain.client import ContractClient
from gridchain.chain.gateway import Gateway, Receipt
from gridchain.crypto import eip712
from gridchain.crypto.keys import Key, sign_digest
from gridchain.monitoring.model.consent import ConsentModel, Grant, GrantState, InLog, Revoke, domain
from gridchain.monitoring.model.records import Access

CONTRACT = "data_access"
MASK64 = 2**64 - 1


def grant_of(args: dict) -> Grant:
    """A `Granted` event's terms."""
    return Grant(
        **{
            "household": to_checksum_address(str(args["household"])),
            "grantee": to_checksum_address(str(args["grantee"])),
            "first_day": int(args["firstDay"]),
            "last_day": int(args["lastDay"]),
            "purpose": bytes(args["purpose"]),
            "expiry": int(args["expiry"]),
            "salt": bytes(args["salt"]),
        }
    )


class ConsentClient(ContractClient):
    CONTRACT = CONTRACT

    @classmethod
    def deploy(cls, gateway: Gateway, deployer: str, access_log: str) -> tuple[ConsentClient, Receipt]:
        return cls._deploy(gateway, deployer, [access_log])

    # -- the household ------------------------------------------------------------------------------------
    def domain(self) -> eip712.Domain:
        return domain(self.chain_id(), self.address)

    def grant_id(self, g: Grant) -> bytes:
        return eip712.digest(self.domain(), g)

    def sign_grant(self, key: Key, g: Grant) -> bytes:
        """The household's signature of `g` (65 bytes, v = 27/28)."""
        return sign_digest(key, self.grant_id(g))

    def sign_revoke(self, key: Key, g: Grant) -> bytes:
        return sign_digest(key, eip712.digest(self.domain(), Revoke(self.grant_id(g))))

    def grant(self, sender: str, g: Grant, signature: bytes) -> Receipt:
        return self._tx("grant", [g.as_tuple(), signature], sender)

    def revoke(self, household: str, g: Grant) -> Receipt:
        return self._tx("revoke", [g.as_tuple()], household)

    def revoke_signed(self, sender: str, g: Grant, signature: bytes) -> Receipt:
        return self._tx("revoke_signed", [g.as_tuple(), signature], sender)

    # -- breaches -----------------------------------------------------------------------------------------
    def breach_of(self, record: Access, g: Grant) -> int:
        return int(self.view("breach_of", record.as_tuple(), g.as_tuple()))

    def report(self, sender: str, record: Access, g: Grant, where: InLog) -> Receipt:
        return self._tx("report", [record.as_tuple(), g.as_tuple(), where.as_tuple()], sender)

    # -- reads --------------------------------------------------------------------------------------------
    def state(self, gid: bytes) -> GrantState:
        word = int(self.view("grants", gid))
        return GrantState(word & MASK64, (word >> 64) & MASK64, word >> 128)

    def reported(self, leaf: bytes) -> bool:
        return bool(self.view("reported", leaf))

    def access_log(self) -> str:
        return to_checksum_address(str(self.view("LOG")))

    def mirror(self, from_block: int = 0) -> ConsentModel:
        """The twin holding every grant word the chain holds for the ids named in its events (what `audit`
        judges by)."""
        model = ConsentModel(self.chain_id(), self.address.lower())
        ids = {bytes(e.args["grant"]) for name in ("Granted", "Revoked") for e in self.events(name, from_block)}
        for gid in ids:
            model.grants[gid] = self.state(gid)
        return model

    def grants(self, from_block: int = 0) -> dict[bytes, Grant]:
        """Every submitted grant's terms, by id (from `Granted` events)."""
        return {bytes(e.args["grant"]): grant_of(e.args) for e in self.events("Granted", from_block)}

    def events(self, name: str, from_block: int = 0):
        return self.gateway.events(self.artifact, self.address, name, from_block)
