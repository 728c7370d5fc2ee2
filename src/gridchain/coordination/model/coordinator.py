"""Twin of contracts/charging_coordinator.vy: packing, hash chains, the close of a slot, and the state machine.

The contract and this module must agree bit for bit; tests/differential holds them to it. A request on chain
is one 256-bit word: demand_w (bits 0-63) | soc_pm (64-79) | tcc (80-111) | arrival (112-175); `arrival` is
slot << 32 | k for the slot's k-th submission (k from 1): unique over the contract's life and increasing
with time, so it breaks every tie and the order is strict. The contract keeps a slot's submissions as one
word, `submit_chain`: a hash chain whose low 64 bits are its last arrival (its slot and count), in a ring
of RING words: a submission reverts while its word holds an earlier slot's chain that is not closed.

The schedule itself is the `greedy` policy of `core.policies`; this module adds what the chain needs around
it: the carry-over (deferred and partial requests move to the next slot, in the order of the close, with
TCC - 1 and their remaining demand, their SoC unchanged; a request whose TCC reaches 0 expires), the
commitments, the slot clock, the members' request limits, and the close in pages (one per caller, every
listed value a well-formed request).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from eth_utils import keccak

from gridchain.coordination.model.policies import POLICIES
from gridchain.coordination.model.priority import precedes, priority, priority_order
from gridchain.coordination.model.request import (
    PM,
    POWER_MAX_W,
    SOC_PM_MAX,
    TCC_MAX,
    ChargingRequest,
    Slot,
)
from gridchain.coordination.model.schedule import Schedule, Status
from gridchain.crypto import blind
from gridchain.errors import ContractRevert

MASK16 = 2**16 - 1
MASK32 = 2**32 - 1
MASK64 = 2**64 - 1
UNSET = 2**256 - 1
MAX_REQUESTS = 1024
"""Most requests one call takes (the contract's DynArray bound; the ABI decoder rejects a longer list
before any check runs): a slot with more pending requests closes in pages."""
ZERO_HASH = b"\x00" * 32
REQUEST_BITS = 176
"""A packed request lies below 2**176; a paged close refuses any listed value that does not."""
FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617
"""BN254's scalar field, in which the paged close compares products (every well-formed request is below it)."""
DEFAULT_REQUEST_LIMIT = 1
"""Requests a member may submit per slot until the owner sets another limit (the paper's ESU sends one)."""
REQUEST_LIMIT_MAX = 2**32
RING = 96
"""The contract's ring of submit chains: slot s's in word s % RING, so at most RING slots with submissions
are pending; a submission into slot t reverts while slot t - j RING (j >= 1) has submissions and is not
closed."""
CARRY_IV = keccak(text="gridchain.coordinator.carry")
"""Start of the carry chain (never zero, so the contract's storage word is never cleared)."""


def pack(demand_w: int, soc_pm: int, tcc: int, arrival: int) -> int:
    return demand_w | (soc_pm << 64) | (tcc << 80) | (arrival << 112)


def arrival_of(slot: int, k: int) -> int:
    """The arrival number of slot `slot`'s k-th submission (k from 1)."""
    return (slot << 32) | k


def request_id(arrival: int) -> str:
    """A request's id: `#<slot>.<k>` for the slot it was submitted in and its rank there."""
    return f"#{arrival >> 32}.{arrival & MASK32}"


def unpack(word: int) -> ChargingRequest:
    """The request a packed word stands for; its id is `request_id(arrival)`."""
    arrival = word >> 112
    return ChargingRequest(request_id(arrival), word & MASK64, (word >> 64) & MASK16, (word >> 80) & MASK32, arrival)


def chain(words: Iterable[int], start: bytes = ZERO_HASH) -> bytes:
    """keccak256 hash chain h = keccak(h || word) over 32-byte big-endian words, as the contract keeps it."""
    h = start
    for w in words:
        h = keccak(h + w.to_bytes(32, "big"))
    return h


def submit_chain(words: Iterable[int]) -> bytes:
    """A slot's `submit_hash` on chain: each step keeps the high 192 bits of keccak(h || word) and puts the
    request's arrival (its slot << 32 | its rank in the slot) in the low 64 bits."""
    h = ZERO_HASH
    for w in words:
        h = keccak(h + w.to_bytes(32, "big"))[:24] + ((w >> 112) & MASK64).to_bytes(8, "big")
    return h


def check_listed(word: int) -> None:
    """What a paged close demands of every value a sorted page lists before it walks them (the contract's
    `close_sorted_page`): below 2**176 < FIELD, so that equal products mean equal multisets. Nothing else: a
    value that is not a pending request (a zero demand, a soc_pm above 999, a TCC of 0) is walked in the
    contract's unchecked arithmetic (`walk_order_ok`) and refused by `finish_close`'s multiset check."""
    if word >> REQUEST_BITS:
        raise CoordinatorError("coordinator: listed request out of range")


U256 = 2**256


def walk_key(word: int, beta1_pm: int) -> tuple[int, int]:
    """U of `word` (below 2**176) as the walk computes it (`greedy_walk.walk`: unsafe arithmetic modulo
    2**256; the reference's `priority` for a well-formed request), and the walk's `prev` word for it: the
    word with U in the bits above 176 (so only U's low 80 bits stay)."""
    u = beta1_pm * ((PM - ((word >> 64) & MASK16)) % U256) % U256
    tcc = (word >> 80) & MASK32
    if tcc == 1:
        u = (u + (PM - beta1_pm) * PM) % U256
    elif tcc == 2:
        u = (u + (PM - beta1_pm) * (PM // 2)) % U256
    return u, (word | (u << 176)) % U256


def walk_order_ok(prev: int, word: int, beta1_pm: int) -> bool:
    """The walk's check that `word` comes strictly after `prev` (a `walk_key` word, 0 at the start), in the
    contract's arithmetic: on well-formed requests it is `precedes`; on any other value below 2**176 it
    decides as the contract does, so that the twin refuses a sorted page exactly when the contract does."""
    u, _ = walk_key(word, beta1_pm)
    lhs = (prev >> 176) * (word & MASK64) % U256
    rhs = u * (prev & MASK64) % U256
    if lhs > rhs:
        return True
    if lhs != rhs:
        return False
    if prev >> 176 == u:
        return (prev >> 112) & MASK64 < word >> 112
    return prev >> 176 > u or prev == 0


def position(positions: Sequence[int], k: int) -> int:
    """Entry k of packed indices (see `pack_indices`)."""
    return (positions[k >> 4] >> ((k & 15) << 4)) & MASK16


def pack_indices(indices: Sequence[int]) -> list[int]:
    """Indices (each < 2**16) packed 16 to a word, entry k in bits 16 (k % 16) of word k // 16."""
    words = [0] * ((len(indices) + 15) // 16)
    for k, i in enumerate(indices):
        words[k >> 4] |= i << ((k & 15) << 4)
    return words


@dataclass(frozen=True)
class Expiry:
    arrival: int
    remaining_w: int


@dataclass(frozen=True)
class CloseResult:
    """What closing one slot does: the schedule, the SlotClosed event's fields, and the carry-over."""

    slot: int
    schedule: Schedule  # allocations in the order of `requests`
    scheduled: int
    partial_arrival: int  # UNSET when no partial grant
    partial_w: int
    expired: tuple[Expiry, ...]
    carried: tuple[int, ...]  # packed, in the order the close settles them: the next slot's carry chain

    @property
    def carry_hash(self) -> bytes:
        return chain(self.carried, CARRY_IV)

    def event(self) -> dict[str, object]:
        """The SlotClosed event as the contract logs it."""
        return {
            "slot": self.slot,
            "capacity_w": self.schedule.capacity_w,
            "granted_w": self.schedule.granted_w,
            "requests": len(self.schedule.allocations),
            "scheduled": self.scheduled,
            "partial_arrival": self.partial_arrival,
            "partial_w": self.partial_w,
            "expired": len(self.expired),
            "carried": len(self.carried),
        }


def close(slot: int, requests: Sequence[int], capacity_w: int, beta1_pm: int) -> CloseResult:
    """Schedule the packed `requests` of `slot` with the greedy rule, then carry over and expire.

    Requests not served in full are settled in the contract's order: along the walk, except the leftover
    candidate (highest U among the unscheduled so far, earliest on ties), which is settled when a request of
    higher U displaces it, or last, with the leftover grant.
    """
    reqs = tuple(unpack(w) for w in requests)
    schedule = POLICIES["greedy"].schedule(Slot(capacity_w, reqs, beta1_pm))
    allocations = schedule.allocations
    by_rank = sorted(range(len(reqs)), key=lambda i: allocations[i].rank)
    carried: list[int] = []
    expired: list[Expiry] = []

    def settle(i: int) -> None:
        r, granted = reqs[i], allocations[i].granted_w
        if r.tcc == 1:
            expired.append(Expiry(r.arrival, r.demand_w - granted))
        else:
            carried.append(pack(r.demand_w - granted, r.soc_pm, r.tcc - 1, r.arrival))

    held: int | None = None
    for i in by_rank:
        if allocations[i].status is Status.SCHEDULED:
            continue
        if held is None or allocations[i].priority > allocations[held].priority:
            if held is not None:
                settle(held)
            held = i
        else:
            settle(i)
    partial = (UNSET, 0)
    if held is not None:
        if allocations[held].status is Status.PARTIAL:
            partial = (reqs[held].arrival, allocations[held].granted_w)
        settle(held)
    scheduled = sum(a.status is Status.SCHEDULED for a in allocations)
    return CloseResult(slot, schedule, scheduled, *partial, tuple(expired), tuple(carried))


def rule_order(requests: Sequence[int], beta1_pm: int) -> list[int]:
    """Indices of the packed `requests` in the rule's order (core's greedy order)."""
    reqs = [unpack(w) for w in requests]
    return priority_order(reqs, [priority(r, beta1_pm) for r in reqs])


def close_calldata(requests: Sequence[int], beta1_pm: int) -> tuple[list[int], list[int]]:
    """The arguments of `close_slot` after the slot number, for the pending `requests` in canonical order:
    the requests in the rule's order, and for each pending request its index in that list (packed)."""
    order = rule_order(requests, beta1_pm)
    positions = [0] * len(order)
    for rank, i in enumerate(order):
        positions[i] = rank
    return [requests[i] for i in order], pack_indices(positions)


@dataclass(frozen=True)
class PagedClose:
    """The calls of a close in pages: begin_close(slot, n, sorted_hash), the sorted pages, the pending
    pages (canonical order), then finish_close(); a keeper sends the pages `paired`."""

    n: int
    sorted_hash: bytes
    sorted_pages: list[list[int]]
    pending_pages: list[list[int]]

    def paired(self) -> list[tuple[list[int], list[int]]]:
        """The pages two to a `close_pages` call: sorted page i beside pending page i (the lists have as
        many pages: both cut the same n requests into pages of the same size)."""
        return list(zip(self.sorted_pages, self.pending_pages, strict=True))


def paged_calldata(requests: Sequence[int], beta1_pm: int, page: int = MAX_REQUESTS) -> PagedClose:
    ordered = [requests[i] for i in rule_order(requests, beta1_pm)]
    cut = lambda xs: [list(xs[k : k + page]) for k in range(0, len(xs), page)]  # noqa: E731
    return PagedClose(len(requests), chain(ordered), cut(ordered), cut(list(requests)))


@dataclass
class _Paging:
    """One caller's paged close (the contract's `paging[caller]`)."""

    slot: int
    n: int
    sorted_hash: bytes
    capacity_w: int  # the slot's capacity when it began
    sorted: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)


class CoordinatorError(ContractRevert):
    """A call the contract would revert, with the contract's reason (`coordinator: ...`)."""


@dataclass(frozen=True)
class AnonymousSubmission:
    """One anonymous request as the model checks it: `signer` is whom its EIP-712 signature recovers to
    (`gridchain.coordination.anonymous.client.signer_of`), `token` the RSA signature as an integer."""

    pseudonym: str
    signer: str
    demand_w: int
    soc_pm: int
    tcc: int
    token: int


def check_slot(slot: int, current: int) -> None:
    """The contract's `_check_slot`: a request names the current slot."""
    if slot < current:
        raise CoordinatorError("coordinator: slot closed")
    if slot != current:
        raise CoordinatorError("coordinator: slot not open")


def check_fields(demand_w: int, soc_pm: int, tcc: int) -> None:
    """The contract's checks of a request's fields, with its revert reasons."""
    for ok, reason in (
        (demand_w > 0, "demand is 0"),
        (demand_w <= POWER_MAX_W, "demand out of range"),
        (soc_pm <= SOC_PM_MAX, "soc_pm above 999"),
        (tcc > 0, "tcc is 0"),
        (tcc <= TCC_MAX, "tcc out of range"),
    ):
        if not ok:
            raise CoordinatorError(f"coordinator: {reason}")


@dataclass
class CoordinatorModel:
    """The contract's whole state machine in Python, for differential and stateful tests.

    Every method raises CoordinatorError with the contract's revert reason where the contract reverts, and
    changes nothing then.
    """

    start_time: int
    slot_length: int
    beta1_pm: int
    last_capacity_w: int
    owner: str
    members: set[str] = field(default_factory=set)
    next_slot_to_close: int = 0
    posted: dict[int, int] = field(default_factory=dict)
    submitted: dict[int, list[int]] = field(default_factory=dict)
    carried: dict[int, list[int]] = field(default_factory=dict)
    closes: list[CloseResult] = field(default_factory=list)
    paging: dict[str, _Paging] = field(default_factory=dict)  # caller -> its paged close
    address: str = ""  # the contract's address and chain: the community the tokens are bound to
    chain_id: int = 0
    epoch_keys: dict[int, int] = field(default_factory=dict)  # epoch -> modulus
    spent: set[str] = field(default_factory=set)  # pseudonyms, lower-case
    limits: dict[str, int] = field(default_factory=dict)  # member -> requests per slot (default 1)
    member_slots: dict[str, tuple[int, int]] = field(default_factory=dict)  # member -> (slot, requests in it)
    poster: str = ""  # the capacity poster (empty: none)
    poster_max_w: int = 0  # its bound [W]

    def current_slot(self, now: int) -> int:
        if now < self.start_time:
            raise CoordinatorError("coordinator: not started")
        return (now - self.start_time) // self.slot_length

    def slot_end(self, slot: int) -> int:
        return self.start_time + (slot + 1) * self.slot_length

    def _check_owner(self, sender: str) -> None:
        if sender != self.owner:
            raise CoordinatorError("coordinator: caller is not the owner")

    def set_member(self, sender: str, member: str, allowed: bool) -> None:
        """Admit or remove; the member's limit and its count in the current slot stay."""
        self._check_owner(sender)
        (self.members.add if allowed else self.members.discard)(member)

    def set_request_limit(self, sender: str, member: str, limit: int) -> None:
        self._check_owner(sender)
        if limit == 0:
            raise CoordinatorError("coordinator: request limit is 0")
        if limit > REQUEST_LIMIT_MAX:
            raise CoordinatorError("coordinator: request limit out of range")
        self.limits[member] = limit

    def request_limit(self, member: str) -> int:
        return self.limits.get(member, DEFAULT_REQUEST_LIMIT)

    def member_requests(self, member: str, slot: int) -> int:
        """Requests `member` submitted into `slot`, if that is the slot of its last request (else 0)."""
        last, count = self.member_slots.get(member, (0, 0))
        return count if last == slot else 0

    def set_capacity_poster(self, sender: str, poster: str, max_capacity_w: int) -> None:
        """Delegate posting capacity up to a bound to `poster` (replacing any), or revoke it (poster "")."""
        self._check_owner(sender)
        if max_capacity_w > MASK64:
            raise CoordinatorError("coordinator: poster bound out of range")
        if not poster and max_capacity_w != 0:
            raise CoordinatorError("coordinator: bound without a poster")
        self.poster, self.poster_max_w = poster, max_capacity_w

    def post_capacity(self, sender: str, slot: int, capacity_w: int) -> None:
        """The owner posts any capacity; the poster up to its bound (the same checks, in the contract's order)."""
        bound = None
        if sender != self.owner:
            if not self.poster or sender != self.poster:
                raise CoordinatorError("coordinator: caller is not the owner or poster")
            bound = self.poster_max_w
        if slot < self.next_slot_to_close:
            raise CoordinatorError("coordinator: slot already closed")
        if capacity_w > MASK64:
            raise CoordinatorError("coordinator: capacity out of range")
        if bound is not None and capacity_w > bound:
            raise CoordinatorError("coordinator: capacity above the poster's bound")
        self.posted[slot] = capacity_w

    def submit_request(
        self, sender: str, now: int, demand_w: int, soc_pm: int, tcc: int, slot: int | None = None
    ) -> int:
        current = self.current_slot(now)
        if slot is not None:
            check_slot(slot, current)
        if sender not in self.members:
            raise CoordinatorError("coordinator: sender not authorised")
        check_fields(demand_w, soc_pm, tcc)
        count = self.member_requests(sender, current)
        if count >= self.request_limit(sender):
            raise CoordinatorError("coordinator: request limit reached")
        arrival = self._next_arrival(current)
        self.member_slots[sender] = (current, count + 1)
        self.submitted.setdefault(current, []).append(pack(demand_w, soc_pm, tcc, arrival))
        return arrival

    def _next_arrival(self, current: int) -> int:
        """The next arrival in `current`, after the ring's check: no earlier slot of its word is pending."""
        ring = current % RING
        if any(u % RING == ring and self.next_slot_to_close <= u < current for u, w in self.submitted.items() if w):
            raise CoordinatorError("coordinator: too many slots not closed")
        if current > MASK32:
            raise CoordinatorError("coordinator: slot out of range")
        return arrival_of(current, len(self.submitted.get(current, [])) + 1)

    # -- anonymous requests (contracts/modules/anonymous_requests.vy) --------------------------------------
    def register_epoch_key(self, sender: str, now: int, epoch: int, modulus: int) -> None:
        self._check_owner(sender)
        if epoch < blind.epoch_of(now):
            raise CoordinatorError("coordinator: epoch is over")
        if modulus.bit_length() != blind.MODULUS_BITS:
            raise CoordinatorError("coordinator: modulus is not 2048 bits")
        if modulus % 2 == 0:
            raise CoordinatorError("coordinator: modulus is even")
        if epoch in self.epoch_keys:
            raise CoordinatorError("coordinator: epoch key already registered")
        self.epoch_keys[epoch] = modulus

    def submit_anonymous(
        self,
        now: int,
        slot: int,
        epoch: int,
        requests: Sequence[AnonymousSubmission],
        batch: bool = False,
    ) -> list[int]:
        """`submit_request_anonymous` (one request, batch=False) or `submit_requests_anonymous`: the arrival
        numbers, or CoordinatorError with the contract's reason and nothing recorded."""
        if batch and not requests:
            raise CoordinatorError("coordinator: no requests")
        current = self.current_slot(now)
        check_slot(slot, current)
        slot_epoch = blind.epoch_of(self.start_time + current * self.slot_length)
        if epoch < slot_epoch:
            raise CoordinatorError("coordinator: token epoch is over")
        if epoch != slot_epoch:
            raise CoordinatorError("coordinator: token epoch not begun")
        if epoch not in self.epoch_keys:
            raise CoordinatorError("coordinator: no key registered for the epoch")
        modulus = self.epoch_keys[epoch]
        public = blind.PublicKey(modulus)
        first = self._next_arrival(current) if batch else None  # one request: read once it is checked
        spent = set(self.spent)
        words = []
        for k, r in enumerate(requests):
            check_fields(r.demand_w, r.soc_pm, r.tcc)
            pseudonym = r.pseudonym.lower()
            if r.signer.lower() != pseudonym:
                raise CoordinatorError("coordinator: signature is not the pseudonym's")
            if pseudonym in spent:
                raise CoordinatorError("coordinator: pseudonym already used")
            if r.token >= modulus:
                raise CoordinatorError("coordinator: token is not below the modulus")
            message = blind.fdh(blind.token_seed(self.chain_id, self.address, epoch, r.pseudonym))
            if not blind.verify(public, message, r.token):
                raise CoordinatorError("coordinator: token does not verify")
            spent.add(pseudonym)
            if first is None:
                first = self._next_arrival(current)
            words.append(pack(r.demand_w, r.soc_pm, r.tcc, first + k))
        self.spent = spent
        self.submitted.setdefault(current, []).extend(words)
        return [unpack(w).arrival for w in words]

    def pending(self, slot: int) -> list[int]:
        """The packed requests `close_slot(slot, ...)` must be given, in their canonical order."""
        return self.carried.get(slot, []) + self.submitted.get(slot, [])

    def capacity_of(self, slot: int) -> int:
        """The capacity the close of `slot` will use (exact for the next slot to close)."""
        return self.posted.get(slot, self.last_capacity_w)

    def _open_close(self, now: int, slot: int) -> None:
        if slot < self.next_slot_to_close:
            raise CoordinatorError("coordinator: slot already closed")
        if slot != self.next_slot_to_close:
            raise CoordinatorError("coordinator: earlier slot not closed")
        if now < self.slot_end(slot):
            raise CoordinatorError("coordinator: slot not ended")

    def close_slot(
        self, now: int, slot: int, requests: Sequence[int] | None = None, positions: Sequence[int] | None = None
    ) -> CloseResult:
        """A close in one call: with its calldata (requests in the rule's order, packed positions) checked as
        the contract checks it, or, without, the right calldata. Other callers' paged closes of the slot are
        void once it is closed."""
        self._open_close(now, slot)
        if requests is not None:
            self._check_close_calldata(slot, requests, positions or [])
        return self._close(slot)

    def _check_close_calldata(self, slot: int, requests: Sequence[int], positions: Sequence[int]) -> None:
        """The contract's `close_slot` checks after `_open_close`, in its order: positions' length, then the
        pending chains taken through the positions, then the walk's order."""
        n, carried, submitted = len(requests), self.carried.get(slot, []), self.submitted.get(slot, [])
        if len(positions) != (n + 15) // 16:
            raise CoordinatorError("coordinator: positions have the wrong length")
        if n < len(carried):
            raise CoordinatorError("coordinator: fewer requests than carried")
        for part, expected, chain_name in (
            (range(len(carried)), carried, "carried"),
            (range(len(carried), n), submitted, "submitted"),
        ):
            taken = []
            for k in part:
                i = position(positions, k)
                if i >= n:
                    raise CoordinatorError("coordinator: position out of range")
                taken.append(requests[i])
            if taken != expected:
                raise CoordinatorError(f"coordinator: {chain_name} chain mismatch")
        self._check_order([], list(requests))

    def _check_order(self, before: Sequence[int], words: Sequence[int]) -> None:
        """The walk's check: each of `words` strictly after the one before it (the last of `before` first)."""
        listed = list(before[-1:]) + list(words)
        reqs = [unpack(w) for w in listed]
        us = [priority(r, self.beta1_pm) for r in reqs]
        for k in range(1, len(listed)):
            if not precedes(reqs[k - 1], us[k - 1], reqs[k], us[k]):
                raise CoordinatorError("coordinator: order not sorted")

    def _close(self, slot: int) -> CloseResult:
        requests = self.pending(slot)
        result = close(slot, requests, self.capacity_of(slot), self.beta1_pm)
        self.carried[slot + 1] = list(result.carried)
        self.last_capacity_w = result.schedule.capacity_w
        self.next_slot_to_close = slot + 1
        self.closes.append(result)
        return result

    # -- a close in pages: one per caller, with the contract's rules and reasons ------------------------------
    def begin_close(self, sender: str, now: int, slot: int, n: int, sorted_hash: bytes) -> None:
        """Start (or start over) the caller's own paged close; nobody else's is touched."""
        self._open_close(now, slot)
        if n < len(self.carried.get(slot, [])):
            raise CoordinatorError("coordinator: fewer requests than carried")
        if n == 0:
            raise CoordinatorError("coordinator: no requests to page")
        self.paging[sender] = _Paging(slot, n, sorted_hash, self.capacity_of(slot))

    def paging_of(self, sender: str) -> _Paging | None:
        """The caller's paged close if it may still finish (it is of the next slot to close), else None."""
        p = self.paging.get(sender)
        return p if p is not None and p.slot == self.next_slot_to_close else None

    def _paging(self, sender: str) -> _Paging:
        p = self.paging_of(sender)
        if p is None:
            raise CoordinatorError("coordinator: no paged close in progress")
        return p

    def close_sorted_page(self, sender: str, words: Sequence[int]) -> None:
        """The next part of the list in the rule's order: every value a well-formed request, then each
        strictly after the one before."""
        p = self._paging(sender)
        if len(p.sorted) + len(words) > p.n:
            raise CoordinatorError("coordinator: more requests than committed")
        for w in words:
            check_listed(w)
        prev = walk_key(p.sorted[-1], self.beta1_pm)[1] if p.sorted else 0
        for w in words:
            if not walk_order_ok(prev, w, self.beta1_pm):
                raise CoordinatorError("coordinator: order not sorted")
            prev = walk_key(w, self.beta1_pm)[1]
        p.sorted = p.sorted + list(words)

    def close_pages(self, sender: str, sorted_words: Sequence[int], pending_words: Sequence[int]) -> None:
        """The contract's `close_pages`: a sorted page, then a pending page, in one call (either may be
        empty); all or nothing, as a transaction."""
        p = self._paging(sender)
        before = (p.sorted, p.pending)
        try:
            if sorted_words:
                self.close_sorted_page(sender, sorted_words)
            if pending_words:
                self.close_pending_page(sender, pending_words)
        except CoordinatorError:
            p.sorted, p.pending = before
            raise

    def close_pending_page(self, sender: str, words: Sequence[int]) -> None:
        """The next part of the pending set in canonical order; reaching the end of the carried part checks
        it. Value by value, as the contract: below 2**176, then the carried boundary."""
        p = self._paging(sender)
        if len(p.pending) + len(words) > p.n:
            raise CoordinatorError("coordinator: more requests than committed")
        listed = p.pending + list(words)
        carried = self.carried.get(p.slot, [])
        for k in range(len(p.pending), len(listed)):
            if listed[k] >> REQUEST_BITS:
                raise CoordinatorError("coordinator: listed request out of range")
            if k == len(carried) and listed[:k] != carried:
                raise CoordinatorError("coordinator: carried chain mismatch")
        p.pending = listed

    def finish_close(self, sender: str, now: int) -> CloseResult:
        p = self._paging(sender)
        if p.capacity_w != self.capacity_of(p.slot):
            raise CoordinatorError("coordinator: capacity changed since begin_close")
        if len(p.sorted) != p.n:
            raise CoordinatorError("coordinator: sorted pages missing")
        if len(p.pending) != p.n:
            raise CoordinatorError("coordinator: pending pages missing")
        if chain(p.sorted) != p.sorted_hash:
            raise CoordinatorError("coordinator: pages differ from the committed order")
        # the contract checks the chains (the carried one here only if no page reached its end), then the
        # multisets (products at a random point; every value listed is below 2**176 < FIELD, so equal products
        # mean equal multisets)
        carried = self.carried.get(p.slot, [])
        if p.n == len(carried) and p.pending != carried:
            raise CoordinatorError("coordinator: carried chain mismatch")
        if p.pending[len(carried) :] != self.submitted.get(p.slot, []):
            raise CoordinatorError("coordinator: submitted chain mismatch")
        if sorted(p.sorted) != sorted(p.pending):
            raise CoordinatorError("coordinator: not a permutation of the pending set")
        return self.close_slot(now, p.slot)
