"""A LAG of the committee: it checks a published result itself and signs the attestation only if it holds.

Each LAG audits the document (`audit.audit`: constraints, budget balance in dollars and integers, the final
round's KKT conditions, the entries against the record, the digest) and signs (kind, round, digest) with its
member key under the committee's epoch (`CommitteeClient.sign`). A LAG that finds a violation refuses
(`Refused` listing them), so a tampered document gets no honest signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gridchain.committee.client import CommitteeClient, kind_of
from gridchain.crypto.keys import Key, address_of
from gridchain.errors import Refused
from gridchain.market.petcon.audit import audit
from gridchain.market.petcon.result import KIND


@dataclass(frozen=True)
class Lag:
    """A committee member: its key (the member address is the key's)."""

    key: Key

    @property
    def address(self) -> str:
        return address_of(self.key)

    def review(self, document: dict[str, Any]) -> list[str]:
        """The violations this LAG finds (InputError if the document does not parse)."""
        return audit(document)

    def sign(self, committee: CommitteeClient, document: dict[str, Any]) -> bytes:
        """Its signature of the document's digest for the auction's round, or Refused listing what fails."""
        violations = self.review(document)
        if violations:
            raise Refused(f"{len(violations)} violation(s): {'; '.join(violations[:3])}", "document")
        digest = bytes.fromhex(document["digest"].removeprefix("0x"))
        return committee.sign(self.key, kind_of(KIND), document["round"], digest)


def attest(committee: CommitteeClient, sender: str, lags: list[Lag], document: dict[str, Any]) -> dict[str, Any]:
    """Collect the LAGs' signatures (a refusal is recorded, not fatal) and submit them if they reach the rule's
    threshold (the contract checks it again). Returns {"signed", "refused", "gas"} (gas None: not submitted)."""
    signatures, refused = [], {}
    for lag in lags:
        try:
            signatures.append(lag.sign(committee, document))
        except Refused as e:
            refused[lag.address] = e.reason
    answer = {"signed": len(signatures), "refused": refused, "gas": None}
    if len(signatures) < committee.threshold():
        return answer
    digest = bytes.fromhex(document["digest"].removeprefix("0x"))
    receipt = committee.attest(sender, kind_of(KIND), document["round"], digest, signatures)
    return answer | {"gas": receipt.gas_used}
