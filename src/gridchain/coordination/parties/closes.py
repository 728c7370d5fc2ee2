"""Follow a coordinator's closes as they happen: through the client's incremental reads of the history (each
block's logs read once per process), each closed slot's grants recomputed from that close alone.

A close in one call carries the slot's whole pending set in its calldata, which the contract checked against its
commitments: the model's `close` of that list at the slot's capacity (from the SlotClosed event) gives every
request's grant. A close in pages (or one sent through another contract) does not: its grants are recomputed
from the chain's records (`fetch_records`) up to that slot.
"""

from __future__ import annotations

from dataclasses import dataclass

from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import close, request_id
from gridchain.coordination.model.verify import recompute
from gridchain.coordination.parties.verifier import fetch_records


@dataclass(frozen=True)
class ClosedSlot:
    """A closed slot's grants: request id (`#<slot>.<k>`, see `request_id`) -> granted power [W] for the slot
    that follows it; a pending request that got nothing is there with 0."""

    slot: int
    granted_w: dict[str, int]

    def grant_of(self, arrival: int) -> int | None:
        """The grant of the request with this arrival number; None if it was not pending in this slot."""
        return self.granted_w.get(request_id(arrival))


class SlotCloses:
    """The closes of `client`'s coordinator from slot `first_slot` on, each reported once by `new()` in slot
    order. Its state is one number, the next slot to report (what issue 17 persists)."""

    def __init__(self, client: CoordinatorClient, first_slot: int) -> None:
        self.client = client
        self.next_slot = first_slot

    def new(self) -> list[ClosedSlot]:
        """The slots closed since the last call (none if no new close is visible yet), oldest first."""
        upto = self.client.next_slot_to_close
        out = []
        for slot in range(self.next_slot, upto):
            event = self.client.closed(slot)
            if event is None:  # the node answers the view before its logs (or they are not confirmed yet)
                break
            out.append(ClosedSlot(slot, self._grants(slot, event)))
            self.next_slot = slot + 1
        return out

    def _grants(self, slot: int, event) -> dict[str, int]:
        calldata = self.client.close_input(event.tx_hash)
        if calldata is not None:
            result = close(slot, calldata[1], int(event.args["capacity_w"]), self.client.beta1_pm)
        else:
            result = recompute(fetch_records(self.client), slot)[slot]
        return {a.id: a.granted_w for a in result.schedule.allocations}
