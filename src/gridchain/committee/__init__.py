"""Committee attestations: an M-of-N rule of member signatures, checked by a contract, that commits 32-byte digests
of typed results (contracts/lag_committee.vy). PETCON's local aggregators attest each auction's final result with
it; the consensus nodes of issue 21 will attest theirs.

Feature: gas > client > model inside; uses no other feature. The market and monitoring use it through its package
root.
"""

from gridchain.committee.client import CommitteeClient, kind_of

__all__ = ["CommitteeClient", "kind_of"]
