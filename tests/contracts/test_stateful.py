"""A stateful Hypothesis machine over submit / post / close / time travel, against the model twin.

Every step does the same thing to the contract and to `core.coordinator.CoordinatorModel`: both succeed
with the same result, or both refuse with the same reason. Invariant checked after every step: every
closed slot granted at most its capacity, and the contract's counters equal the model's.
"""

import boa
from eth_utils import keccak
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gridchain.core.coordinator import CoordinatorError, close_calldata, paged_calldata, submit_chain

from .conftest import SLOT_LENGTH, Community, logs


class CoordinatorMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._env = boa.swap_env(boa.Env())  # a fresh chain per example: no state left by earlier tests
        self._env.__enter__()
        self.community = Community(capacity_w=150, members=3)
        self.granted: list[tuple[int, int]] = []  # (granted_w, capacity_w) per closed slot
        self.paged = None  # the honest calldata of the paged close under way (its pages are sent from it)

    def teardown(self):
        self._env.__exit__(None, None, None)

    def both(self, chain_call, model_call):
        """Run on chain and in the model; they must agree on success or on the revert reason."""
        try:
            expected = model_call()
        except CoordinatorError as e:
            event(f"refused: {e}")
            with boa.reverts(str(e)):
                chain_call()
            return None
        chain_call()
        event(f"done: {model_call.__qualname__.split('.')[1]}")
        return expected

    # mostly valid values (one bad value in five or six draws), so that slots fill and closes do work
    @rule(member=st.sampled_from([0, 1, 2, 0, 1, 2, 3]), demand=st.integers(0, 200),
          soc=st.sampled_from([0, 250, 500, 750, 999, 1000]), tcc=st.integers(0, 4))  # fmt: skip
    def submit(self, member, demand, soc, tcc):
        c, m = self.community, self.community.model
        sender = c.members[member] if member < 3 else c.owner  # the owner is not a member

        def on_chain():
            with boa.env.prank(sender):
                c.c.submit_request(demand, soc, tcc)

        self.both(on_chain, lambda: m.submit_request(str(sender), c.now, demand, soc, tcc))

    @rule(offset=st.integers(-1, 2), capacity=st.integers(0, 300), by_owner=st.booleans())
    def post(self, offset, capacity, by_owner):
        c, m = self.community, self.community.model
        slot = max(0, m.next_slot_to_close + offset)
        sender = c.owner if by_owner else c.members[0]

        def on_chain():
            with boa.env.prank(sender):
                c.c.post_capacity(slot, capacity)

        self.both(on_chain, lambda: m.post_capacity(str(sender), slot, capacity))

    @rule(seconds=st.sampled_from([1, SLOT_LENGTH // 2, SLOT_LENGTH, 2 * SLOT_LENGTH]))
    def travel(self, seconds):
        boa.env.time_travel(seconds=seconds)

    @rule(offset=st.sampled_from([0, 0, 0, -1, 1]))
    def close(self, offset):
        c, m = self.community, self.community.model
        slot = max(0, m.next_slot_to_close + offset)
        requests, order = close_calldata(m.pending(slot), m.beta1_pm)
        result = self.both(lambda: c.c.close_slot(slot, requests, order), lambda: m.close_slot(c.now, slot))
        if result is not None:
            event = {k: v for k, v in logs(c.c, "SlotClosed")[0].items() if k != "address"}
            assert event == result.event()
            self.granted.append((event["granted_w"], event["capacity_w"]))

    @rule()
    def end_and_close(self):
        """The keeper's usual step: wait for the next slot to end, then close it."""
        self.community.to_end_of(self.community.model.next_slot_to_close)
        self.close(0)

    @rule(page=st.integers(1, 4))
    def end_and_close_in_pages(self, page):
        """The keeper's step for a large slot: wait for its end, then close it in pages of `page`."""
        c, m = self.community, self.community.model
        c.to_end_of(m.next_slot_to_close)
        slot = m.next_slot_to_close
        if not m.pending(slot):
            return  # an empty slot closes in one call
        p = m.paging
        if p and p.slot == slot and p.keeper != str(c.owner) and c.now < p.started + SLOT_LENGTH:
            return  # someone else's paged close is under way (the paged rules below test that refusal)
        result = c.close(slot, page)  # asserts the events and carry chain equal the model's
        event("done: paged close")
        self.granted.append((result.schedule.granted_w, result.schedule.capacity_w))

    # -- a paged close step by step, by its keeper or by someone else, with honest or wrong input --------
    def _sender(self, by_owner):
        return self.community.owner if by_owner else self.community.members[0]

    def _as(self, sender, call):
        def run():
            with boa.env.prank(sender):
                call()

        return run

    @rule(by_owner=st.booleans(), page=st.integers(1, 4), wrong_commitment=st.booleans())
    def paged_begin(self, by_owner, page, wrong_commitment):
        c, m = self.community, self.community.model
        c.to_end_of(m.next_slot_to_close)  # a keeper begins once the slot has ended
        slot, sender = m.next_slot_to_close, self._sender(by_owner)
        paged = paged_calldata(m.pending(slot), m.beta1_pm, page)
        target = keccak(b"not the list") if wrong_commitment else paged.sorted_hash
        before = m.paging
        self.both(self._as(sender, lambda: c.c.begin_close(slot, paged.n, target)),
                  lambda: m.begin_close(str(sender), c.now, slot, paged.n, target))  # fmt: skip
        if m.paging is not before:
            self.paged = paged

    @rule(by_owner=st.booleans(), pending=st.booleans())
    def paged_page(self, by_owner, pending):
        c, m = self.community, self.community.model
        sender = self._sender(by_owner)
        if self.paged is None or m.paging is None:
            chunk = [1]
        else:
            pages = self.paged.pending_pages if pending else self.paged.sorted_pages
            done = len(m.paging.pending if pending else m.paging.sorted)
            sent = sum(len(x) for x in pages)
            chunk = next((x for k, x in enumerate(pages) if sum(len(y) for y in pages[:k]) == done), None)
            chunk = chunk if chunk is not None and done < sent else [pages[-1][-1]]  # one too many
        if pending:
            self.both(self._as(sender, lambda: c.c.close_pending_page(chunk)),
                      lambda: m.close_pending_page(str(sender), chunk))  # fmt: skip
        else:
            self.both(self._as(sender, lambda: c.c.close_sorted_page(chunk)),
                      lambda: m.close_sorted_page(str(sender), chunk))  # fmt: skip

    @rule(as_keeper=st.booleans())
    def paged_complete(self, as_keeper):
        """Send every remaining honest page, then finish: as the paged close's keeper, or as the other
        account (who must be refused)."""
        m = self.community.model
        keeper_is_owner = m.paging is None or m.paging.keeper == str(self.community.owner)
        by_owner = keeper_is_owner if as_keeper else not keeper_is_owner
        for pending in (False, True):
            while self.paged is not None and m.paging is not None:
                done = len(m.paging.pending if pending else m.paging.sorted)
                if done >= m.paging.n:
                    break
                before = done
                self.paged_page(by_owner, pending)
                if m.paging is None or len(m.paging.pending if pending else m.paging.sorted) == before:
                    break  # refused (and checked): stop here
        self.paged_finish(by_owner)

    @rule(by_owner=st.booleans())
    def paged_finish(self, by_owner):
        c, m = self.community, self.community.model
        sender = self._sender(by_owner)
        result = self.both(self._as(sender, lambda: c.c.finish_close()), lambda: m.finish_close(str(sender), c.now))
        if result is not None:
            event_args = {k: v for k, v in logs(c.c, "SlotClosed")[0].items() if k != "address"}
            assert event_args == result.event()
            self.granted.append((result.schedule.granted_w, result.schedule.capacity_w))
            self.paged = None

    @invariant()
    def granted_within_capacity(self):
        assert all(g <= cap for g, cap in self.granted)

    @invariant()
    def counters_agree(self):
        c, m = self.community.c, self.community.model
        assert c.next_slot_to_close() == m.next_slot_to_close
        assert all(c.submit_hash(slot) == submit_chain(words) for slot, words in m.submitted.items())
        assert c.last_capacity_w() == m.last_capacity_w


TestCoordinatorMachine = CoordinatorMachine.TestCase
TestCoordinatorMachine.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
