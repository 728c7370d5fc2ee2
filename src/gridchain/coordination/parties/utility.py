"""The utility: owns a community's coordinator, admits its ESUs, posts each slot's capacity C - P_R, and (its
duty) registers the coming epochs' keys and posts the coming slots' capacities ahead of time by itself. When a
Safe owns the coordinator, the duty posts with the capacity poster's key and only checks the keys the Safe
registered ahead (`gridchain utility epoch-keys`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eth_utils import keccak

from gridchain.chain.gateway import Gateway, Receipt
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.parties.capacity import CapacitySource, NoCapacity
from gridchain.crypto.blind import epoch_of
from gridchain.net.loops import Loop


@dataclass
class Utility:
    client: CoordinatorClient
    account: str  # the owner, or the capacity poster (then it may only post capacity, up to its bound)

    @classmethod
    def deploy(
        cls, gateway: Gateway, account: str, start_time: int, slot_length_s: int, beta1_pm: int, capacity_w: int
    ) -> tuple[Utility, Receipt]:
        client, receipt = CoordinatorClient.deploy(gateway, account, start_time, slot_length_s, beta1_pm, capacity_w)
        return cls(client, account), receipt

    def admit(self, members: Iterable[str]) -> list[Receipt]:
        """The non-anonymous mode: one member-list entry per ESU account (one request per slot each)."""
        return [self.client.set_member(self.account, m) for m in members]

    def limit_requests(self, member: str, limit: int) -> Receipt:
        """How many requests `member` may submit per slot (e.g. a depot with several chargers behind one account)."""
        return self.client.set_request_limit(self.account, member, limit)

    def register_epoch_key(self, epoch: int, modulus: bytes) -> Receipt:
        """The anonymous mode: the public key under which this community's tokens for `epoch` are signed."""
        return self.client.register_epoch_key(self.account, epoch, modulus)

    def post_capacity(self, slot: int, capacity_w: int) -> Receipt:
        return self.client.post_capacity(self.account, slot, capacity_w)


@dataclass
class UtilityDuty:
    """The utility's standing work on chain, done ahead of time by itself: the RSA key of every coming epoch
    (today .. today + lookahead_epochs, each registered once, while it is still to come or under way), and
    each slot's capacity C - P_R from `capacity`, `post_ahead_slots` slots before the slot begins, only when it
    differs from the capacity in force. Everything is read back from the chain at each step, so a restart
    neither registers a key twice nor reposts an unchanged capacity.

    `step(now)` does what is due at unix time `now` (tests call it with a fake clock); `loop()` is the
    supervised loop that steps it (no failure ends it: it is logged, retried with backoff and shown by /health).
    `epoch_modulus(epoch)` is the issuer's public key for that epoch (256 bytes); `log(entry)` takes one
    JSON-able dict per transaction or loop event, named by its "action".

    `registers_keys=False` (a Safe owns the coordinator; `utility.account` is its capacity poster): the keys are
    registered ahead by the Safe, and the duty only checks them at each step: this issuer's for today ..
    today + lookahead_epochs, else `KeyMismatch`; none missing there, else `MissingEpochKey` naming the first
    missing epoch (after the capacities: a missing key stops no post); fewer than `warn_days` consecutive days
    of keys from today logs {"action": "epoch_keys_low", ...} once per change of the count (`keys` shows it)."""

    utility: Utility
    epoch_modulus: Callable[[int], bytes]
    capacity: CapacitySource
    lookahead_epochs: int = 1
    post_ahead_slots: int = 2
    log: Callable[[dict], None] = lambda entry: None
    registers_keys: bool = True
    warn_days: int = 7  # with registers_keys=False: warn below this many days of keys registered ahead
    transactions: int = 0  # sent since the start
    keys: dict | None = None  # with registers_keys=False: what the last check found (for /health)
    _skipped: int | None = None  # the last slot reported without a capacity (reported once)
    _checked: int = -1  # with registers_keys=False: the last epoch found registered with this issuer's key

    def step(self, now: int) -> list[dict]:
        """Register the coming epochs' keys and post the coming slots' capacities due at `now`; what was sent.
        A key on chain that is not the issuer's (a restart that lost the issuer's keys) raises after the rest."""
        done = self._post_capacities(now)
        if self.registers_keys:
            done[:0] = self._register_keys(now)
        else:
            self._check_keys(now)
        return done

    def _check_keys(self, now: int) -> None:
        """The keys the owner (a Safe) registered ahead: the consecutive days of them from today (each read
        once: a registered key never changes), this issuer's where it serves tokens, none missing there."""
        client, today = self.utility.client, epoch_of(now)
        needed = range(today, today + self.lookahead_epochs + 1)
        epoch, foreign = max(today, self._checked + 1), []
        while epoch < today + max(self.warn_days, len(needed)) and any(on_chain := client.epoch_key(epoch)):
            if epoch in needed and on_chain != keccak(self.epoch_modulus(epoch)):
                foreign.append(epoch)
                break
            self._checked = epoch
            epoch += 1
        days = max(self._checked - today + 1, 0)
        low = days < self.warn_days
        warning = (
            f"keys registered for {days} day(s) from epoch {today} (fewer than {self.warn_days}): the owner (a Safe) "
            "registers more with `gridchain utility epoch-keys`"
            if low
            else None
        )
        if low and (self.keys is None or self.keys["days_ahead"] != days):
            self.log({"action": "epoch_keys_low", "epoch": today, "days_ahead": days, "warn_days": self.warn_days})
        self.keys = {"registered_by": "owner (Safe)", "days_ahead": days, "through_epoch": self._checked}
        self.keys["warning"] = warning
        if foreign:
            raise KeyMismatch(
                f"the key registered for epoch(s) {foreign[0]} is not this issuer's "
                "(registered from another store?): its tokens would be refused by ESUs"
            )
        if days < len(needed):
            missing = today + days
            raise MissingEpochKey(
                f"no key registered for epoch {missing} (today is epoch {today}; tokens are given for "
                f"{today}..{needed[-1]}): the coordinator's owner (a Safe) must register it "
                "(`gridchain utility epoch-keys`)"
            )

    def _register_keys(self, now: int) -> list[dict]:
        client, done, foreign = self.utility.client, [], []
        today = epoch_of(now)
        for epoch in range(today, today + self.lookahead_epochs + 1):
            on_chain = client.epoch_key(epoch)
            if not any(on_chain):
                receipt = self.utility.register_epoch_key(epoch, self.epoch_modulus(epoch))
                done.append(self._logged("register_epoch_key", receipt, epoch=epoch))
            elif on_chain != keccak(self.epoch_modulus(epoch)):
                foreign.append(epoch)
        if foreign:
            raise KeyMismatch(
                f"the key registered for epoch(s) {', '.join(map(str, foreign))} is not this issuer's "
                "(restarted without its keys?): its tokens would be refused by ESUs"
            )
        return done

    def _post_capacities(self, now: int) -> list[dict]:
        client = self.utility.client
        start, length = client.slot_clock()
        current = (now - start) // length
        # a closed slot's capacity is history: skipped even if `now` is behind the chain's clock (a warped node)
        first = max(current, 0, client.next_slot_to_close)
        done: list[dict] = []
        in_force: int | None = None  # the slot's capacity as a close would take it
        for slot in range(first, current + self.post_ahead_slots + 1):
            if in_force is None:  # the first slot: the contract's rule, read back from the chain
                in_force = client.capacity_in_force(slot)
            elif (posted := client.posted_capacity(slot)) is not None:  # the next: its own post, else inherited
                in_force = posted
            try:
                value = self.capacity.capacity_w(slot, start + slot * length)
            except NoCapacity as e:
                if self._skipped != slot:
                    self._skipped = slot
                    self.log({"action": "no_capacity", "slot": slot, "reason": str(e)})
                continue
            if value != in_force:
                receipt = self.utility.post_capacity(slot, value)
                done.append(self._logged("post_capacity", receipt, slot=slot, capacity_w=value, was_w=in_force))
                in_force = value
        return done

    def _logged(self, action: str, receipt: Receipt, **fields: object) -> dict:
        entry = {"action": action, **fields, "tx": receipt.tx_hash, "block": receipt.block, "gas": receipt.gas_used}
        self.transactions += 1
        self.log(entry)
        return entry

    def loop(self, interval_s: float = 1.0, clock: Callable[[], float] = time.time) -> Loop:
        """The duty as a supervised loop named "utility-duty": a step at `clock()` every `interval_s` (not
        started: `start()` it). A failing step (the node away, a foreign key) is logged as {"action": "error",
        "loop", "error", "attempt", "retry_in_s"} and tried again with backoff; a return to health as
        {"action": "recovered", ...}."""

        def step() -> None:
            self.step(int(clock()))

        return Loop(
            "utility-duty", step, interval_s, clock=clock, log=lambda event, **f: self.log({"action": event, **f})
        )


class KeyMismatch(RuntimeError):
    """An epoch's key on chain differs from the issuer's: ESUs would refuse its tokens (registered once only)."""


class MissingEpochKey(RuntimeError):
    """An epoch the utility gives tokens for has no key on chain, and the duty may not register it (a Safe owns
    the coordinator): ESUs can get no token for it."""
