"""An ESU (EV or home battery) client: submits its request, follows it across slots, and verifies it."""

from __future__ import annotations

from dataclasses import dataclass, field

from gridchain.chain.gateway import Receipt
from gridchain.coordination.anonymous.client import sign_request
from gridchain.coordination.anonymous.parties.issuer import TokenWallet
from gridchain.coordination.anonymous.service.relayer import RelayerClient
from gridchain.coordination.client import CoordinatorClient, Submission
from gridchain.coordination.model.coordinator import pack, unpack
from gridchain.coordination.model.verify import ChainRecords, Verdict, follow


@dataclass
class Esu:
    name: str
    client: CoordinatorClient
    account: str
    arrival: int | None = None  # the request's arrival number once submitted
    slot: int | None = None  # the slot it was submitted into
    receipts: list[Receipt] = field(default_factory=list)
    ticket: str | None = None  # the relayer's ticket (anonymous mode): an unguessable id
    sent: tuple[int, int, int] | None = None  # (demand_w, soc_pm, tcc) handed to the relayer

    def request(self, demand_w: int, soc_pm: int, tcc: int) -> Receipt:
        return self.submitted(*self.client.submit_request(self.account, demand_w, soc_pm, tcc))

    def submitted(self, submission: Submission, receipt: Receipt) -> Receipt:
        """Note its own submission (sent by `request`, or with others by CoordinatorClient.submit_requests)."""
        self.arrival, self.slot = submission.request >> 112, submission.slot
        self.receipts.append(receipt)
        return receipt

    def request_anonymous(
        self, wallet: TokenWallet, relayer: RelayerClient, demand_w: int, soc_pm: int, tcc: int
    ) -> int:
        """Spend one token: sign the request with its one-time pseudonym and hand it to the relayer. Returns
        the relayer's ticket; `learn_arrival` follows it once the relayer has submitted."""
        slot = int(self.client.view("current_slot"))
        epoch = self.client.epoch_of_slot(slot)
        pseudonym = wallet.take(self.client.address, epoch)
        request = sign_request(
            pseudonym.key,
            self.client.chain_id(),
            self.client.address,
            epoch,
            slot,
            demand_w,
            soc_pm,
            tcc,
            pseudonym.token,
        )
        self.slot, self.sent = slot, (demand_w, soc_pm, tcc)
        self.ticket = relayer.send(request.to_json())["id"]
        return self.ticket

    def learn_arrival(self, relayer: RelayerClient, records: ChainRecords) -> list[str]:
        """After the relayer's flush: the arrival number it reports, checked against the chain (the request
        recorded there must be the one this ESU signed). Returns problems, if any."""
        status = relayer.status(self.ticket)
        if status["status"] != "submitted":
            return [f"{self.name}: the relayer did not submit the request ({status['status']}: {status['reason']})"]
        self.arrival = int(status["arrival"])
        recorded = [w for w in records.submitted.get(self.slot, []) if unpack(w).arrival == self.arrival]
        if recorded != [pack(*self.sent, self.arrival)]:
            return [f"{self.name}: the chain does not hold its request at arrival {self.arrival}"]
        return []

    def story(self, records: ChainRecords, upto: int) -> list[tuple[int, int, str]]:
        """(slot, granted_w, status) for each slot the request was pending in, recomputed from the chain."""
        return [] if self.arrival is None else follow(records, self.arrival, upto)

    def check(self, story: list[tuple[int, int, str]], verdicts: dict[int, Verdict]) -> list[str]:
        """Mismatches in the slots that concern this ESU (none: its allocations are the rule's)."""
        return [m for slot, _, _ in story for m in verdicts[slot].mismatches]
