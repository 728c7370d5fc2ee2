"""A stateful Hypothesis machine over the coordinator's whole interface, against the model twin.

Every step goes to the model twin first, then to the contract (`Mirrored.mirror`, through the community's calls):
both succeed with the same result, or both refuse with the same reason and neither changes. The steps are a
member's submissions (fields from the whole uint256 range, past its request limit, from strangers), the owner's
admissions, limits and postings (and the same calls from others), the clock, closes in one call with honest or
hostile calldata (values and positions from the whole uint256 range, aliases modulo the field of the pending
requests), the keepers idling for about RING slots (the ring of submit chains wraps: a submission into a slot
whose ring word holds a slot not closed is refused) and catching up, and paged closes by three keepers at once
(the owner, a member and a stranger), each with its own pages, honest or hostile, any of whom may begin, begin
again, take over or finish first. Invariants after every step: every closed slot granted at most its capacity;
the contract's counters, carry chain, the submit chains of the current and the next slot to close, members,
limits and each keeper's paged close equal the model's.
"""

import boa
from eth_utils import keccak
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gridchain.coordination.model.coordinator import (
    CARRY_IV,
    FIELD,
    RING,
    chain,
    close_calldata,
    pack_indices,
    paged_calldata,
    submit_chain,
)
from tests.support.community import SLOT_LENGTH, ZERO, Community

ANY = st.integers(0, 2**256 - 1)


def mostly(valid, hostile=ANY, odds=8):
    """A draw from `valid`, but one in `odds` from `hostile` (the whole uint256 range by default)."""
    return st.tuples(st.integers(0, odds - 1), valid, hostile).map(lambda t: t[2] if t[0] == 0 else t[1])


def listed_value(words):
    """A value a keeper might list: a real pending request, its alias x + k FIELD, any 176-bit word, any word."""
    values = [ANY, st.integers(0, 2**176 - 1)]
    if words:
        values += [
            st.sampled_from(words),
            st.sampled_from(words).flatmap(
                lambda x: st.integers(1, (2**256 - 1 - x) // FIELD).map(lambda k: x + k * FIELD)
            ),
        ]
    return st.one_of(*values)


class CoordinatorMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self._env = boa.swap_env(boa.Env())  # a fresh chain per example: no state left by earlier tests
        self._env.__enter__()
        self.community = Community(capacity_w=150, members=3)
        self.community.limit_requests(2, self.community.members[:2])  # the third keeps the default, one per slot
        self.stranger = boa.env.generate_address()  # neither owner nor member
        self.keepers = [self.community.owner, self.community.members[0], self.stranger]
        self.community.track(self.stranger)  # its member word and paged close are compared on every refusal
        self.granted: list[tuple[int, int]] = []  # (granted_w, capacity_w) per closed slot
        self.honest: dict[str, object] = {}  # keeper -> the honest calldata its paged close was begun with
        self.skips = 0  # how often the keepers have idled for about RING slots

    def teardown(self):
        self._env.__exit__(None, None, None)

    def _keeper(self, keeper: int, stray: bool):
        """Keeper number `keeper`, or, unless `stray`, one whose paged close is live (if any is), so that pages
        and finishes mostly meet a paged close under way."""
        live = [k for k in self.keepers if self.community.model.paging_of(str(k)) is not None]
        return self.keepers[keeper] if stray or not live else live[keeper % len(live)]

    def closing(self, step, label: str):
        """A close (model first, then the contract: both go through or both refuse alike); one that went through
        counts towards the capacity invariant (its events and carry chain were checked)."""
        ok, result = self.community.attempt(step, label)
        if ok and result is not None:
            self.granted.append((result.schedule.granted_w, result.schedule.capacity_w))

    # -- members, the owner, the clock --------------------------------------------------------------------------
    @rule(
        member=st.sampled_from([0, 1, 2, 0, 1, 2, 3]),
        demand=mostly(st.integers(0, 200), odds=12),
        soc=mostly(st.sampled_from([0, 250, 500, 750, 999, 1000]), odds=12),
        tcc=mostly(st.integers(0, 4), odds=12),
    )
    def submit(self, member, demand, soc, tcc):
        c = self.community
        sender = c.members[member] if member < 3 else c.owner  # the owner is not a member
        self.community.attempt(lambda: c.submit_as(sender, demand, soc, tcc), "submit")
        self.member_agrees(sender)

    @rule(
        member=st.integers(0, 3),
        limit=mostly(st.integers(0, 3), st.sampled_from([2**32, 2**32 + 1, 2**256 - 1]), 4),
        by_owner=st.booleans(),
    )
    def set_limit(self, member, limit, by_owner):
        c = self.community
        who, sender = self.change_member(member, by_owner)
        self.community.attempt(lambda: c.set_request_limit(who, limit, sender), "set_limit")
        self.member_agrees(who)

    @rule(member=st.integers(0, 3), allowed=st.booleans(), by_owner=st.booleans())
    def set_member(self, member, allowed, by_owner):
        c = self.community
        who, sender = self.change_member(member, by_owner)
        self.community.attempt(lambda: c.set_member(who, allowed, sender), "set_member")
        self.member_agrees(who)

    def change_member(self, member: int, by_owner: bool):
        """Whose word an owner-only change changes (a member's, or a stranger's), and who sends it: the owner, or
        a member (refused); after it the word must be the model's."""
        c = self.community
        return c.members[member] if member < 3 else self.stranger, c.owner if by_owner else c.members[0]

    @rule(offset=st.integers(-1, 2), capacity=mostly(st.integers(0, 300)), sender=st.integers(0, 3))
    def post(self, offset, capacity, sender):
        """From the owner (0), the members (1, 2: each may be the capacity poster) or the stranger (3)."""
        c, m = self.community, self.community.model
        slot = max(0, m.next_slot_to_close + offset)
        who = [c.owner, c.members[0], c.members[1], self.stranger][sender]
        self.community.attempt(lambda: c.post(slot, capacity, who), "post")

    @rule(
        poster=st.sampled_from([0, 1, None]),
        bound=mostly(st.integers(0, 300), st.sampled_from([2**64 - 1, 2**64, 2**256 - 1]), 4),
        by_owner=st.booleans(),
    )
    def set_poster(self, poster, bound, by_owner):
        """The owner (or, refused, a member) names the capacity poster, replaces it or revokes it (None)."""
        c = self.community
        who = ZERO if poster is None else c.members[poster]
        sender = c.owner if by_owner else c.members[poster or 0]
        self.community.attempt(lambda: c.set_capacity_poster(who, bound, sender), "set_poster")

    @rule(seconds=st.sampled_from([1, SLOT_LENGTH // 2, SLOT_LENGTH, 2 * SLOT_LENGTH]))
    def travel(self, seconds):
        boa.env.time_travel(seconds=seconds)

    @precondition(lambda self: self.skips < 2)  # at most twice per run: the other steps keep their share
    @rule(laps=st.sampled_from([1, 1, 2]), offset=st.sampled_from([-1, 0, 0, 1]))
    def skip_ahead(self, laps, offset):
        """The keepers idle: the clock jumps to a slot `laps` RING (plus `offset`) after a pending slot with
        submissions (or the next to close), so the ring wraps and its word may hold that slot, not closed;
        a member submits there at once (refused if so, in the contract as in the model)."""
        c, m = self.community, self.community.model
        event("skip ahead")
        self.skips += 1
        self.submit(2, 40, 500, 2)  # most often a pending slot with submissions to wrap onto
        now = m.current_slot(c.now)
        pending = [u for u, words in m.submitted.items() if words and u >= m.next_slot_to_close]
        target = max(now, (min(pending) if pending else m.next_slot_to_close) + laps * RING + offset)
        c.travel_to(m.slot_end(target - 1) if target > now else c.now)
        self.submit(2, 50, 500, 2)

    @precondition(lambda self: self.skips > 0)
    @rule(most=st.sampled_from([1, RING // 2, RING + 1]))
    def catch_up(self, most):
        """The keepers return: close up to `most` ended slots in a row (in one call each)."""
        m = self.community.model
        for _ in range(most):
            if self.community.now < m.slot_end(m.next_slot_to_close):
                break
            self.close(0)

    # -- closes in one call --------------------------------------------------------------------------------------
    @rule(offset=st.sampled_from([0, 0, 0, -1, 1]), keeper=st.integers(0, 2))
    def close(self, offset, keeper=0):
        c, m = self.community, self.community.model
        slot = max(0, m.next_slot_to_close + offset)
        requests, positions = close_calldata(m.pending(slot), m.beta1_pm)
        self.closing(lambda: c.close_slot(slot, requests, positions, self.keepers[keeper]), "close")

    @rule(data=st.data())
    def close_hostile(self, data):
        """A close in one call with calldata that is not the keeper's: values and positions from the whole range,
        aliases of the pending requests, the right requests with wrong positions, one request replaced."""
        c, m = self.community, self.community.model
        c.to_end_of(m.next_slot_to_close)
        slot, pending = m.next_slot_to_close, m.pending(m.next_slot_to_close)
        honest, honest_positions = close_calldata(pending, m.beta1_pm)
        kind = data.draw(st.sampled_from(["values", "positions", "replace"]), label="kind")
        if kind == "values":
            requests = data.draw(st.lists(listed_value(pending), max_size=4), label="requests")
            positions = pack_indices(data.draw(st.permutations(range(len(requests))), label="order"))
        elif kind == "positions":
            requests = honest
            positions = data.draw(st.lists(ANY, min_size=len(honest_positions), max_size=len(honest_positions) + 1))
        else:
            if not honest:
                return
            k = data.draw(st.integers(0, len(honest) - 1), label="k")
            requests = honest[:k] + [data.draw(listed_value(pending), label="value")] + honest[k + 1 :]
            positions = honest_positions
        sender = self.keepers[data.draw(st.integers(0, 2), label="keeper")]
        self.closing(lambda: c.close_slot(slot, requests, positions, sender), "close_hostile")

    @rule()
    def end_and_close(self):
        """The keeper's usual step: wait for the next slot to end, then close it."""
        self.community.to_end_of(self.community.model.next_slot_to_close)
        self.close(0)

    @rule(page=st.integers(1, 4), keeper=st.integers(0, 2), paired=st.booleans())
    def end_and_close_in_pages(self, page, keeper, paired=False):
        """A keeper's step for a large slot: wait for its end, then close it in pages of `page` (one list after
        the other, or `paired` in close_pages calls), all its own calls in a row: whatever other keepers' paged
        closes are under way, nothing is in its way."""
        c, m = self.community, self.community.model
        c.to_end_of(m.next_slot_to_close)
        slot = m.next_slot_to_close
        if not m.pending(slot):
            return  # an empty slot closes in one call
        result = c.close(slot, page, keeper=self.keepers[keeper], paired=paired)  # events, carry chain: the model's
        event("done: paged close")
        self.granted.append((result.schedule.granted_w, result.schedule.capacity_w))

    # -- a paged close step by step, by any of three keepers, with honest or hostile pages --------------------------
    @rule(keeper=st.integers(0, 2), page=st.integers(1, 4), wrong=st.sampled_from([None, None, None, "hash", "n"]))
    def paged_begin(self, keeper, page, wrong):
        c, m = self.community, self.community.model
        c.to_end_of(m.next_slot_to_close)  # a keeper begins once the slot has ended
        slot, sender = m.next_slot_to_close, self.keepers[keeper]
        paged = paged_calldata(m.pending(slot), m.beta1_pm, page)
        target = keccak(b"not the list") if wrong == "hash" else paged.sorted_hash
        n = paged.n + 1 if wrong == "n" else paged.n
        self.community.attempt(lambda: c.begin_close(slot, n, target, sender), "paged_begin")
        if m.paging_of(str(sender)) is not None:
            self.honest[str(sender)] = paged

    @rule(keeper=st.integers(0, 2), page=st.integers(1, 4), sorted_side=st.booleans(), data=st.data())
    def paged_hostile_page(self, keeper, page, sorted_side, data):
        """A keeper begins its paged close honestly, then lists hostile values (the whole uint256 range, aliases
        modulo the field of the real requests, well-formed strangers) in its next sorted or pending page."""
        c, m = self.community, self.community.model
        c.to_end_of(m.next_slot_to_close)
        if m.pending(m.next_slot_to_close):
            self.paged_begin(keeper, page, None)
            self.paged_page(keeper, True, not sorted_side, page, True, data)

    @rule(
        first=st.integers(0, 2),
        second=st.integers(0, 2),
        page=st.integers(1, 4),
        in_pages=st.booleans(),
        data=st.data(),
    )
    def paged_take_over(self, first, second, page, in_pages, data):
        """Take-over: keeper `first` begins and sends a page; keeper `second` closes the slot meanwhile (in its own
        pages, or in one call), at once; `first`'s next page and its finish are refused, its close void."""
        c, m = self.community, self.community.model
        c.to_end_of(m.next_slot_to_close)
        slot = m.next_slot_to_close
        if not m.pending(slot):
            return
        self.paged_begin(first, page, None)
        self.paged_page(first, True, False, page, False, data)
        if in_pages:
            self.end_and_close_in_pages(page, second)
        else:
            self.close(0, second)
        assert m.next_slot_to_close == slot + 1 and m.paging_of(str(self.keepers[first])) is None
        self.paged_page(first, True, False, page, False, data)
        self.paged_finish(first, True)

    @rule(
        keeper=st.integers(0, 2),
        stray=st.sampled_from([False, False, False, True]),
        pending=st.booleans(),
        size=st.integers(1, 4),
        hostile=st.booleans(),
        data=st.data(),
    )
    def paged_page(self, keeper, stray, pending, size, hostile, data):
        """The keeper's next page: the honest continuation (or one too many), or hostile values."""
        c, m = self.community, self.community.model
        sender = self._keeper(keeper, stray)
        p, paged = m.paging_of(str(sender)), self.honest.get(str(sender))
        if p is None or paged is None:
            chunk = [data.draw(listed_value(m.pending(m.next_slot_to_close)), label="value")]
        elif hostile:
            honest_words = [x for page in paged.sorted_pages for x in page]
            chunk = data.draw(st.lists(listed_value(honest_words), min_size=1, max_size=size), label="chunk")
        else:
            words = [x for page in (paged.pending_pages if pending else paged.sorted_pages) for x in page]
            done = len(p.pending if pending else p.sorted)
            chunk = words[done : done + size] or words[-1:]  # past the end: one too many
        if data.draw(st.booleans(), label="in close_pages"):  # the same page, the other list empty
            both = ([], chunk) if pending else (chunk, [])
            self.community.attempt(lambda: c.close_pages(*both, sender), "paged_page (close_pages)")
        elif pending:
            self.community.attempt(lambda: c.close_pending_page(chunk, sender), "paged_page (pending)")
        else:
            self.community.attempt(lambda: c.close_sorted_page(chunk, sender), "paged_page (sorted)")

    @rule(keeper=st.integers(0, 2), data=st.data())
    def paged_complete(self, keeper, data):
        """Send a keeper's remaining honest pages, then finish (if another keeper closed the slot meanwhile, the
        owner posted another capacity, or its pages were hostile, the contract and the model refuse alike)."""
        m = self.community.model
        sender = self._keeper(keeper, False)
        keeper = self.keepers.index(sender)
        for pending in (False, True):
            while (p := m.paging_of(str(sender))) is not None and len(p.pending if pending else p.sorted) < p.n:
                before = len(p.pending if pending else p.sorted)
                self.paged_page(keeper, True, pending, 4, False, data)
                p = m.paging_of(str(sender))
                if p is None or len(p.pending if pending else p.sorted) == before:
                    break  # refused (and checked): stop here
        self.paged_finish(keeper, True)

    @rule(keeper=st.integers(0, 2), stray=st.sampled_from([False, False, True]))
    def paged_finish(self, keeper, stray):
        sender = self._keeper(keeper, stray)
        self.closing(lambda: self.community.finish_close(sender), "paged_finish")

    # -- invariants -------------------------------------------------------------------------------------------
    @invariant()
    def granted_within_capacity(self):
        assert all(g <= cap for g, cap in self.granted)

    @invariant()
    def state_agrees(self):
        """The contract's state is the model's: close state, carry chain, the current slot's submissions, each
        account's member word (flag, limit, count and slot) and each keeper's paged close."""
        c, m = self.community.c, self.community.model
        assert c.next_slot_to_close() == m.next_slot_to_close
        assert c.last_capacity_w() == m.last_capacity_w
        assert c.carry_hash() == chain(m.carried.get(m.next_slot_to_close, []), CARRY_IV)
        current = m.current_slot(self.community.now)
        for slot in {current, m.next_slot_to_close}:  # neither is closed: the ring holds their chains
            assert c.submit_hash(slot) == submit_chain(m.submitted.get(slot, []))
        for keeper in self.keepers:  # a paged close that the model holds void is checked by the next page's refusal
            if (p := m.paging_of(str(keeper))) is not None:
                slot, n, capacity, *_, pending_count, _, _, walk = c.paging(keeper)
                assert (slot, n, capacity, walk[7], pending_count) == (
                    p.slot,
                    p.n,
                    p.capacity_w,
                    len(p.sorted),
                    len(p.pending),
                )

    def member_agrees(self, who):
        """The account's member word (flag, limit - 1, count, slot of its last request) is the model's (checked
        after each step that may change it: reading every account after every step would double the time)."""
        m = self.community.model
        last, count = m.member_slots.get(str(who), (0, 0))
        word = (str(who) in m.members) | (m.request_limit(str(who)) - 1) << 32 | count << 64 | last << 128
        assert self.community.c.member_state(who) == word


TestCoordinatorMachine = CoordinatorMachine.TestCase
TestCoordinatorMachine.settings = settings(max_examples=80, stateful_step_count=40, deadline=None)
