"""Twin of contracts/metering.vy: meters, signed readings anchored as Merkle roots, time-of-use tariffs and
roaming charging billed to the EV's owner (Olivares-Rojas et al., the "relative's house" case).

Readings. A meter signs each interval's reading as EIP-712 `Reading(address meter, uint256 intervalStart,
uint256 activeWh, uint256 reactiveVarh)`; the gateway the utility assigned to the meter anchors its readings
of one period (a day of 15-minute intervals) as one Merkle root (version 0). The leaf is the reading's EIP-712
digest; pairs are hashed sorted (OpenZeppelin's and snekmate's `merkle_proof_verification` rule); an odd node
is carried up unchanged. A wrong root is replaced only by one the meter signs (`DayRoot(address meter,
uint256 period, bytes32 root, uint256 count, uint256 version)`) with a higher version.

Roaming. The EV signs `SessionStart(address ev, address meter, uint256 start, uint256 maxCostWei)` at a
host's charge point; its EIP-712 digest is the session id. At admission the host reserves maxCostWei of the
EV owner's escrow for the session (once; from escrow not under a withdrawal notice); the reservation returns
to the escrow at settlement, or RESERVATION_S after the start (`release`). The charge point's meter signs
`SessionReading(bytes32 session, uint256 firstInterval, uint256[] energyWh)`: the session's energy per
interval, interval i spanning [i * INTERVAL_S, (i + 1) * INTERVAL_S). Settlement prices each interval at the
community's tariff in force at its start (hourly prices, UTC) and credits the meter's owner (the host)
min(cost, maxCostWei), from the reservation first and then the EV owner's free escrow, up to what is there
(the unpaid rest is in the event). A meter's intervals are billed at most once, in any order (a set of billed
intervals per meter, a bitmap on chain): a settlement touching a billed interval is refused; and a reading
must begin in its start's interval, so an EV's signed start settles at most once.
The host's own bill is its household meter's energy net of the energy billed to EV owners, interval by
interval (`host_bill`).

Units: energy [Wh], reactive energy [varh], prices [wei/kWh], money [wei], times [s] (unix), intervals
[index of INTERVAL_S]. cost = sum(energy_i x price_i) // 1000, one floor per settlement. Every model method
raises MeteringError with the contract's revert reason where the contract reverts, and then changes nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_utils import keccak

from gridchain.crypto.eip712 import Domain, TypedStruct
from gridchain.errors import ContractRevert

INTERVAL_S = 900  # [s] a reading's interval
PERIOD_S = 86400  # [s] what one Merkle root covers (96 intervals)
READINGS_PER_PERIOD = PERIOD_S // INTERVAL_S
MAX_SESSION_INTERVALS = 96  # a session settles at most 24 h of intervals at once
MAX_INTERVAL_WH = 1_000_000  # [Wh] 4 MW for 15 minutes: more than any charge point draws
HOURS = 24
MAX_PRICE = 2**64 - 1  # [wei/kWh] prices are packed four to a word
MAX_COMMUNITY = 2**32 - 1
MAX_PREMISES = 2**64 - 1
MAX_NOTICE_S = 30 * 86400
SETTLE_WINDOW_S = 2 * 86400  # [s] after the longest session, for the host to settle a reservation
RESERVATION_S = MAX_SESSION_INTERVALS * INTERVAL_S + SETTLE_WINDOW_S  # [s] from the start to the time-out
BITMAP_BITS = 256  # intervals per storage word of the contract's billed bitmap
ZERO = "0x" + "00" * 20

DOMAIN_NAME, DOMAIN_VERSION = "gridchain metering", "1"


class MeteringError(ContractRevert):
    """A call the contract would revert, with the contract's reason (`metering: ...`)."""


def _fail(ok: bool, reason: str) -> None:
    if not ok:
        raise MeteringError(f"metering: {reason}")


# -- EIP-712 -------------------------------------------------------------------------------------------
def domain(chain_id: int, contract: str) -> Domain:
    """The EIP-712 domain of the metering contract at `contract` on `chain_id` (its `eip712Domain`)."""
    return Domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, contract)


@dataclass(frozen=True)
class Reading(TypedStruct):
    """One interval's reading of one meter: energy imported in [interval_start, interval_start + INTERVAL_S)."""

    TYPE = "Reading(address meter,uint256 intervalStart,uint256 activeWh,uint256 reactiveVarh)"

    meter: str
    interval_start: int  # [s]
    active_wh: int
    reactive_varh: int


@dataclass(frozen=True)
class DayRoot(TypedStruct):
    """A meter's own word on one day's readings: the Merkle root over them, with a version above any root
    anchored for that day (a gateway's is 0), so that it replaces a wrong one and cannot be replayed back."""

    TYPE = "DayRoot(address meter,uint256 period,bytes32 root,uint256 count,uint256 version)"

    meter: str
    period: int  # day index (interval_start // PERIOD_S)
    root: bytes
    count: int
    version: int


@dataclass(frozen=True)
class SessionStart(TypedStruct):
    """What the EV signs when it plugs in at a host's charge point (`meter` is the charge point's meter): its
    time and the most the session may cost, which the host reserves of the owner's escrow at admission."""

    TYPE = "SessionStart(address ev,address meter,uint256 start,uint256 maxCostWei)"

    ev: str
    meter: str
    start: int  # [s]
    max_cost_wei: int

    @property
    def expires_at(self) -> int:
        """When anyone may release the session's reservation [s]."""
        return self.start + RESERVATION_S


@dataclass(frozen=True)
class SessionReading(TypedStruct):
    """What the charge point's meter signs when the session ends: its energy per interval [Wh]."""

    TYPE = "SessionReading(bytes32 session,uint256 firstInterval,uint256[] energyWh)"

    session: bytes  # the SessionStart's EIP-712 digest
    first_interval: int
    energy_wh: tuple[int, ...]

    @property
    def end_interval(self) -> int:
        return self.first_interval + len(self.energy_wh)

    @property
    def total_wh(self) -> int:
        return sum(self.energy_wh)


# -- Merkle trees --------------------------------------------------------------------------------------
def hash_pair(a: bytes, b: bytes) -> bytes:
    return keccak(a + b) if a < b else keccak(b + a)


def _layers(leaves: Sequence[bytes]) -> list[list[bytes]]:
    if not leaves:
        raise ValueError("leaves: a Merkle tree needs at least one leaf")
    layers = [list(leaves)]
    while len(layers[-1]) > 1:
        below = layers[-1]
        layers.append(
            [hash_pair(below[i], below[i + 1]) if i + 1 < len(below) else below[i] for i in range(0, len(below), 2)]
        )
    return layers


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The root over `leaves` in their order (sorted pairs; an odd last node is carried up)."""
    return _layers(leaves)[-1][0]


def merkle_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The siblings from leaf `index` up to the root (what snekmate's `_verify` consumes)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"index: {index} is not a leaf of a tree of {len(leaves)}")
    proof = []
    for layer in _layers(leaves)[:-1]:
        sibling = index ^ 1
        if sibling < len(layer):
            proof.append(layer[sibling])
        index //= 2
    return proof


def verify_proof(proof: Sequence[bytes], root: bytes, leaf: bytes) -> bool:
    node = leaf
    for sibling in proof:
        node = hash_pair(node, sibling)
    return node == root


# -- tariffs -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tariff:
    """A community's time-of-use tariff: a price per UTC hour of the day, in force from `effective_from`."""

    effective_from: int  # [s], a multiple of INTERVAL_S
    prices_wei_per_kwh: tuple[int, ...]  # 24 hourly prices

    def price_at(self, t: int) -> int:
        return self.prices_wei_per_kwh[(t % 86400) // 3600]


def tariff_in_force(tariffs: Sequence[Tariff], t: int) -> Tariff | None:
    """The latest tariff with effective_from <= t (tariffs in increasing effective_from), or None; any version,
    however old (the contract: the newest first, else a binary search)."""
    i = bisect_right([tariff.effective_from for tariff in tariffs], t)
    return tariffs[i - 1] if i else None


def interval_prices(tariffs: Sequence[Tariff], first_interval: int, count: int) -> list[int]:
    """The price in force at the start of each interval [wei/kWh]; MeteringError if none is."""
    prices = []
    for i in range(first_interval, first_interval + count):
        tariff = tariff_in_force(tariffs, i * INTERVAL_S)
        _fail(tariff is not None, "no tariff in force")
        prices.append(tariff.price_at(i * INTERVAL_S))
    return prices


def energy_cost(tariffs: Sequence[Tariff], first_interval: int, energy_wh: Sequence[int]) -> int:
    """sum(energy_i x price_i) // 1000 [wei]: the contract's one floor per settlement."""
    prices = interval_prices(tariffs, first_interval, len(energy_wh))
    return sum(e * p for e, p in zip(energy_wh, prices, strict=True)) // 1000


@dataclass(frozen=True)
class Bill:
    """What one party owes or is owed over a span of intervals."""

    energy_wh: int
    cost_wei: int


def host_bill(tariffs: Sequence[Tariff], household: Sequence[Reading], roaming: Sequence[SessionReading]) -> Bill:
    """The host's bill: its household meter's energy net of the energy billed to EV owners, per interval,
    at the tariff in force (one floor). A roaming interval with more energy than the household meter saw is
    an error: the charge point sits behind the household meter."""
    per_interval: dict[int, int] = {}
    for r in household:
        if r.interval_start % INTERVAL_S:
            raise ValueError(f"interval_start: {r.interval_start} is not a multiple of {INTERVAL_S}")
        per_interval[r.interval_start // INTERVAL_S] = per_interval.get(r.interval_start // INTERVAL_S, 0) + r.active_wh
    for s in roaming:
        for i, e in enumerate(s.energy_wh, start=s.first_interval):
            left = per_interval.get(i, 0) - e
            if left < 0:
                raise ValueError(f"roaming: interval {i} bills {e} Wh to an EV, more than the household meter read")
            per_interval[i] = left
    total = 0
    for i, e in per_interval.items():
        total += e * interval_prices(tariffs, i, 1)[0]
    return Bill(sum(per_interval.values()), total // 1000)


# -- the contract's state machine ----------------------------------------------------------------------
@dataclass(frozen=True)
class Meter:
    owner: str
    community: int
    premises: int


@dataclass(frozen=True)
class Settled:
    """What `settle_session` did (its `SessionSettled` event): `cost_wei` at the tariff, `paid_wei` credited to
    the host (min(cost, the start's max cost, reservation + free escrow)); the difference went unpaid."""

    session: bytes
    ev: str
    payer: str
    host: str
    meter: str
    first_interval: int
    intervals: int
    energy_wh: int
    cost_wei: int
    paid_wei: int

    @property
    def unpaid_wei(self) -> int:
        return self.cost_wei - self.paid_wei


def billed_words(intervals: set[int]) -> dict[int, int]:
    """A set of billed interval indices as the contract's bitmap words (word -> bits; bit i: 256 word + i)."""
    words: dict[int, int] = {}
    for i in intervals:
        words[i // BITMAP_BITS] = words.get(i // BITMAP_BITS, 0) | 1 << (i % BITMAP_BITS)
    return words


@dataclass
class MeteringModel:
    owner: str
    notice_s: int
    meters: dict[str, Meter] = field(default_factory=dict)
    evs: dict[str, str] = field(default_factory=dict)  # EV key -> owner account
    gateways: set[str] = field(default_factory=set)
    gateway_of: dict[str, str] = field(default_factory=dict)  # meter -> the gateway that anchors its days
    roots: dict[tuple[str, int], bytes] = field(default_factory=dict)  # (meter, period) -> root
    root_versions: dict[tuple[str, int], int] = field(default_factory=dict)  # 0: the gateway's; > 0: meter-signed
    tariffs: dict[int, list[Tariff]] = field(default_factory=dict)  # community -> versions
    escrow: dict[str, int] = field(default_factory=dict)  # [wei] prepaid by EV owners, free (not reserved)
    notice: dict[str, tuple[int, int]] = field(default_factory=dict)  # owner -> (amount [wei], available at)
    reserved: dict[bytes, int] = field(default_factory=dict)  # session id -> [wei] held for it
    credit: dict[str, int] = field(default_factory=dict)  # [wei] earned by hosts, withdrawable
    billed: dict[str, set[int]] = field(default_factory=dict)  # meter -> billed interval indices
    balance: int = 0  # [wei] what the contract holds

    def __post_init__(self) -> None:
        _fail(self.notice_s <= MAX_NOTICE_S, "notice_s out of range")
        self.owner = self.owner.lower()

    def _check_owner(self, sender: str) -> None:
        _fail(sender.lower() == self.owner, "caller is not the owner")

    # -- the utility -----------------------------------------------------------------------------------
    def register_meter(self, sender: str, meter: str, owner: str, community: int, premises: int) -> None:
        self._check_owner(sender)
        _fail(meter.lower() != ZERO, "meter is the zero address")
        _fail(owner.lower() != ZERO, "owner is the zero address")
        _fail(community <= MAX_COMMUNITY, "community out of range")
        _fail(premises <= MAX_PREMISES, "premises out of range")
        _fail(meter.lower() not in self.meters, "meter already registered")
        self.meters[meter.lower()] = Meter(owner.lower(), community, premises)

    def register_ev(self, sender: str, ev: str, owner: str) -> None:
        self._check_owner(sender)
        _fail(ev.lower() != ZERO, "ev is the zero address")
        _fail(owner.lower() != ZERO, "owner is the zero address")
        _fail(ev.lower() not in self.evs, "EV already registered")
        self.evs[ev.lower()] = owner.lower()

    def set_gateway(self, sender: str, gateway: str, allowed: bool) -> None:
        self._check_owner(sender)
        _fail(gateway.lower() != ZERO, "gateway is the zero address")
        if allowed:
            self.gateways.add(gateway.lower())
        else:
            self.gateways.discard(gateway.lower())

    def assign_gateway(self, sender: str, meter: str, gateway: str) -> None:
        self._check_owner(sender)
        _fail(meter.lower() in self.meters, "meter not registered")
        self.gateway_of[meter.lower()] = gateway.lower()

    def set_tariff(self, sender: str, now: int, community: int, effective_from: int, prices: Sequence[int]) -> None:
        self._check_owner(sender)
        _fail(community <= MAX_COMMUNITY, "community out of range")
        _fail(effective_from >= now, "tariff would start in the past")
        _fail(effective_from % INTERVAL_S == 0, "effective_from not on an interval boundary")
        versions = self.tariffs.get(community, [])
        _fail(not versions or effective_from > versions[-1].effective_from, "tariff must start after the last one")
        _fail(len(prices) == HOURS, "prices must have 24 entries")
        _fail(all(0 <= p <= MAX_PRICE for p in prices), "price out of range")
        self.tariffs.setdefault(community, []).append(Tariff(effective_from, tuple(prices)))

    # -- readings --------------------------------------------------------------------------------------
    @staticmethod
    def _check_root(now: int, period: int, root: bytes, count: int) -> None:
        _fail(root != b"\x00" * 32, "empty root")
        _fail(0 < count <= READINGS_PER_PERIOD, "count out of range")
        _fail(period < now // PERIOD_S, "period not over")

    def anchor_root(self, sender: str, now: int, meter: str, period: int, root: bytes, count: int) -> None:
        _fail(sender.lower() in self.gateways, "caller is not a gateway")
        _fail(meter.lower() in self.meters, "meter not registered")
        _fail(self.gateway_of.get(meter.lower()) == sender.lower(), "caller is not the meter's gateway")
        self._check_root(now, period, root, count)
        _fail((meter.lower(), period) not in self.roots, "period already anchored")
        self.roots[(meter.lower(), period)] = root

    def anchor_signed_root(self, now: int, day_root: DayRoot, signer: str) -> None:
        """`signer`: whom the DayRoot's signature recovers to."""
        key = (day_root.meter.lower(), day_root.period)
        _fail(key[0] in self.meters, "meter not registered")
        self._check_root(now, day_root.period, day_root.root, day_root.count)
        _fail(day_root.version > self.root_versions.get(key, 0), "root version not newer")
        _fail(signer.lower() == key[0], "root not signed by the meter")
        self.roots[key] = day_root.root
        self.root_versions[key] = day_root.version

    def verify_reading(self, reading: Reading, signer: str, proof: Sequence[bytes], digest: bytes) -> bool:
        """`signer`: whom the reading's signature recovers to; `digest`: its EIP-712 digest (the leaf)."""
        root = self.roots.get((reading.meter.lower(), reading.interval_start // PERIOD_S))
        if root is None or signer.lower() != reading.meter.lower():
            return False
        return verify_proof(proof, root, digest)

    # -- the escrow ------------------------------------------------------------------------------------
    def deposit(self, sender: str, value: int) -> None:
        _fail(value > 0, "nothing to deposit")
        self.escrow[sender.lower()] = self.escrow.get(sender.lower(), 0) + value
        self.balance += value

    def request_withdrawal(self, sender: str, now: int, amount: int) -> None:
        _fail(amount > 0, "amount is 0")
        _fail(amount <= self.escrow.get(sender.lower(), 0), "amount exceeds the escrow")
        self.notice[sender.lower()] = (amount, now + self.notice_s)

    def withdraw_escrow(self, sender: str, now: int) -> int:
        amount, available_at = self.notice.get(sender.lower(), (0, 0))
        _fail(amount > 0, "no withdrawal requested")
        _fail(now >= available_at, "notice period not over")
        amount = min(amount, self.escrow.get(sender.lower(), 0))  # sessions settled meanwhile come first
        del self.notice[sender.lower()]
        self.escrow[sender.lower()] -= amount
        self.balance -= amount
        return amount

    def withdraw_credit(self, sender: str) -> int:
        amount = self.credit.get(sender.lower(), 0)
        _fail(amount > 0, "no credit")
        self.credit[sender.lower()] = 0
        self.balance -= amount
        return amount

    def available_escrow(self, owner: str) -> int:
        """The free escrow not under a withdrawal notice [wei]: what a reservation may take."""
        escrow = self.escrow.get(owner.lower(), 0)
        return escrow - min(self.notice.get(owner.lower(), (0, 0))[0], escrow)

    # -- roaming ---------------------------------------------------------------------------------------
    @staticmethod
    def expired(now: int, start: int) -> bool:
        """True once RESERVATION_S have passed since `start` [s]."""
        return now >= start and now - start >= RESERVATION_S

    def is_billed(self, meter: str, interval: int) -> bool:
        return interval in self.billed.get(meter.lower(), set())

    def reserve(self, sender: str, now: int, start: SessionStart, session: bytes, ev_signer: str) -> bytes:
        """`session`: the start's EIP-712 digest; `ev_signer`: whom the EV's signature recovers to."""
        ev, meter = start.ev.lower(), start.meter.lower()
        _fail(ev in self.evs, "EV not registered")
        _fail(meter in self.meters, "meter not registered")
        _fail(sender.lower() == self.meters[meter].owner, "caller is not the meter's owner")
        _fail(ev_signer.lower() == ev, "session not signed by the EV")
        _fail(start.max_cost_wei > 0, "max cost is zero")
        _fail(start.start <= now + INTERVAL_S, "start too far ahead")
        _fail(not self.expired(now, start.start), "reservation would be expired")
        _fail(self.reserved.get(session, 0) == 0, "session already reserved")
        _fail(not self.is_billed(meter, start.start // INTERVAL_S), "start interval already billed")
        tariffs = self.tariffs.get(self.meters[meter].community, [])
        _fail(tariff_in_force(tariffs, start.start) is not None, "no tariff in force")
        payer = self.evs[ev]
        _fail(start.max_cost_wei <= self.available_escrow(payer), "escrow too low")
        self.escrow[payer] -= start.max_cost_wei
        self.reserved[session] = start.max_cost_wei
        return session

    def release(self, sender: str, now: int, start: SessionStart, session: bytes) -> int:
        amount = self.reserved.get(session, 0)
        _fail(amount > 0, "no reservation")
        meter = self.meters.get(start.meter.lower())
        if meter is None or sender.lower() != meter.owner:
            _fail(self.expired(now, start.start), "reservation not expired")
        payer = self.evs[start.ev.lower()]
        del self.reserved[session]
        self.escrow[payer] = self.escrow.get(payer, 0) + amount
        return amount

    def settle_session(
        self, now: int, start: SessionStart, ev_signer: str, reading: SessionReading, meter_signer: str
    ) -> Settled:
        """`ev_signer` / `meter_signer`: whom the two signatures recover to; `reading.session` must be the
        start's digest (the caller passes the start; the contract derives the session id from it)."""
        ev, meter = start.ev.lower(), start.meter.lower()
        _fail(ev in self.evs, "EV not registered")
        _fail(meter in self.meters, "meter not registered")
        _fail(ev_signer.lower() == ev, "session not signed by the EV")
        _fail(meter_signer.lower() == meter, "reading not signed by the meter")
        n = len(reading.energy_wh)
        _fail(0 < n <= MAX_SESSION_INTERVALS, "interval count out of range")  # > 96: the ABI decoder reverts
        # the reading begins in the start's interval: with the billed set, one signed start settles at most once
        _fail(reading.first_interval == start.start // INTERVAL_S, "reading does not begin at the session's start")
        intervals = range(reading.first_interval, reading.end_interval)
        billed = self.billed.get(meter, set())
        _fail(not any(i in billed for i in intervals), "intervals already billed")
        _fail(reading.end_interval <= now // INTERVAL_S, "session not over")
        m = self.meters[meter]
        tariffs = self.tariffs.get(m.community, [])
        # the contract checks interval by interval: the first interval's energy, then whether any tariff is in
        # force (if one is at the first interval, one is at every later one), then the other energies
        _fail(reading.energy_wh[0] <= MAX_INTERVAL_WH, "interval energy out of range")
        _fail(tariff_in_force(tariffs, reading.first_interval * INTERVAL_S) is not None, "no tariff in force")
        _fail(all(0 <= e <= MAX_INTERVAL_WH for e in reading.energy_wh), "interval energy out of range")
        cost = energy_cost(tariffs, reading.first_interval, reading.energy_wh)
        payer = self.evs[ev]
        held = self.reserved.pop(reading.session, 0)
        paid = min(cost, start.max_cost_wei, held + self.escrow.get(payer, 0))
        self.escrow[payer] = self.escrow.get(payer, 0) + held - paid
        self.credit[m.owner] = self.credit.get(m.owner, 0) + paid
        self.billed.setdefault(meter, set()).update(intervals)
        return Settled(
            reading.session, ev, payer, m.owner, meter, reading.first_interval, n, reading.total_wh, cost, paid
        )

    def held(self) -> int:
        """What the invariant says the contract holds: all escrow, all reservations and all credit [wei]."""
        return sum(self.escrow.values()) + sum(self.reserved.values()) + sum(self.credit.values())


# -- from a meter register to interval energies --------------------------------------------------------------
def interval_energies(
    start_s: int, start_wh: int, samples: Sequence[tuple[int, int]], stop_s: int, stop_wh: int
) -> tuple[int, tuple[int, ...]]:
    """A session's energy per interval from its meter register: `start_wh` at `start_s`, (time [s], register
    [Wh]) `samples` in between (at interval boundaries, as a charge point sends them; duplicates allowed) and
    `stop_wh` at `stop_s`. Returns (first interval, energies). Energy between two known register values goes to
    the interval that ends at the later one's boundary (a missing boundary sample shifts energy later, never
    loses or doubles it): the energies always sum to stop_wh - start_wh."""
    if stop_s < start_s:
        raise ValueError(f"stop_s: {stop_s} is before start_s {start_s}")
    if stop_wh < start_wh:
        raise ValueError(f"stop_wh: register {stop_wh} below start {start_wh}")
    first = start_s // INTERVAL_S
    last = max(first, (stop_s - 1) // INTERVAL_S) if stop_s > start_s else first
    energies = [0] * (last - first + 1)
    known = sorted({(t, wh) for t, wh in samples if start_s < t < stop_s} | {(stop_s, stop_wh)})
    prev_wh = start_wh
    for t, wh in known:
        if wh < prev_wh:
            raise ValueError(f"samples: register {wh} at {t} below an earlier {prev_wh}")
        energies[min(max((t - 1) // INTERVAL_S, first), last) - first] += wh - prev_wh
        prev_wh = wh
    return first, tuple(energies)


def bill(party: str, settled: Sequence[Settled], start: int, end: int, community: int, tariffs: Sequence) -> dict:
    """A party's bill for the sessions that started in [start, end) [unix s]: one line per session it was charged
    for (its EV's owner: the payer) or credited with (its meter's owner: the host), the totals, and the tariff of
    `community` in force at the period's end (`gridchain metering bill --json`'s object; the dashboard's too)."""
    lines = []
    for s in settled:
        if not start <= s.first_interval * INTERVAL_S < end:
            continue
        for role, who, sign in (("charged", s.payer, -1), ("credited", s.host, 1)):
            if who == party:
                lines.append(
                    {
                        "session": "0x" + s.session.hex(),
                        "role": role,
                        "start": s.first_interval * INTERVAL_S,
                        "intervals": s.intervals,
                        "energy_wh": s.energy_wh,
                        "cost_wei": s.cost_wei,
                        "paid_wei": s.paid_wei,
                        "unpaid_wei": s.unpaid_wei,
                        "balance_wei": sign * s.paid_wei,
                    }
                )
    in_force = tariff_in_force(tariffs, end - 1)
    return {
        "party": party,
        "from": start,
        "to": end,
        "community": community,
        "sessions": lines,
        "energy_wh": sum(x["energy_wh"] for x in lines),
        "charged_wei": sum(x["paid_wei"] for x in lines if x["role"] == "charged"),
        "credited_wei": sum(x["paid_wei"] for x in lines if x["role"] == "credited"),
        "unpaid_wei": sum(x["unpaid_wei"] for x in lines if x["role"] == "charged"),
        "tariff": None
        if in_force is None
        else {"effective_from": in_force.effective_from, "prices_wei_per_kwh": list(in_force.prices_wei_per_kwh)},
    }
