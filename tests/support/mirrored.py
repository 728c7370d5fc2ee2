"""The one model-first harness of every contract test: a call goes to the contract's twin first, then to the
contract, and both must agree.

Every contract's harness (the coordinator's `Community`, the V2V `Market`, `Metering`) is a `Mirrored`, and its
unit tests, stateful machine and differential tests make every call through `mirror`, in one argument order:

    mirror(sender, model_call, chain_call, value=0)

`model_call` and `chain_call` take no arguments (lambdas over the call's arguments); `value` [wei] is what the
chain call sends (the lambda passes it; the harness books it against `sender`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import boa
import pytest
from hypothesis import event

from gridchain.errors import ContractRevert
from tests.support.accounts import Accounts
from tests.support.events import events


def fresh_traces() -> None:
    """Start boa's storage traces afresh (every storage key each address wrote, and the hashes behind them).
    `Mirrored.storage_snapshot` reads every slot the trace holds for its contract, and boa's storage dump on a
    revert decodes them: a contract redeployed at an address (the deployer's nonce starts over in each test and
    after each `boa.env.anchor()`) would inherit another's keys. tests/support/plugin.py calls this before each
    test; a stateful machine whose examples redeploy under an anchor calls it before each example's deployment."""
    boa.env.sha3_trace = {}
    boa.env.sstore_trace = {}


class Outcome(NamedTuple):
    """What a step that may be refused came to: `ok`, and the model's result or the refusal (a ContractRevert)."""

    ok: bool
    value: Any


class Mirrored(Accounts):
    """A harness that drives a model (`self.model`) and its contract (`self.c`) side by side. A subclass names
    the model's error type (ERROR, a ContractRevert) and the contract's events (EVENTS), and may define
    `snapshot()`: the contract's state that a reverted call must leave as it was (by default all of its storage
    and the balances, `storage_snapshot`)."""

    ERROR: type[ContractRevert] = ContractRevert
    EVENTS: tuple[str, ...] = ()
    c: Any
    model: Any
    events: dict[str, list[dict]]

    def snapshot(self) -> object:
        return self.storage_snapshot()

    def storage_snapshot(self) -> tuple:
        """Every storage slot of the contract, and the balances of the contract and of every followed account.

        The slots are those boa's SSTORE trace saw written since it began (the contract was deployed after it
        began: tests/support/plugin.py starts each test with empty traces, and a slot never written holds 0). A
        reverted call may add slots to the trace; they must read 0 afterwards, as before it. Reading raw slots
        costs microseconds where a view call costs a millisecond: a machine's every refusal takes two."""
        address = self.c.address
        slots = boa.env.sstore_trace.get(address, ())
        return (
            _Storage({slot: boa.env.get_storage(address, slot) for slot in slots}),
            boa.env.get_balance(address),
            {a: boa.env.get_balance(a) for a in self.accounts},
        )

    def mirror(self, sender, model_call: Callable[[], Any], chain_call: Callable[[], Any], value: int = 0) -> tuple:
        """The model first. If it raises ERROR(reason), the contract's call from `sender` must revert with exactly
        that reason, and neither side changes state (the model compared by value, the contract by `snapshot()`);
        the error is re-raised. Otherwise the contract's call runs from `sender`, which is charged `value`, and
        the call's EVENTS are decoded into `self.events` (as `event_args` gives them). `sender` is followed
        (`track`) from its first call. Returns (the model's result, the contract's); the caller checks the rest."""
        sender = self.track(sender)
        before_model = copy.deepcopy(self.model)
        try:
            result = model_call()
        except self.ERROR as e:
            assert self.model == before_model, f"the model changed state on a refused call ({e.reason})"
            before = self.snapshot()
            with boa.env.prank(sender), boa.reverts(e.reason):
                chain_call()
            assert self.snapshot() == before, f"the contract changed state on a revert ({e.reason})"
            raise
        with boa.env.prank(sender):
            out = chain_call()
        self.events = events(self.c, self.EVENTS)
        self.sent[sender] += value
        return result, out

    def attempt(self, step: Callable[[], Any], label: str = "call") -> Outcome:
        """A step that may be refused (a stateful machine's, a stranger's), made of `mirror` calls: a refusal
        (checked on both sides by `mirror`) is an outcome here, not an error. Inside a Hypothesis test only: it
        records the outcome as an event (`done: <label>` or `refused: <reason>`) for the statistics."""
        try:
            result = step()
        except self.ERROR as e:
            event(f"refused: {e.reason}")
            return Outcome(False, e)
        event(f"done: {label}")
        return Outcome(True, result)


@contextmanager
def refused(reason: str, error: type[ContractRevert] = ContractRevert) -> Iterator[None]:
    """The block must raise `error` with exactly `reason`: through `mirror`, the twin refused with it and the
    contract reverted with it, and nothing changed on either side."""
    with pytest.raises(error) as e:
        yield
    assert e.value.reason == reason


class _Storage(dict):
    """A contract's storage read slot by slot: equal to another if every slot either reads holds the same value, a
    slot missing on one side reading 0 (it was never written)."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, dict):
            return NotImplemented
        return all(self.get(k, 0) == other.get(k, 0) for k in self.keys() | other.keys())

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # type: ignore[assignment]
