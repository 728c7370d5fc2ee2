"""The parties of consumer-controlled monitoring, each from its own keys and the chain:

- `Household`: signs grants (and revocations) of its data; its meter-days are sealed to it (`vault`).
- `Grantee`: a utility, researcher or aggregator; asks a processing node for days of a household's data under
  a grant, by a signed `DataRequest`.
- `ProcessingNode`: serves sealed meter-days to a grantee whose grant the chain holds (submitted, not revoked,
  not expired, the days and the purpose the grant's), and writes every access it serves as a record in the
  household's thread (`records`), for the consensus nodes.
- `ConsensusNode`: signs a batch of records only if every record continues its household's thread as the
  attested log has it (no gap, no changed link, no time going back); M of N such signatures attest the batch on
  contracts/access_log.vy (`attest_batch`: anyone may submit them).
- `Monitor`: judges every attested record against the consents and every thread against the log
  (`model.audit`); reports on chain what the contract can judge (`Breach` events, `report_alert`: the durable
  service's too, gridchain.monitoring.service) and notifies the household of the rest, each alert once.

Times are unix seconds from the caller's clock (the chain's in the scenarios).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from eth_utils import keccak

from gridchain.chain.gateway import ChainRevert, Receipt
from gridchain.crypto import eip712
from gridchain.crypto.keys import Key, address_of, recover_digest, sign_digest
from gridchain.errors import Refused
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.model.audit import ANY_TERMS, Alert, audit
from gridchain.monitoring.model.consent import Grant, InLog
from gridchain.monitoring.model.records import (
    ZERO32,
    Access,
    RecordBatch,
    Thread,
    head_of,
    next_record,
)

FRESH_S = 300  # a data request is served at most this long after it was signed
MAX_LATER = 256  # data_access.vy's bound on the roots after a reported record's batch


class AccessRefused(Refused):
    """A processing node will not serve a request (the reason names what failed)."""


class BatchRefused(Refused):
    """A consensus node will not sign a batch (the reason names the record and what is wrong)."""


@dataclass(frozen=True)
class DataRequest(eip712.TypedStruct):
    """A grantee's request for days of a household's data under a grant, signed in the consent contract's domain."""

    TYPE = "DataRequest(bytes32 grant,uint64 firstDay,uint64 lastDay,bytes32 purpose,uint64 time)"

    grant: bytes
    first_day: int
    last_day: int
    purpose: bytes
    time: int


class Archive(Protocol):
    def days(self, household: str, first_day: int, last_day: int) -> list[bytes]:
        """The household's sealed meter-days in the range, as stored (what is served and hashed)."""
        ...


@dataclass
class Household:
    key: Key
    address: str = ""

    def __post_init__(self) -> None:
        self.address = address_of(self.key)

    def grant(self, consent: ConsentClient, sender: str, g: Grant) -> bytes:
        """Sign `g` and have `sender` (the grantee, say) submit it; the grant's id."""
        consent.grant(sender, g, consent.sign_grant(self.key, g))
        return consent.grant_id(g)

    def revoke(self, consent: ConsentClient, sender: str, g: Grant) -> None:
        consent.revoke_signed(sender, g, consent.sign_revoke(self.key, g))


@dataclass
class Grantee:
    key: Key
    address: str = ""

    def __post_init__(self) -> None:
        self.address = address_of(self.key)

    def request(self, domain: eip712.Domain, gid: bytes, first_day: int, last_day: int, purpose: bytes, now: int):
        r = DataRequest(gid, first_day, last_day, purpose, now)
        return r, sign_digest(self.key, eip712.digest(domain, r))


@dataclass(frozen=True)
class Served:
    blobs: tuple[bytes, ...]
    record: Access


class ProcessingNode:
    """Serves sealed days under grants the chain holds; every access becomes the household's next record."""

    def __init__(self, key: Key, consent: ConsentClient, archive: Archive, clock: Callable[[], int]) -> None:
        self.key = key
        self.address = address_of(key)
        self.consent = consent
        self.archive = archive
        self.clock = clock
        self.threads: dict[str, Thread] = {}
        self.outbox: list[Access] = []  # recorded, not yet handed to the consensus nodes

    def thread(self, household: str) -> Thread:
        return self.threads.setdefault(household.lower(), Thread(household))

    def check(self, request: DataRequest, signature: bytes, g: Grant) -> str:
        """The grantee who signed `request`, or AccessRefused naming the first thing that fails."""
        now = self.clock()
        grantee = recover_digest(eip712.digest(self.consent.domain(), request), signature, "signature").lower()
        gid = self.consent.grant_id(g)
        if request.grant != gid:
            raise AccessRefused(f"grant: the request names 0x{request.grant.hex()}, not these terms' 0x{gid.hex()}")
        if grantee != g.grantee.lower():
            raise AccessRefused(f"signature: signed by {grantee}, not the grantee {g.grantee}")
        if not 0 <= now - request.time <= FRESH_S:
            raise AccessRefused(f"time: {request.time} is not within {FRESH_S} s before now ({now})")
        state = self.consent.state(gid)
        if state.granted_at == 0:
            raise AccessRefused(f"grant: 0x{gid.hex()} is not submitted on chain")
        if state.revoked_at:
            raise AccessRefused(f"grant: revoked at {state.revoked_at}")
        if now >= state.expiry:
            raise AccessRefused(f"grant: expired at {state.expiry}")
        if not g.first_day <= request.first_day <= request.last_day <= g.last_day:
            raise AccessRefused(
                f"days: {request.first_day}..{request.last_day} not within the grant's {g.first_day}..{g.last_day}"
            )
        if request.purpose != g.purpose:
            raise AccessRefused("purpose: not the grant's purpose")
        return grantee

    def serve(self, request: DataRequest, signature: bytes, g: Grant) -> Served:
        grantee = self.check(request, signature, g)
        return self.record(g.household, grantee, request)

    def record(self, household: str, grantee: str, request: DataRequest) -> Served:
        """Read the days and write the access in the household's thread (the outbox takes it too)."""
        blobs = tuple(self.archive.days(household, request.first_day, request.last_day))
        record = next_record(
            self.thread(household),
            node=self.address,
            grantee=grantee,
            grant=request.grant,
            first_day=request.first_day,
            last_day=request.last_day,
            purpose=request.purpose,
            time=self.clock(),
            data_hash=keccak(b"".join(blobs)),
        )
        self.outbox.append(record)
        return Served(blobs, record)

    def take(self) -> list[Access]:
        out, self.outbox = self.outbox, []
        return out


class ConsensusNode:
    """Signs a batch only if it continues every household's attested thread; follows the log as batches land."""

    def __init__(
        self,
        key: Key,
        processing_nodes: Iterable[str],
        clock: Callable[[], int],
        skew_s: int = 60,
        max_age_s: int = 2 * 86_400,
    ):
        """A record is signed only if dated from `max_age_s` before now to `skew_s` after (and not before its
        thread's last): a processing node cannot back-date an access by more than that."""
        self.key = key
        self.address = address_of(key)
        self.processing_nodes = {a.lower() for a in processing_nodes}
        self.clock = clock
        self.skew_s = skew_s
        self.max_age_s = max_age_s
        self.heads: dict[str, tuple[int, bytes, int]] = {}  # household -> (next seq, last leaf, last time)

    def check(self, records: Sequence[Access]) -> None:
        """BatchRefused naming the first record that does not continue its thread (or an empty batch)."""
        if not records:
            raise BatchRefused("records: an empty batch")
        _, refused = self.admissible(records)
        if refused:
            raise BatchRefused(refused[0][1])

    def admissible(self, records: Sequence[Access]) -> tuple[list[Access], list[tuple[Access, str]]]:
        """The records that continue their threads, in order, and the others with the reason."""
        heads = dict(self.heads)
        ok, refused = [], []
        for r in records:
            where = f"record {r.household} #{r.seq}"
            seq, leaf, t = heads.get(r.household.lower(), (0, ZERO32, 0))
            if r.node.lower() not in self.processing_nodes:
                refused.append((r, f"{where}: node {r.node} is not a processing node"))
            elif r.seq != seq:
                refused.append((r, f"{where}: seq {r.seq}, the thread's next is {seq}"))
            elif r.prev != leaf:
                refused.append((r, f"{where}: prev does not link to the thread's last record"))
            elif not t <= r.time or not self.clock() - self.max_age_s <= r.time <= self.clock() + self.skew_s:
                refused.append((r, f"{where}: time {r.time} is before the last record's, too old or in the future"))
            else:
                heads[r.household.lower()] = (seq + 1, r.leaf(), r.time)
                ok.append(r)
        return ok, refused

    def sign(self, log: AccessLogClient, batch: RecordBatch) -> bytes:
        self.check(batch.records)
        return log.sign(self.key, batch.index, batch.root(), len(batch.records))

    def follow(self, batch: RecordBatch) -> None:
        """Advance the threads by an attested batch."""
        for r in batch.records:
            self.heads[r.household.lower()] = (r.seq + 1, r.leaf(), r.time)


@dataclass
class Attestor:
    """Gathers the processing nodes' records into a batch, has the consensus nodes sign it, submits it and
    publishes the batch (what the monitor and the households read)."""

    log: AccessLogClient
    sender: str
    nodes: Sequence[ConsensusNode]
    published: list[RecordBatch] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    held: list[Access] = field(default_factory=list)  # records that do not continue their threads: never batched

    def attest(self, records: Sequence[Access]):
        """Batch those of `records` that continue their threads (the rest go to `held`, with the reason in
        `refusals`); the receipt, or None when none is left or fewer than the threshold signed."""
        records, refused = self.nodes[0].admissible(records)
        for r, reason in refused:
            self.held.append(r)
            self.refusals.append(f"held back: {reason}")
        if not records:
            return None
        batch = RecordBatch(self.log.batches(), tuple(records))
        signatures = []
        threshold = self.log.threshold()
        for node in self.nodes:  # the threshold's worth, no more: each signature costs ~7,000 gas
            if len(signatures) == threshold:
                break
            try:
                signatures.append(node.sign(self.log, batch))
            except BatchRefused as e:
                self.refusals.append(f"{node.address}: {e}")
        if len(signatures) < threshold:
            return None
        receipt = self.log.attest(self.sender, batch.index, batch.root(), len(batch.records), signatures)
        for node in self.nodes:
            node.follow(batch)
        self.published.append(batch)
        return receipt


class Monitor:
    """Judges the log and the threads; reports on chain what the contract can judge, notifies the rest."""

    def __init__(
        self,
        consent: ConsentClient,
        log: AccessLogClient,
        account: str,
        notify: Callable[[Alert], None],
        from_block: int = 0,
        grace_s: int = 86_400,
    ) -> None:
        """`grace_s`: how long a record the processing node shows may wait for its batch before it is alerted."""
        self.consent = consent
        self.log = log
        self.account = account
        self.notify = notify
        self.from_block = from_block
        self.grace_s = grace_s
        self.seen: set[tuple] = set()
        self.reported: list[tuple[Alert, int, int]] = []  # (alert, the Breach reason the chain logged, gas)
        self.notified: list[Alert] = []

    def roots(self) -> list[bytes]:
        """Every attested root in index order (from the log's events)."""
        events = sorted(self.log.events("Attested", self.from_block), key=lambda e: int(e.args["index"]))
        roots = [bytes(e.args["root"]) for e in events]
        if [int(e.args["index"]) for e in events] != list(range(len(roots))):
            raise RuntimeError("the log's Attested events are not batches 0, 1, ...: read them from its deployment")
        return roots

    def check(
        self, published: Sequence[RecordBatch], threads: Mapping[str, Sequence[Access]] = {}, now: int = 0
    ) -> list[Alert]:
        """One round at time `now`: the new alerts (each reported or notified once). `threads`: the households'
        records as the processing node shows them (those younger than the grace are not alerted yet)."""
        pending = {r.leaf() for rs in threads.values() for r in rs if r.time > now - self.grace_s}
        roots = self.roots()
        batches = [(b, roots[b.index]) for b in published if b.index < len(roots)]
        terms = self.consent.grants(self.from_block)
        alerts = audit(self.consent.mirror(self.from_block), terms, batches, threads, pending)
        new = []
        for a in alerts:
            key = (a.kind, a.household, a.seq, a.record.leaf() if a.record else None)
            if key in self.seen:
                continue
            self.seen.add(key)
            new.append(a)
            if a.on_chain and self._report(a, roots, published, terms):
                continue
            self.notified.append(a)
            self.notify(a)
        return new

    def _report(
        self, a: Alert, roots: list[bytes], published: Sequence[RecordBatch], terms: Mapping[bytes, Grant]
    ) -> bool:
        """Report `a` on chain; False if it cannot be (its batch too far behind, or the contract refuses)."""
        batch = next(b for b in published if b.index == a.batch)
        try:
            receipt = report_alert(self.consent, self.account, a, roots, batch, terms)
        except Unreportable:
            return False
        (event,) = receipt.named("Breach")
        self.reported.append((a, int(event.args["reason"]), receipt.gas_used))
        return True


class Unreportable(Refused):
    """An on-chain alert the consent contract cannot take: its batch too far behind, or a revert (the reason)."""


def report_alert(
    consent: ConsentClient,
    account: str,
    a: Alert,
    roots: Sequence[bytes],
    batch: RecordBatch,
    terms: Mapping[bytes, Grant],
) -> Receipt:
    """Report `a` (an on-chain alert of the record at `a.position` in `batch`, batch `a.batch`) from `account`:
    its Merkle proof, the head before its batch and every root after it up to the log's head (`roots`: every
    attested root in index order, as many as the log holds). The receipt (one `Breach` event), or Unreportable."""
    later = roots[a.batch + 1 :]
    if len(later) > MAX_LATER:
        raise Unreportable(f"batch {a.batch} is {len(later)} batches behind the head (the contract takes {MAX_LATER})")
    prev = head_of(roots[: a.batch])
    where = InLog(tuple(batch.proof(a.position)), a.batch, prev, roots[a.batch], tuple(later))
    g = terms.get(a.record.grant, ANY_TERMS)
    try:
        return consent.report(account, a.record, g, where)
    except ChainRevert as e:
        raise Unreportable(e.reason or str(e)) from None
