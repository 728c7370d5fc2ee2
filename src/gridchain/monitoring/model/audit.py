"""The monitor's judgement: every attested access record against the consents, and every household's thread
against what the consensus nodes attested.

Two kinds of alert (`Alert.on_chain`):
- a breach the consent contract judges in one transaction (`consent.REASONS`: never granted, another party,
  outside the range, another purpose, after the expiry, after the revocation): the monitor `report`s it, and
  the contract's `Breach` event is the alert;
- what no contract can judge, a notification to the household: a record missing from the thread (a gap in its
  seq numbers or a broken `prev` link among the attested records), a record the processing node shows that no
  attested batch holds (after the grace the consensus nodes have to attest it; the first such record of a
  thread: what follows it diverges too), or a batch whose records do not make its attested root.

`audit` is pure: it takes the grant states as the chain holds them (a `ConsentModel` filled from the contract's
events), the batches the consensus nodes published with their attested roots, and the threads as the processing
node shows them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gridchain.monitoring.model.consent import REASONS, ConsentError, ConsentModel, Grant
from gridchain.monitoring.model.records import ZERO32, Access, RecordBatch

MISSING = "missing record"
BROKEN_LINK = "broken link"
UNATTESTED = "unattested record"
BAD_BATCH = "batch does not make its root"
NOTIFIED = (MISSING, BROKEN_LINK, UNATTESTED, BAD_BATCH)
ANY_TERMS = Grant("0x" + "00" * 20, "0x" + "00" * 20, 0, 0, ZERO32, 0, ZERO32)  # for a grant never submitted


@dataclass(frozen=True)
class Alert:
    """One breach: `kind` is a consent reason (on chain) or one of NOTIFIED (to the household)."""

    kind: str
    household: str
    seq: int | None  # the record's (or the first missing one's)
    detail: str
    record: Access | None = None
    batch: int | None = None  # where the record is attested
    position: int | None = None  # its place in the batch

    @property
    def on_chain(self) -> bool:
        return self.kind not in NOTIFIED

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "household": self.household,
            "seq": self.seq,
            "detail": self.detail,
            "on_chain": self.on_chain,
            "batch": self.batch,
            "record": None if self.record is None else "0x" + self.record.leaf().hex(),
        }


def audit(
    consent: ConsentModel,
    terms: Mapping[bytes, Grant],
    batches: Sequence[tuple[RecordBatch, bytes]],
    threads: Mapping[str, Sequence[Access]] = {},
    pending: Iterable[bytes] = (),
) -> list[Alert]:
    """Every alert, in batch order then by household. `terms`: the grants' terms by id (from `Granted` events);
    `batches`: each published batch with the root attested for its index; `threads`: each household's records
    as the processing node shows them; `pending`: leaves still within the attestation grace (not alerted)."""
    alerts: list[Alert] = []
    attested: dict[str, dict[int, tuple[Access, int, int]]] = defaultdict(dict)
    for batch, root in batches:
        if not batch.records or batch.root() != root:
            alerts.append(Alert(BAD_BATCH, "", None, f"batch {batch.index}: its records do not make its root"))
            continue
        for position, r in enumerate(batch.records):
            attested[r.household.lower()][r.seq] = (r, batch.index, position)
            reason = _judge(consent, terms, r)
            if reason:
                alerts.append(
                    Alert(REASONS[reason], r.household.lower(), r.seq, _why(r, reason, terms), r, batch.index, position)
                )
    for household, by_seq in sorted(attested.items()):
        alerts.extend(_links(household, by_seq))
    grace = set(pending)
    for household, records in sorted(threads.items()):
        seen = attested.get(household.lower(), {})
        for r in records:  # the first record the log does not hold as shown: one alert, what follows diverges too
            held = seen.get(r.seq)
            if r.leaf() not in grace and (held is None or held[0].leaf() != r.leaf()):
                alerts.append(
                    Alert(
                        UNATTESTED,
                        household.lower(),
                        r.seq,
                        f"record #{r.seq} shown by node {r.node} is in no attested batch",
                        r,
                    )
                )
                break
    return alerts


def _judge(consent: ConsentModel, terms: Mapping[bytes, Grant], r: Access) -> int:
    g = terms.get(r.grant)
    if g is None:  # never granted: the contract reports it with any terms
        return consent.breach_of(r, ANY_TERMS) if consent.state(r.grant).granted_at == 0 else 0
    try:
        return consent.breach_of(r, g)
    except ConsentError:
        return 0


def _links(household: str, by_seq: Mapping[int, tuple[Access, int, int]]) -> list[Alert]:
    """Gaps and broken links among a household's attested records (seq 0 .. the highest)."""
    alerts = []
    top = max(by_seq)
    missing = [s for s in range(top + 1) if s not in by_seq]
    if missing:
        alerts.append(
            Alert(
                MISSING,
                household,
                missing[0],
                f"records {_ranges(missing)} of {household}'s thread are in no attested batch",
            )
        )
    for seq, (r, batch, position) in sorted(by_seq.items()):
        before = by_seq.get(seq - 1)
        expected = ZERO32 if seq == 0 else (before[0].leaf() if before else None)
        if expected is not None and r.prev != expected:
            alerts.append(
                Alert(
                    BROKEN_LINK, household, seq, f"record #{seq} does not link to record #{seq - 1}", r, batch, position
                )
            )
    return alerts


def _ranges(values: list[int]) -> str:
    out, start = [], values[0]
    for a, b in zip(values, values[1:] + [None]):
        if b != a + 1:
            out.append(f"#{start}" if start == a else f"#{start}-#{a}")
            if b is not None:
                start = b
    return ", ".join(out)


def _why(r: Access, reason: int, terms: Mapping[bytes, Grant]) -> str:
    g = terms.get(r.grant)
    what = f"node {r.node} served {r.grantee} days {r.first_day}-{r.last_day}"
    if g is None:
        return f"{what} under grant 0x{r.grant.hex()[:12]}..., which the household never granted"
    return f"{what} at {r.time} under grant 0x{r.grant.hex()[:12]}... ({REASONS[reason]})"
