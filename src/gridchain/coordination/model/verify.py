"""Anyone can check a slot's schedule: rebuild its requests from the chain's records, recompute, compare.

This is the paper's transparency claim made executable. It trusts nothing the keeper computed: the
pending set of each slot is rebuilt from the submission events and this module's own recomputation of
every earlier close (carry-over included), the capacity is checked against the utility's postings, and
the result is compared with what the contract recorded: the SlotClosed event and, for a close in one call,
its calldata and the expiry events of its transaction. (A paged close logs no expiries: its pages walk before
anything is verified, and may never be finished. Its expiries are the recomputed ones.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from gridchain.coordination.model.coordinator import (
    CloseResult,
    close,
    close_calldata,
    request_id,
)


@dataclass
class ChainRecords:
    """What the chain recorded, as plain values (see actors.verifier.fetch_records)."""

    beta1_pm: int
    submitted: dict[int, list[int]] = field(default_factory=dict)  # slot -> packed requests, in order
    posted: dict[int, int] = field(default_factory=dict)  # slot -> the last capacity posted for it
    closed: dict[int, dict[str, int]] = field(default_factory=dict)  # slot -> SlotClosed event arguments
    # slot -> (requests in the rule's order, packed positions): the calldata of a close in one call
    close_inputs: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict)
    # slot -> [(arrival, remaining_w)]: the expiries a close in one call logged in its own transaction
    expired: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    slot: int
    result: CloseResult | None  # the recomputed close (None if the slot is not closed)
    mismatches: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.result is not None and not self.mismatches


def recompute(records: ChainRecords, upto: int) -> list[CloseResult]:
    """Recompute the closes of slots 0..upto from submissions and capacities alone."""
    results: list[CloseResult] = []
    carried: list[int] = []
    for slot in range(upto + 1):
        capacity = records.closed[slot]["capacity_w"]
        result = close(slot, carried + records.submitted.get(slot, []), capacity, records.beta1_pm)
        results.append(result)
        carried = list(result.carried)
    return results


def _capacity_mismatches(records: ChainRecords, slot: int) -> list[str]:
    used = records.closed[slot]["capacity_w"]
    if slot in records.posted:
        expected, why = records.posted[slot], "posted for it"
    elif slot > 0:
        expected, why = records.closed[slot - 1]["capacity_w"], "of the slot before (none was posted)"
    else:
        return []  # slot 0 without a posting uses the constructor's capacity
    if used != expected:
        return [f"slot {slot}: capacity_w on chain {used}, but the capacity {why} is {expected}"]
    return []


def verify_slot(records: ChainRecords, slot: int) -> Verdict:
    """Every way the chain's record of `slot` differs from the recomputation (none: the schedule is right)."""
    return verify_slots(records, slot)[-1]


def verify_slots(records: ChainRecords, upto: int, prior: Sequence[Verdict] = ()) -> list[Verdict]:
    """Verdicts for slots 0..upto, from one recomputation of the history.

    `prior`: the verdicts of slots 0..k-1 already computed from records that hold the same for those slots (a
    reader following a growing chain): they are kept and only slots k..upto are recomputed, from the last one's
    carry-over; the result equals a recomputation from slot 0."""
    missing = [s for s in range(upto + 1) if s not in records.closed]
    if missing:
        done = missing[0]
        verdicts = verify_slots(records, done - 1, prior[:done]) if done > 0 else []
        return verdicts + [Verdict(s, None, (f"slot {done} is not closed yet",)) for s in range(done, upto + 1)]
    kept = [v for v in prior[: upto + 1] if v.result is not None]
    kept = kept[: next((i for i, v in enumerate(kept) if v.slot != i), len(kept))]  # a prefix 0..k-1 only
    capacity_problems = [m for slot in range(len(kept)) for m in _capacity_mismatches(records, slot)]
    carried = list(kept[-1].result.carried) if kept else []
    verdicts = list(kept)
    for slot in range(len(kept), upto + 1):
        result = close(
            slot, carried + records.submitted.get(slot, []), records.closed[slot]["capacity_w"], records.beta1_pm
        )
        capacity_problems += _capacity_mismatches(records, slot)  # a wrong capacity taints every later slot
        mismatches = list(capacity_problems) + _record_mismatches(records, slot, result, carried)
        verdicts.append(Verdict(slot, result, tuple(mismatches)))
        carried = list(result.carried)
    return verdicts


def _record_mismatches(records: ChainRecords, slot: int, result: CloseResult, carried_in: list[int]) -> list[str]:
    """How the chain's record of one slot differs from its recomputation: the SlotClosed event, and for a close
    in one call its expiries and its calldata (the pending set, in the rule's order)."""
    mismatches = []
    for key, value in result.event().items():
        on_chain = records.closed[slot].get(key)
        if on_chain != value:
            mismatches.append(f"slot {slot}: {key} on chain {on_chain}, recomputed {value}")
    if slot in records.close_inputs:
        expiries = [(e.arrival, e.remaining_w) for e in result.expired]
        logged = records.expired.get(slot, [])
        if logged != expiries:
            mismatches.append(f"slot {slot}: expiries on chain {logged}, recomputed {expiries}")
        requests, positions = records.close_inputs[slot]
        pending = carried_in + records.submitted.get(slot, [])
        expected, expected_positions = close_calldata(pending, records.beta1_pm)
        if sorted(requests) != sorted(pending):
            mismatches.append(
                f"slot {slot}: the close was given {len(requests)} requests, not the {len(pending)} pending"
            )
        elif requests != expected or positions != expected_positions:
            mismatches.append(f"slot {slot}: the close's order is not the rule's order")
    return mismatches


def follow(records: ChainRecords, arrival: int, upto: int) -> list[tuple[int, int, str]]:
    """One request's story over slots 0..upto: (slot, granted_w, status) while it was pending."""
    story = []
    for result in recompute(records, upto):
        for a in result.schedule.allocations:
            if a.id == request_id(arrival):
                story.append((result.slot, a.granted_w, str(a.status)))
    return story
