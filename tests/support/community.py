import copy
from pathlib import Path

import boa
from eth_account import Account

from gridchain.coordination.model.coordinator import (
    CoordinatorModel,
    close_calldata,
    paged_calldata,
)

CONTRACT = Path(__file__).resolve().parents[2] / "contracts" / "charging_coordinator.vy"
SLOT_LENGTH = 3600
BETA1_PM = 500
INITIAL_CAPACITY_W = 100_000

_deployers: dict[str, object] = {}


def load(path: Path):
    """A contract's deployer, compiled once per test process."""
    if str(path) not in _deployers:
        _deployers[str(path)] = boa.load_partial(str(path))
    return _deployers[str(path)]


def deployer():
    return load(CONTRACT)


class Accounts:
    """A harness's funded accounts, whose balances it follows (`initial`, `sent`), and the chain's clock."""

    FUNDS = 10**21

    def init_accounts(self) -> None:
        self.accounts: list[str] = []
        self.initial: dict[str, int] = {}
        self.sent: dict[str, int] = {}

    def track(self, address: str, balance: int | None = None) -> str:
        if balance is not None:
            boa.env.set_balance(address, balance)
        if address not in self.accounts:
            self.accounts.append(address)
            self.initial[address] = boa.env.get_balance(address)
            self.sent[address] = 0
        return address

    def new_account(self, balance: int | None = None):
        account = Account.create()
        self.track(account.address, self.FUNDS if balance is None else balance)
        return account

    @property
    def now(self) -> int:
        return boa.env.evm.patch.timestamp

    def travel_to(self, t: int) -> None:
        assert t >= self.now
        if t > self.now:
            boa.env.time_travel(seconds=t - self.now)


class Mirrored(Accounts):
    """A harness that drives a model (`self.model`) and its contract (`self.c`) side by side. A subclass names
    the model's error type (ERROR) and the contract's events (EVENTS), and defines `snapshot()`."""

    ERROR: type[Exception]
    EVENTS: tuple[str, ...]

    def mirror(self, sender: str, value: int, model_call, chain_call) -> tuple:
        """The model first: if it raises ERROR(reason) the contract must revert with that reason and nothing
        changes on either side (the error is re-raised); otherwise the contract's call runs from `sender`,
        which is charged `value`. Returns (the model's result, the contract's); the caller checks the rest."""
        before_model = copy.deepcopy(self.model)
        try:
            result = model_call()
        except self.ERROR as e:
            assert self.model == before_model, "the model changed state on a refused call"
            before = self.snapshot()
            with boa.env.prank(sender), boa.reverts(str(e)):
                chain_call()
            assert self.snapshot() == before, "the contract changed state on a revert"
            raise
        with boa.env.prank(sender):
            out = chain_call()
        self.events = {name: event_args(self.c, name) for name in self.EVENTS}
        self.sent[sender] += value
        return result, out


def event_args(contract, name: str) -> list[dict]:
    """The last call's `name` events as dicts without the address, addresses in lower case."""
    out = []
    for e in logs(contract, name):
        e.pop("address")
        out.append({k: (str(v).lower() if type(v).__name__ == "Address" else v) for k, v in e.items()})
    return out


def logs(contract, name: str) -> list[dict]:
    return [e._asdict() for e in contract.get_logs() if type(e).__name__ == name]


class Community:
    """A deployed coordinator with its model twin, members and a clock; every call goes to both.

    Members may submit one request per slot (the contract's default) unless a test raises their limit,
    explicitly, with `request_limit` or `limit_requests`."""

    def __init__(
        self,
        beta1_pm: int = BETA1_PM,
        capacity_w: int = INITIAL_CAPACITY_W,
        members: int = 4,
        request_limit: int | None = None,
    ):
        self.start = boa.env.evm.patch.timestamp
        self.owner = boa.env.eoa
        self.c = deployer().deploy(self.start, SLOT_LENGTH, beta1_pm, capacity_w)
        self.model = CoordinatorModel(self.start, SLOT_LENGTH, beta1_pm, capacity_w, str(self.owner))
        self.members = [boa.env.generate_address() for _ in range(members)]
        for m in self.members:
            self.c.set_member(m, True)
            self.model.set_member(str(self.owner), str(m), True)
        if request_limit is not None:
            self.limit_requests(request_limit)

    def limit_requests(self, limit: int, members: list | None = None) -> None:
        """The owner sets how many requests per slot each member (or each of `members`) may submit."""
        for m in self.members if members is None else members:
            self.c.set_request_limit(m, limit)
            self.model.set_request_limit(str(self.owner), str(m), limit)

    @property
    def now(self) -> int:
        return boa.env.evm.patch.timestamp

    def submit(self, member: int, demand_w: int, soc_pm: int, tcc: int) -> int:
        sender = self.members[member]
        with boa.env.prank(sender):
            arrival = self.c.submit_request(demand_w, soc_pm, tcc)
        assert arrival == self.model.submit_request(str(sender), self.now, demand_w, soc_pm, tcc)
        return arrival

    def post(self, slot: int, capacity_w: int) -> None:
        self.c.post_capacity(slot, capacity_w)
        self.model.post_capacity(str(self.owner), slot, capacity_w)

    def to_end_of(self, slot: int) -> None:
        end = self.model.slot_end(slot)
        if self.now < end:
            boa.env.time_travel(seconds=end - self.now)

    def close(self, slot: int, page: int | None = None, keeper=None):
        """Close on chain with the calldata a keeper computes from the model (in one call, or in pages of
        `page` requests), from `keeper` (the owner by default), through the model's calls too; compare the
        chain's events and carry-over with the model's. Only a close in one call logs expiries."""
        keeper = self.owner if keeper is None else keeper
        pending = self.model.pending(slot)
        expired = []
        with boa.env.prank(keeper):
            if page is None or not pending:
                requests, positions = close_calldata(pending, self.model.beta1_pm)
                self.c.close_slot(slot, requests, positions)
                expired = logs(self.c, "RequestExpired")
                result = self.model.close_slot(self.now, slot, requests, positions)
            else:
                paged = paged_calldata(pending, self.model.beta1_pm, page)
                self.c.begin_close(slot, paged.n, paged.sorted_hash)
                self.model.begin_close(str(keeper), self.now, slot, paged.n, paged.sorted_hash)
                for chunk in paged.sorted_pages:
                    self.c.close_sorted_page(chunk)
                    self.model.close_sorted_page(str(keeper), chunk)
                    expired += logs(self.c, "RequestExpired")
                for chunk in paged.pending_pages:
                    self.c.close_pending_page(chunk)
                    self.model.close_pending_page(str(keeper), chunk)
                self.c.finish_close()
                expired += logs(self.c, "RequestExpired")
                result = self.model.finish_close(str(keeper), self.now)
        closed = logs(self.c, "SlotClosed")
        assert len(closed) == 1
        event = {k: v for k, v in closed[0].items() if k != "address"}
        assert event == result.event()
        one_call = page is None or not pending
        assert [(e["arrival"], e["remaining_w"]) for e in expired] == [
            (x.arrival, x.remaining_w) for x in result.expired if one_call
        ]
        assert self.c.carry_hash() == result.carry_hash
        assert self.c.carry_count() == len(result.carried)
        return result
