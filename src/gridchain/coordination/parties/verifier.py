"""Read what the chain recorded about a coordinator into `core.verify.ChainRecords`, and verify slots."""

from __future__ import annotations

from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.verify import ChainRecords, Verdict, verify_slot, verify_slots


def fetch_records(client: CoordinatorClient) -> ChainRecords:
    """Submissions, postings and closes; for each close read in one call, its calldata and the expiries it
    logged in its own transaction. Nothing is taken from a transaction that did not close a slot (a paged
    close's pages, whether or not they were ever finished), nor calldata from one not sent to the coordinator."""
    records = ChainRecords(beta1_pm=client.beta1_pm)
    for s in client.submissions():
        records.submitted.setdefault(s.slot, []).append(s.request)
    for e in client.postings():
        records.posted[e.args["slot"]] = e.args["capacity_w"]  # the last posting wins, as on chain
    expiries: dict[tuple[str, int], list[tuple[int, int]]] = {}
    for e in client.expiries():
        expiries.setdefault((e.tx_hash, e.args["slot"]), []).append((e.args["arrival"], e.args["remaining_w"]))
    for e in client.closes():
        slot = e.args["slot"]
        records.closed[slot] = {k: v for k, v in e.args.items()}
        calldata = client.close_input(e.tx_hash)
        if calldata is not None:  # a close in one call; a paged close's calldata is spread over its pages
            records.close_inputs[slot] = (calldata[1], calldata[2])
            records.expired[slot] = expiries.get((e.tx_hash, slot), [])
    return records


def verify(client: CoordinatorClient, slot: int) -> Verdict:
    """Rebuild `slot` from the chain, recompute it with core, and list every mismatch."""
    return verify_slot(fetch_records(client), slot)


def verify_range(client: CoordinatorClient, first: int, last: int) -> list[Verdict]:
    """Verdicts for slots first..last from one read of the chain and one recomputation of the history; a slot
    not closed yet has no result (`Verdict.result is None`)."""
    return verify_slots(fetch_records(client), last)[first:]
