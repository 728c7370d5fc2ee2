"""The charging coordinator's harness: a deployed coordinator with its model twin, members and a clock, every call
going to both through `Mirrored.mirror` (tests/support/mirrored.py)."""

from __future__ import annotations

import boa

from gridchain.coordination.model.coordinator import (
    CloseResult,
    CoordinatorError,
    CoordinatorModel,
    close_calldata,
    paged_calldata,
)
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import Mirrored
from tests.support.mirrored import refused as _refused

CONTRACT = CONTRACTS / "charging_coordinator.vy"
SLOT_LENGTH = 3600
BETA1_PM = 500
INITIAL_CAPACITY_W = 100_000
ZERO = "0x" + "00" * 20


def deployer():
    return load(CONTRACT)


def refused(reason: str):
    """The block is refused by the coordinator and its twin with exactly `reason` (`coordinator: ...`)."""
    return _refused(reason, CoordinatorError)


class Community(Mirrored):
    """A deployed coordinator with its model twin, members and a clock; every call goes to both (`mirror`), from
    the owner unless a `sender` (or `keeper`) is named. A refused call must leave the contract's storage and the
    balances as they were (`Mirrored.storage_snapshot`).

    Members may submit one request per slot (the contract's default) unless a test raises their limit,
    explicitly, with `request_limit` or `limit_requests`."""

    ERROR = CoordinatorError
    EVENTS = (
        "MemberChanged",
        "RequestLimitChanged",
        "CapacityPosted",
        "CapacityPosterChanged",
        "EpochKeyRegistered",
        "RequestSubmitted",
        "RequestBatchSubmitted",
        "RequestExpired",
        "SlotClosed",
    )

    def __init__(
        self,
        beta1_pm: int = BETA1_PM,
        capacity_w: int = INITIAL_CAPACITY_W,
        members: int = 4,
        request_limit: int | None = None,
    ):
        self.init_accounts()
        self.start = boa.env.evm.patch.timestamp
        self.owner = boa.env.eoa
        self.c = deployer().deploy(self.start, SLOT_LENGTH, beta1_pm, capacity_w)
        self.model = CoordinatorModel(self.start, SLOT_LENGTH, beta1_pm, capacity_w, str(self.owner))
        self.track(self.owner)
        self.members = [boa.env.generate_address() for _ in range(members)]
        for m in self.members:
            self.set_member(m, True)
        if request_limit is not None:
            self.limit_requests(request_limit)

    # -- the owner -----------------------------------------------------------------------------------------------
    def set_member(self, member, allowed: bool, sender=None) -> None:
        sender = self.owner if sender is None else sender
        self.mirror(
            sender,
            lambda: self.model.set_member(str(sender), str(member), allowed),
            lambda: self.c.set_member(member, allowed),
        )
        assert self.events["MemberChanged"] == [{"member": str(member).lower(), "allowed": allowed}]

    def set_request_limit(self, member, limit: int, sender=None) -> None:
        sender = self.owner if sender is None else sender
        self.mirror(
            sender,
            lambda: self.model.set_request_limit(str(sender), str(member), limit),
            lambda: self.c.set_request_limit(member, limit),
        )
        assert self.events["RequestLimitChanged"] == [{"member": str(member).lower(), "limit": limit}]

    def limit_requests(self, limit: int, members: list | None = None) -> None:
        """The owner sets how many requests per slot each member (or each of `members`) may submit."""
        for m in self.members if members is None else members:
            self.set_request_limit(m, limit)

    def post(self, slot: int, capacity_w: int, sender=None) -> None:
        sender = self.owner if sender is None else sender
        self.mirror(
            sender,
            lambda: self.model.post_capacity(str(sender), slot, capacity_w),
            lambda: self.c.post_capacity(slot, capacity_w),
        )
        assert self.events["CapacityPosted"] == [{"slot": slot, "capacity_w": capacity_w}]

    def set_capacity_poster(self, poster, max_capacity_w: int, sender=None) -> None:
        """The owner delegates posting capacity up to a bound to `poster` (the zero address: revokes)."""
        sender = self.owner if sender is None else sender
        named = "" if int(str(poster), 16) == 0 else str(poster)
        self.mirror(
            sender,
            lambda: self.model.set_capacity_poster(str(sender), named, max_capacity_w),
            lambda: self.c.set_capacity_poster(poster, max_capacity_w),
        )
        changed = [{"poster": str(poster).lower(), "max_capacity_w": max_capacity_w}]
        assert self.events["CapacityPosterChanged"] == changed
        assert self.c.capacity_poster() == (named or ZERO, max_capacity_w)

    # -- members -------------------------------------------------------------------------------------------------
    def submit(self, member: int, demand_w: int, soc_pm: int, tcc: int) -> int:
        """Member number `member` submits a request into the current slot; its arrival number."""
        return self.submit_as(self.members[member], demand_w, soc_pm, tcc)

    def submit_as(self, sender, demand_w: int, soc_pm: int, tcc: int, slot: int | None = None) -> int:
        """`sender` submits a request (into the current slot, or into `slot`, the four-argument call)."""
        named = () if slot is None else (slot,)
        arrival, out = self.mirror(
            sender,
            lambda: self.model.submit_request(str(sender), self.now, demand_w, soc_pm, tcc, slot),
            lambda: self.c.submit_request(demand_w, soc_pm, tcc, *named),
        )
        assert out == arrival
        return arrival

    # -- the clock and closes ------------------------------------------------------------------------------------
    def to_end_of(self, slot: int) -> None:
        self.travel_to(max(self.now, self.model.slot_end(slot)))

    def close_slot(self, slot: int, requests: list[int], positions: list[int], keeper=None) -> CloseResult:
        """A close in one call with this calldata, from `keeper` (the owner by default): its SlotClosed and
        RequestExpired events and the carry chain are the model's."""
        keeper = self.owner if keeper is None else keeper
        result, _ = self.mirror(
            keeper,
            lambda: self.model.close_slot(self.now, slot, requests, positions),
            lambda: self.c.close_slot(slot, requests, positions),
        )
        assert [(e["arrival"], e["remaining_w"]) for e in self.events["RequestExpired"]] == [
            (x.arrival, x.remaining_w) for x in result.expired
        ]
        return self._closed(result)

    def begin_close(self, slot: int, n: int, sorted_hash: bytes, keeper=None) -> None:
        keeper = self.owner if keeper is None else keeper
        self.mirror(
            keeper,
            lambda: self.model.begin_close(str(keeper), self.now, slot, n, sorted_hash),
            lambda: self.c.begin_close(slot, n, sorted_hash),
        )

    def close_sorted_page(self, words: list[int], keeper=None) -> None:
        """The keeper's next sorted page; pages walk before anything is verified, so they log no expiry."""
        keeper = self.owner if keeper is None else keeper
        self.mirror(
            keeper, lambda: self.model.close_sorted_page(str(keeper), words), lambda: self.c.close_sorted_page(words)
        )
        assert self.events["RequestExpired"] == []

    def close_pages(self, sorted_words: list[int], pending_words: list[int], keeper=None) -> None:
        """A sorted page and a pending page in one call (either may be empty); no expiry is logged."""
        keeper = self.owner if keeper is None else keeper
        self.mirror(
            keeper,
            lambda: self.model.close_pages(str(keeper), sorted_words, pending_words),
            lambda: self.c.close_pages(sorted_words, pending_words),
        )
        assert self.events["RequestExpired"] == []

    def close_pending_page(self, words: list[int], keeper=None) -> None:
        keeper = self.owner if keeper is None else keeper
        self.mirror(
            keeper, lambda: self.model.close_pending_page(str(keeper), words), lambda: self.c.close_pending_page(words)
        )

    def finish_close(self, keeper=None) -> CloseResult:
        """The keeper finishes its paged close: its SlotClosed event and the carry chain are the model's; it logs
        no expiry (only a close in one call does)."""
        keeper = self.owner if keeper is None else keeper
        result, _ = self.mirror(
            keeper, lambda: self.model.finish_close(str(keeper), self.now), lambda: self.c.finish_close()
        )
        assert self.events["RequestExpired"] == []
        return self._closed(result)

    def _closed(self, result: CloseResult) -> CloseResult:
        assert self.events["SlotClosed"] == [result.event()]
        assert self.c.carry_hash() == result.carry_hash
        assert self.c.carry_count() == len(result.carried)
        return result

    def close(self, slot: int, page: int | None = None, keeper=None, paired: bool = False) -> CloseResult:
        """The honest keeper: close `slot` with the calldata it computes from the model, in one call or in pages
        of `page` requests, from `keeper` (the owner by default); events and carry chain are the model's. Pages
        go one list after the other, or `paired` (a sorted and a pending page to a `close_pages` call, as the
        keeper's client sends them)."""
        pending = self.model.pending(slot)
        if page is None or not pending:
            return self.close_slot(slot, *close_calldata(pending, self.model.beta1_pm), keeper=keeper)
        paged = paged_calldata(pending, self.model.beta1_pm, page)
        self.begin_close(slot, paged.n, paged.sorted_hash, keeper)
        if paired:
            for sorted_page, pending_page in paged.paired():
                self.close_pages(sorted_page, pending_page, keeper)
            return self.finish_close(keeper)
        for chunk in paged.sorted_pages:
            self.close_sorted_page(chunk, keeper)
        for chunk in paged.pending_pages:
            self.close_pending_page(chunk, keeper)
        return self.finish_close(keeper)
