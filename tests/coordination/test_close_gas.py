"""The close's gas limits from the measured table (`model.close_gas`): worst-case calls of the largest size stay
under them on the embedded chain, which holds a call to its limit as a node does (so a table too low fails
here); a paged close sent at once that fails in the middle is reported by call and does not close the slot, and
the same account's next paged close starts over and closes it (embedded chain and anvil)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gridchain.chain.anvil import start_anvil
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import Call, ChainRevert, NotSent
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.coordination.client import CloseFailed, CoordinatorClient
from gridchain.coordination.model.close_gas import close_gas
from gridchain.coordination.model.coordinator import MAX_REQUESTS, close_calldata, paged_calldata
from gridchain.coordination.parties.keeper import Keeper

SLOT_S = 3600
GRANTED, DENIED, EXPIRE = (10**12, 0), (1, 4), (1, 1)  # (capacity [W], tcc; 0: 1 to 4 by turns)


def slot_of(gateway, n: int, capacity_w: int, tcc: int, slots: int = 1) -> tuple[CoordinatorClient, str]:
    """A coordinator whose first `slots` slots get n requests each from one member; the clock at their end."""
    owner, member = gateway.accounts[:2]
    client, _ = CoordinatorClient.deploy(gateway, owner, gateway.now(), SLOT_S, 500, capacity_w)
    client.set_member(owner, member)
    client.set_request_limit(owner, member, n)
    for slot in range(slots):
        requests = [(member, 1000 + 37 * i, (137 * i) % 1000, tcc or 1 + i % 4) for i in range(n)]
        assert not any(isinstance(r, ChainRevert) for r in client.submit_requests(requests))
        gateway.advance_time(client.slot_end(slot) - gateway.now())
    return client, owner


def pending(client: CoordinatorClient, slot: int) -> list[int]:
    return [s.request for s in client.submissions(slot)]


def check_under_table(calls, receipts) -> None:
    for (fn, requests), receipt in zip(calls, receipts, strict=True):
        assert receipt.gas_used <= close_gas(fn, requests), (fn, requests, receipt.gas_used)


def paged_calls(paged) -> list[tuple[str, int]]:
    return [("begin_close", 0)] + [("close_pages", len(s) + len(p)) for s, p in paged.paired()] + [("finish_close", 0)]


@pytest.mark.parametrize("case", [GRANTED, DENIED, EXPIRE], ids=["granted", "denied", "expire"])
def test_worst_case_pages_of_the_largest_size_stay_under_the_table(case):
    """Pages of 1,024 requests, every one granted, denied or expiring; with DENIED every request is carried
    into slot 1, whose pending pages then cross the carried part (the carry chain's check)."""
    gateway = BoaGateway(accounts=2)
    client, owner = slot_of(gateway, MAX_REQUESTS + 1, *case, slots=2)
    keeper = Keeper(client, owner)  # its `pending` adds the requests carried out of the slot before
    for slot in range(2):
        paged = paged_calldata(keeper.pending(slot), 500)
        receipts = client.close_in_pages(owner, slot, paged)  # each call held to its table limit
        check_under_table(paged_calls(paged), receipts)
        assert client.next_slot_to_close == slot + 1
    if case == DENIED:
        assert len(paged.sorted_pages[0]) == MAX_REQUESTS and paged.n == 2 * (MAX_REQUESTS + 1)


@pytest.mark.parametrize("case", [GRANTED, DENIED, EXPIRE], ids=["granted", "denied", "expire"])
def test_a_page_alone_in_close_pages_stays_under_the_table(case):
    """`close_pages` with one list empty (the table's bound counts both lists' requests together): every sorted
    page of 1,024 alone, then every pending page alone, then every single-request-per-list call; and the
    single-list functions under theirs."""
    gateway = BoaGateway(accounts=2)
    client, owner = slot_of(gateway, MAX_REQUESTS + 1, *case)
    paged = paged_calldata(pending(client, 0), 500)
    alone = [("close_pages", (p, [])) for p in paged.sorted_pages] + [
        ("close_pages", ([], p)) for p in paged.pending_pages
    ]
    calls = [("begin_close", (0, paged.n, paged.sorted_hash))] + alone + [("finish_close", ())]
    sized = [(fn, sum(len(a) for a in args) if fn == "close_pages" else 0) for fn, args in calls]
    receipts = client._sent(
        [
            Call(client.artifact, client.address, fn, args, owner, 0, close_gas(fn, n))
            for (fn, args), (_, n) in zip(calls, sized)
        ]
    )
    check_under_table(sized, receipts)
    assert receipts[-1].named("SlotClosed")


@pytest.mark.parametrize("case", [GRANTED, DENIED, EXPIRE], ids=["granted", "denied", "expire"])
def test_worst_case_close_in_one_call_stays_under_the_table(case):
    gateway = BoaGateway(accounts=2)
    client, owner = slot_of(gateway, MAX_REQUESTS, *case)
    requests = pending(client, 0)
    receipt = client.close_slot(owner, 0, *close_calldata(requests, 500))
    assert receipt.gas_used <= close_gas("close_slot", len(requests))
    assert len(receipt.named("RequestExpired")) == (MAX_REQUESTS if case == EXPIRE else 0)


def test_the_embedded_chain_holds_a_call_to_its_gas_limit():
    """What makes the tests above fail when the table is too low: a limit one below the gas used fails."""
    gateway = BoaGateway(accounts=2)
    client, owner = slot_of(gateway, 3, *DENIED)
    args = (0, *map(list, close_calldata(pending(client, 0), 500)))
    used = gateway.transact_many([Call(client.artifact, client.address, "close_slot", args, owner, 0, 10**7)])
    assert not isinstance(used[0], ChainRevert)
    gateway = BoaGateway(accounts=2)
    client, owner = slot_of(gateway, 3, *DENIED)
    (short,) = gateway.transact_many(
        [Call(client.artifact, client.address, "close_slot", args, owner, 0, used[0].gas_used - 1)]
    )
    assert isinstance(short, ChainRevert) and client.next_slot_to_close == 0
    (ok,) = gateway.transact_many(
        [Call(client.artifact, client.address, "close_slot", args, owner, 0, used[0].gas_used)]
    )
    assert not isinstance(ok, ChainRevert) and ok.gas_used == used[0].gas_used


def starve(gateway, fn: str, nth: int = 0):
    """Have the gateway's next transact_many give the `nth` call to `fn` too little gas (once)."""
    real, done = gateway.transact_many, []

    def transact_many(calls):
        if not done:
            done.append(True)
            at = [i for i, c in enumerate(calls) if c.fn == fn][nth]
            calls = [*calls[:at], replace(calls[at], gas=35_000), *calls[at + 1 :]]
        return real(calls)

    gateway.transact_many = transact_many


def fail_mid_batch_then_close(gateway) -> None:
    client, owner = slot_of(gateway, 12, *DENIED)
    paged = paged_calldata(pending(client, 0), 500, 4)  # begin, 3 close_pages, finish
    starve(gateway, "close_pages", 1)
    with pytest.raises(CloseFailed) as failed:
        client.close_in_pages(owner, 0, paged)
    assert failed.value.fn == "close_pages" and failed.value.index == 2
    assert failed.value.reason.startswith("close_pages (call 3 of 5) failed: ")
    assert client.next_slot_to_close == 0  # nothing believed done that is not
    receipts = client.close_in_pages(owner, 0, paged)  # a new begin_close starts the paged close over
    assert receipts[-1].named("SlotClosed") and client.next_slot_to_close == 1


def test_a_paged_close_failing_mid_batch_is_reported_and_begun_again_embedded():
    fail_mid_batch_then_close(BoaGateway(accounts=2))


@pytest.mark.integration
def test_a_paged_close_failing_mid_batch_is_reported_and_begun_again_on_anvil():
    node = start_anvil(hardfork="osaka", accounts=2, extra_args=["--enable-tx-gas-limit"])
    try:
        fail_mid_batch_then_close(RpcGateway(node.url, node.keys, timeout=20))
    finally:
        node.stop()


def test_the_keeper_begins_again_after_a_call_the_node_refused():
    """A page refused by the node (NotSent: the node's pool full, a fee too low) mid-batch: the later calls run
    and fail, the slot stays open, and the keeper begins its paged close again and closes the slot."""
    gateway = BoaGateway(accounts=3)
    client, _ = slot_of(gateway, 9, *DENIED)
    keeper_account = gateway.accounts[2]
    real, refused = gateway.transact_many, []

    def transact_many(calls):
        if refused or len(calls) < 3:
            return real(calls)
        refused.append(calls[2].fn)
        return real(calls[:2]) + [NotSent("not sent: txpool is full")] + real(calls[3:])

    gateway.transact_many = transact_many
    sleeps: list[float] = []
    receipt = Keeper(client, keeper_account, page=4, sleep=sleeps.append).close_next()
    assert refused == ["close_pages"] and len(sleeps) == 1
    assert receipt is not None and receipt.named("SlotClosed") and client.next_slot_to_close == 1
