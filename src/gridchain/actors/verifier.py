"""Read what the chain recorded about a coordinator into `core.verify.ChainRecords`, and verify slots."""

from __future__ import annotations

from gridchain.chain.coordinator import CoordinatorClient
from gridchain.core.verify import ChainRecords, Verdict, verify_slot


def fetch_records(client: CoordinatorClient) -> ChainRecords:
    records = ChainRecords(beta1_pm=client.beta1_pm)
    for s in client.submissions():
        records.submitted.setdefault(s.slot, []).append(s.request)
    for e in client.gateway.events(client.artifact, client.address, "CapacityPosted"):
        records.posted[e.args["slot"]] = e.args["capacity_w"]  # the last posting wins, as on chain
    for e in client.closes():
        slot = e.args["slot"]
        records.closed[slot] = {k: v for k, v in e.args.items()}
        calldata = client.close_input(e.tx_hash)
        if calldata is not None:  # a close in one call; a paged close's calldata is spread over its pages
            records.close_inputs[slot] = (calldata[1], calldata[2])
    for e in client.expiries():
        records.expired.setdefault(e.args["slot"], []).append((e.args["arrival"], e.args["remaining_w"]))
    return records


def verify(client: CoordinatorClient, slot: int) -> Verdict:
    """Rebuild `slot` from the chain, recompute it with core, and list every mismatch."""
    return verify_slot(fetch_records(client), slot)
