"""A month of consumer-controlled monitoring on a chain: households' meter-days sealed to them, three grantees
reading under their grants through a processing node, every access recorded and attested by 2 of 3 consensus
nodes, and a monitor after every day's batch; with `breaches`, a rogue processing node breaks the consents in
every way the monitor must see, each once, on a known day.

The chain's clock is first moved to START (2030-01-01) if behind it, so that a seed repeats the month's days,
keys and readings (the vault's day keys and nonces are random, so the served data's hashes differ from run to run
and the gas figures by a few dozen). The meters sign under a metering domain that names no deployed contract:
anchoring and proving on chain are the vault's tests (tests/monitoring/vault/test_gateway.py).

Grantees (days are the month's data days, D0 = the first):
- the utility: "billing", every day's data of every household, the next morning; expires after the month;
- a researcher: "research", days D0 .. D0+13 of every household, read weekly; expires on day 20; household 0
  revokes it on day 10;
- an aggregator: "flexibility", every day of every household, daily.
Each household hands each grantee the day keys of the days in its grant as they are sealed (`vault`), and the
grantees open what they are served (the utility bills each household's energy from it).

The breaches (`BREACHES`): a data broker never granted; the researcher beyond its days; after the revocation;
billing data used for another purpose; after the expiry; the aggregator reading one household under another's
grant; a record withheld from the consensus nodes; a record altered after it was attested. The month's result
counts the monitor's false positives (alerts no breach explains) and false negatives (breaches never alerted).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from eth_utils import keccak
from nacl.public import PrivateKey

from gridchain.chain.gateway import Gateway
from gridchain.crypto import eip712
from gridchain.crypto.keys import address_of
from gridchain.metering import SmartMeter, merkle_root
from gridchain.metering import domain as metering_domain
from gridchain.monitoring import vault
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.model.audit import Alert
from gridchain.monitoring.model.consent import Grant
from gridchain.monitoring.model.records import DAY_S, Access, purpose_tag
from gridchain.monitoring.parties import (
    AccessRefused,
    Attestor,
    ConsensusNode,
    DataRequest,
    Grantee,
    Household,
    Monitor,
    ProcessingNode,
)
from gridchain.monitoring.store import AccessStore

INTERVALS = DAY_S // 900
BILLING, RESEARCH, FLEXIBILITY = purpose_tag("billing"), purpose_tag("research"), purpose_tag("flexibility")
MARKETING = purpose_tag("marketing")
REVOKE_DAY, RESEARCH_EXPIRY_DAY = 10, 20
START = 1_893_456_000  # [s] 2030-01-01 00:00 UTC: the chain's clock is moved there first if behind (repeatable runs)


@dataclass(frozen=True)
class Breach:
    """An injected breach: on `day`, against `household`; the alert kind the monitor must raise for it."""

    day: int
    how: str  # what the rogue node does (`_Month._inject`)
    name: str
    kind: str
    household: int


BREACHES = (
    Breach(5, "broker", "a data broker never granted", "not granted", 1),
    Breach(8, "purpose", "billing data for marketing", "another purpose", 1),
    Breach(11, "revoked", "the researcher after the revocation", "after revocation", 0),
    Breach(15, "party", "the aggregator under another household's grant", "wrong party", 2),
    Breach(17, "range", "the researcher beyond its days", "out of range", 2),
    Breach(18, "withhold", "a record withheld from the consensus nodes", "unattested record", 3),
    Breach(22, "expired", "the researcher after the expiry", "after expiry", 1),
    Breach(25, "alter", "a record altered after attestation", "unattested record", 0),
)


@dataclass
class MonthConfig:
    households: int = 4
    days: int = 30
    seed: int = 0
    nodes: int = 3
    m: int = 2
    breaches: bool = True


class Archive:
    """The gateway's sealed meter-days (one meter per household here), what the processing node serves."""

    def __init__(self) -> None:
        self.sealed: dict[str, dict[int, vault.SealedDay]] = {}

    def put(self, household: str, sealed: vault.SealedDay) -> None:
        self.sealed.setdefault(household.lower(), {})[sealed.day] = sealed

    def days(self, household: str, first_day: int, last_day: int) -> list[bytes]:
        held = self.sealed.get(household.lower(), {})
        return [held[d].to_bytes() for d in range(first_day, last_day + 1) if d in held]


class RogueNode(ProcessingNode):
    """A processing node that serves without asking the chain; every access is still written in the thread
    (the archive's read path writes it), but it may keep a record from the consensus nodes or rewrite one."""

    def serve_anyway(self, household: str, grantee: str, request: DataRequest):
        return self.record(household, grantee, request)

    def withhold_last(self) -> Access:
        return self.outbox.pop()

    def alter(self, household: str, seq: int, **change) -> Access:
        """Rewrite a record of the thread it shows (the attested one is unchanged)."""
        thread = self.thread(household)
        thread.records[seq] = replace(thread.records[seq], **change)
        return thread.records[seq]


@dataclass
class GranteeState:
    party: Grantee
    x25519: PrivateKey
    keys: dict[bytes, list[vault.GrantedKeys]] = field(default_factory=dict)  # grant id -> envelopes opened
    read_wh: dict[str, int] = field(default_factory=dict)  # household -> energy in what it opened [Wh]


@dataclass
class MonthResult:
    config: MonthConfig
    accesses: int = 0
    access_days: list[int] = field(default_factory=list)  # the day of every access served (breaches too)
    refused: list[str] = field(default_factory=list)
    batches: int = 0
    records_attested: int = 0
    records_held: int = 0  # records the attestor held back: they do not continue their threads
    attest_gas: list[int] = field(default_factory=list)
    grant_gas: list[int] = field(default_factory=list)
    revoke_gas: list[int] = field(default_factory=list)
    report_gas: list[int] = field(default_factory=list)
    alerts: list[tuple[int, Alert]] = field(default_factory=list)  # (day, alert)
    injected: list[tuple[Breach, str, int]] = field(default_factory=list)  # (breach, household address, seq)
    batch_refusals: list[str] = field(default_factory=list)
    billed_wh: dict[str, int] = field(default_factory=dict)
    contracts: dict[str, str] = field(default_factory=dict)  # access_log and data_access

    def matches(self) -> tuple[list, list, list]:
        """(detected breaches, false negatives, false positives): an alert explains a breach when it names its
        household, the record's seq and the kind expected."""
        detected, missed, explained = [], [], set()
        for breach, household, seq in self.injected:
            hits = [
                i
                for i, (_, a) in enumerate(self.alerts)
                if (a.kind, a.household, a.seq) == (breach.kind, household, seq)
            ]
            (detected if hits else missed).append((breach, household, seq, hits[:1]))
            explained.update(hits)
        false = [a for i, (_, a) in enumerate(self.alerts) if i not in explained]
        return detected, missed, false

    def as_json(self) -> dict:
        detected, missed, false = self.matches()
        return {
            "config": vars(self.config),
            "accesses": self.accesses,
            "access_days": self.access_days,
            "refused": self.refused,
            "batches": self.batches,
            "records_attested": self.records_attested,
            "records_held": self.records_held,
            "gas": {
                "attest": self.attest_gas,
                "grant": self.grant_gas,
                "revoke_signed": self.revoke_gas,
                "report": self.report_gas,
            },
            "breaches": [
                {"day": b.day, "name": b.name, "kind": b.kind, "household": h, "seq": seq, "alerted": bool(hit)}
                for b, h, seq, hit in detected + missed
            ],
            "alerts": [{"day": day, **a.as_json()} for day, a in self.alerts],
            "false_positives": len(false),
            "false_negatives": len(missed),
            "batch_refusals": self.batch_refusals,
            "billed_wh": self.billed_wh,
        }


def _key(seed: int, what: str) -> bytes:
    return keccak(text=f"gridchain monitoring month {seed} {what}")


def run_month(
    gateway: Gateway,
    config: MonthConfig,
    progress: Callable[[str], None] = lambda _: None,
    store: AccessStore | None = None,
    monitor: bool = True,
    deployed: tuple[AccessLogClient, ConsentClient] | None = None,
) -> MonthResult:
    """The month on `gateway` (fresh contracts, or `deployed` ones: the log's nodes must be `node_addresses`);
    its result. With a `store`, the processing node's threads and the published batches are written to it each
    day (what `gridchain monitor` and `gridchain data` read); `monitor=False` leaves the judging to them (the
    result then has no alerts)."""
    return _Month(gateway, config, progress, store, monitor, deployed).run()


def node_addresses(config: MonthConfig) -> list[str]:
    """The month's consensus nodes (keys derived from its seed), for a log deployed ahead of it."""
    return [address_of(_key(config.seed, f"consensus {i}")) for i in range(config.nodes)]


class _Month:
    def __init__(
        self,
        gateway: Gateway,
        config: MonthConfig,
        progress: Callable[[str], None],
        store: AccessStore | None = None,
        monitor: bool = True,
        deployed: tuple[AccessLogClient, ConsentClient] | None = None,
    ) -> None:
        self.gateway, self.config, self.progress = gateway, config, progress
        self.store, self.monitoring = store, monitor
        self.rng = random.Random(config.seed)
        self.result = MonthResult(config)
        deployer, self.relayer, watcher = gateway.accounts[:3]
        self.clock = gateway.now
        seed = config.seed
        node_keys = [_key(seed, f"consensus {i}") for i in range(config.nodes)]
        if deployed is None:
            self.log, _ = AccessLogClient.deploy(gateway, deployer, [address_of(k) for k in node_keys], config.m)
            self.consent, _ = ConsentClient.deploy(gateway, deployer, self.log.address)
        else:
            self.log, self.consent = deployed
        self.archive = Archive()
        self.node = RogueNode(_key(seed, "processing"), self.consent, self.archive, self.clock)
        consensus = [ConsensusNode(k, [self.node.address], self.clock) for k in node_keys]
        self.attestor = Attestor(self.log, self.relayer, consensus)
        self.notices: list[Alert] = []
        self.monitor = Monitor(self.consent, self.log, watcher, self.notices.append)
        self.households = [Household(_key(seed, f"household {i}")) for i in range(config.households)]
        self.boxes = [PrivateKey(_key(seed, f"household box {i}")) for i in range(config.households)]
        readings_domain = metering_domain(self.consent.chain_id(), deployer)  # no metering contract: see above
        self.meters = [SmartMeter(_key(seed, f"meter {i}"), readings_domain) for i in range(config.households)]
        self.grantees = {
            name: GranteeState(Grantee(_key(seed, name)), PrivateKey(_key(seed, f"{name} box")))
            for name in ("utility", "researcher", "aggregator", "broker")
        }
        self.grants: dict[tuple[str, int], Grant] = {}
        self.d0 = 0

    # -- the month --------------------------------------------------------------------------------------------
    def run(self) -> MonthResult:
        if self.clock() < START:
            self.gateway.advance_time(START - self.clock())
        self.d0 = self.clock() // DAY_S + 1
        self.gateway.advance_time((self.d0 + 1) * DAY_S + 3600 - self.clock())  # 01:00 on day 1
        self._grant_all()
        for day in range(1, self.config.days):
            data_day = self.d0 + day - 1
            self._seal_yesterday(data_day)
            if day == REVOKE_DAY:
                g = self.grants[("researcher", 0)]
                sig = self.consent.sign_revoke(self.households[0].key, g)
                self.result.revoke_gas.append(self.consent.revoke_signed(self.relayer, g, sig).gas_used)
            for i in range(len(self.households)):
                self._honest(i, day, data_day)
            if self.config.breaches:
                for breach in BREACHES:
                    if breach.day == day:
                        self._inject(breach, data_day)
            self._attest()
            shown = {h.address.lower(): list(self.node.thread(h.address).records) for h in self.households}
            if self.store is not None:
                self.store.put_records(r for rs in shown.values() for r in rs)
                for batch in self.attestor.published:
                    self.store.publish(batch)  # again: nothing changes
            if self.monitoring:
                for a in self.monitor.check(self.attestor.published, shown, self.clock()):
                    self.result.alerts.append((day, a))
            self.gateway.advance_time(DAY_S)
            self.progress(f"day {day}")
        r = self.result
        r.contracts = {"access_log": self.log.address, "data_access": self.consent.address}
        r.report_gas = [gas for _, _, gas in self.monitor.reported]
        r.batch_refusals = list(self.attestor.refusals)
        r.batches = len(self.attestor.published)
        r.records_attested = sum(len(b.records) for b in self.attestor.published)
        r.records_held = len(self.attestor.held)
        r.billed_wh = {
            h.address.lower(): self.grantees["utility"].read_wh.get(h.address.lower(), 0) for h in self.households
        }
        return r

    def _grant_all(self) -> None:
        d0, days = self.d0, self.config.days
        terms = {
            "utility": (d0, d0 + days, BILLING, (d0 + days + 15) * DAY_S),
            "researcher": (d0, d0 + 13, RESEARCH, (d0 + RESEARCH_EXPIRY_DAY) * DAY_S),
            "aggregator": (d0, d0 + days, FLEXIBILITY, (d0 + days + 1) * DAY_S),
        }
        for i, h in enumerate(self.households):
            for name, (first, last, purpose, expiry) in terms.items():
                g = Grant(h.address, self.grantees[name].party.address, first, last, purpose, expiry, _key(i, name))
                receipt = self.consent.grant(self.relayer, g, self.consent.sign_grant(h.key, g))
                self.result.grant_gas.append(receipt.gas_used)
                self.grants[(name, i)] = g

    def _seal_yesterday(self, data_day: int) -> None:
        """The gateway seals every household's day; each household hands the day's key to its active grants."""
        for i, h in enumerate(self.households):
            sealed = _seal(self.meters[i], self.boxes[i], data_day, self.rng)
            self.archive.put(h.address, sealed)
            for name in ("utility", "researcher", "aggregator"):
                g = self.grants[(name, i)]
                gid = self.consent.grant_id(g)
                if g.covers_day(data_day) and self._active(g):
                    state = self.grantees[name]
                    envelope = vault.envelope_for(
                        self.boxes[i], [sealed], gid, data_day, data_day, state.x25519.public_key
                    )
                    state.keys.setdefault(gid, []).append(vault.open_envelope(state.x25519, envelope, gid))

    def _active(self, g: Grant) -> bool:
        st = self.consent.state(self.consent.grant_id(g))
        return st.granted_at != 0 and st.revoked_at == 0 and self.clock() < st.expiry

    # -- the traffic ---------------------------------------------------------------------------------------
    def _request(self, name: str, g: Grant, first: int, last: int, purpose: bytes | None = None):
        party = self.grantees[name].party
        return party.request(
            self.consent.domain(),
            self.consent.grant_id(g),
            first,
            last,
            g.purpose if purpose is None else purpose,
            self.clock(),
        )

    def _honest(self, i: int, day: int, data_day: int) -> None:
        reads = [("utility", data_day, data_day), ("aggregator", data_day, data_day)]
        g = self.grants[("researcher", i)]
        if day % 7 == 0 and data_day >= g.first_day:
            reads.append(("researcher", max(g.first_day, data_day - 6), min(data_day, g.last_day)))
        for name, first, last in reads:
            g = self.grants[(name, i)]
            if not (self._active(g) and g.first_day <= first <= last <= g.last_day):
                continue
            request, signature = self._request(name, g, first, last)
            try:
                served = self.node.serve(request, signature, g)
            except AccessRefused as e:
                self.result.refused.append(f"day {day} {name} household {i}: {e}")
                continue
            self.result.accesses += 1
            self.result.access_days.append(day)
            self._open(name, self.households[i].address, served.blobs, request.grant)

    def _open(self, name: str, household: str, blobs, gid: bytes) -> None:
        """The grantee opens what it was served with the keys its envelopes gave it; the utility bills it."""
        state = self.grantees[name]
        for blob in blobs:
            sealed = vault.SealedDay.from_bytes(blob)
            keys = next(k for k in state.keys.get(gid, []) if k.first_day <= sealed.day <= k.last_day)
            readings = keys.open(sealed)
            if name == "utility":
                total = sum(s.reading.active_wh for s in readings)
                state.read_wh[household.lower()] = state.read_wh.get(household.lower(), 0) + total

    def _inject(self, breach: Breach, data_day: int) -> None:
        d0, h = self.d0, self.households[breach.household]
        seq = None
        if breach.how == "broker":
            request = DataRequest(keccak(text="no such grant"), data_day, data_day, MARKETING, self.clock())
            seq = self.node.serve_anyway(h.address, self.grantees["broker"].party.address, request).record.seq
        elif breach.how == "purpose":
            g = self.grants[("utility", breach.household)]
            request, _ = self._request("utility", g, data_day, data_day, MARKETING)
            seq = self.node.serve_anyway(h.address, g.grantee, request).record.seq
        elif breach.how in ("revoked", "expired"):
            g = self.grants[("researcher", breach.household)]
            request, _ = self._request("researcher", g, d0, d0 + 6)
            seq = self.node.serve_anyway(h.address, g.grantee, request).record.seq
        elif breach.how == "party":
            g = self.grants[("aggregator", (breach.household + 1) % len(self.households))]
            request, _ = self._request("aggregator", g, data_day, data_day)
            seq = self.node.serve_anyway(h.address, g.grantee, request).record.seq
        elif breach.how == "range":
            g = self.grants[("researcher", breach.household)]
            request, _ = self._request("researcher", g, g.last_day - 1, g.last_day + 2)
            seq = self.node.serve_anyway(h.address, g.grantee, request).record.seq
        elif breach.how == "withhold":  # withheld: an honest-looking access whose record never reaches the nodes
            g = self.grants[("utility", breach.household)]
            request, signature = self._request("utility", g, data_day - 1, data_day - 1)
            seq = self.node.serve(request, signature, g).record.seq
            self.node.withhold_last()
        else:  # "alter": after attestation: the thread the node shows rewrites an early record
            seq = 1
            self.node.alter(h.address, seq, purpose=BILLING, grantee=self.grantees["utility"].party.address)
        self.result.injected.append((breach, h.address.lower(), seq))
        if breach.how != "alter":
            self.result.access_days.append(breach.day)

    def _attest(self) -> None:
        receipt = self.attestor.attest(self.node.take())
        if receipt is not None:
            self.result.attest_gas.append(receipt.gas_used)


def _seal(meter: SmartMeter, box: PrivateKey, day: int, rng: random.Random) -> vault.SealedDay:
    """A household's day of 15-minute readings (a morning and an evening peak, noise), signed and sealed."""
    readings = []
    for k in range(INTERVALS):
        hour = k / 4
        base = 60 + 90 * (7 <= hour < 9) + 160 * (18 <= hour < 22)
        readings.append(meter.sign_reading(day * DAY_S + k * 900, base + rng.randrange(0, 40)))
    root = merkle_root([eip712.digest(meter.domain, s.reading) for s in readings])
    return vault.seal_day(box.public_key, meter.address, day, root, readings)
