"""An ESU (EV or home battery) client: submits its request, follows it across slots, and verifies it."""

from __future__ import annotations

from dataclasses import dataclass, field

from gridchain.chain.coordinator import CoordinatorClient
from gridchain.chain.gateway import Receipt
from gridchain.core.verify import ChainRecords, Verdict, follow


@dataclass
class Esu:
    name: str
    client: CoordinatorClient
    account: str
    arrival: int | None = None  # the request's arrival number once submitted
    slot: int | None = None  # the slot it was submitted into
    receipts: list[Receipt] = field(default_factory=list)

    def request(self, demand_w: int, soc_pm: int, tcc: int) -> Receipt:
        submission, receipt = self.client.submit_request(self.account, demand_w, soc_pm, tcc)
        self.arrival, self.slot = submission.request >> 112, submission.slot
        self.receipts.append(receipt)
        return receipt

    def story(self, records: ChainRecords, upto: int) -> list[tuple[int, int, str]]:
        """(slot, granted_w, status) for each slot the request was pending in, recomputed from the chain."""
        return [] if self.arrival is None else follow(records, self.arrival, upto)

    def check(self, story: list[tuple[int, int, str]], verdicts: dict[int, Verdict]) -> list[str]:
        """Mismatches in the slots that concern this ESU (none: its allocations are the rule's)."""
        return [m for slot, _, _ in story for m in verdicts[slot].mismatches]
