"""A consent contract over a real access log, both with their twins (tests/monitoring/consent/harness.py and
tests/monitoring/log/harness.py): households' threads of access records, batches attested by the log's nodes,
and each record's place in the log (`where`) as `report` takes it."""

from __future__ import annotations

from eth_utils import keccak

from gridchain.monitoring.model.consent import Grant, InLog
from gridchain.monitoring.model.records import Access, RecordBatch, Thread, head_of, next_record
from tests.monitoring.consent.harness import BILLING, DAY, Consent, address
from tests.monitoring.log.harness import Log

NODE = "0x" + "cc" * 20


class World:
    """Household keys 0 .. 3, grantees 4 .. 7 (the consent harness's pool); the log's nodes: its keys 0 .. 2."""

    def __init__(self, n: int = 3, m: int = 2):
        self.log = Log(n, m)
        self.k = Consent(self.log.address, self.log)
        self.threads: dict[str, Thread] = {}
        self.batches: list[RecordBatch] = []
        self.roots: list[bytes] = []

    def grant(self, household: int = 0, grantee: int = 4, **kw) -> tuple[Grant, bytes]:
        g = self.k.terms(household, grantee, **kw)
        return g, self.k.grant(self.k.stranger, g, self.k.sign_grant(g, household))

    def access(self, g: Grant | None, household: int | None = None, grant: bytes | None = None, **kw) -> Access:
        """The next record of a household's thread, by default an honest read of the grant's first day."""
        h = address(household) if household is not None else g.household
        thread = self.threads.setdefault(h.lower(), Thread(h))
        fields = dict(
            node=NODE,
            grantee=g.grantee if g else address(4),
            grant=grant if grant is not None else self.k.model.grant_id(g),
            first_day=g.first_day if g else 0,
            last_day=g.first_day if g else 0,
            purpose=g.purpose if g else BILLING,
            time=self.k.now,
            data_hash=keccak(text=str(kw)),
        )
        return next_record(thread, **{**fields, **kw})

    def attest(self, records: list[Access]) -> RecordBatch:
        batch = RecordBatch(self.log.model.batches, tuple(records))
        self.log.honest(batch.root(), len(records))
        self.batches.append(batch)
        self.roots.append(batch.root())
        return batch

    def where(self, record: Access, to: int | None = None) -> InLog:
        """The record's place: its proof, its batch and the roots after it up to batch count `to` (now's)."""
        for batch in self.batches:
            leaves = batch.leaves()
            if record.leaf() in leaves:
                i = leaves.index(record.leaf())
                end = len(self.roots) if to is None else to
                return InLog(
                    tuple(batch.proof(i)),
                    batch.index,
                    head_of(self.roots[: batch.index]),
                    self.roots[batch.index],
                    tuple(self.roots[batch.index + 1 : end]),
                )
        raise KeyError("record in no batch")

    def later(self, days: float) -> None:
        self.k.travel_to(self.k.now + int(days * DAY))
