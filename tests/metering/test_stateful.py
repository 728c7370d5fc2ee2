"""A stateful Hypothesis machine for contracts/metering.vy: random deposits, notices, withdrawals, tariff versions,
anchors (by the meter's gateway, another one, and meter-signed roots of any version), and roaming sessions:
signed starts kept in a pool, then reserved (by the host, another host or an attacker, with any maximum cost),
released (before and after the time-out, by anyone), settled in any order, replayed, and forged. Values are drawn
hostile: whole uint256 ranges for amounts, periods, versions, starts and maximum costs. Each call goes to the twin
first, then to the contract (tests/metering/harness.py, a `Mirrored`: a refusal must be the same on both sides and
change nothing); after every call the harness compares all escrow, reservations, credit, notices, billed
intervals, roots and every account's balance, and the invariant: the contract holds exactly all escrow, all
reservations and all credit."""

from __future__ import annotations

import boa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gridchain.metering import model as m
from tests.metering.harness import COMMUNITY, MAX_COST, Metering
from tests.support.mirrored import fresh_traces

I = m.INTERVAL_S  # noqa: E741
U256 = st.integers(0, 2**256 - 1)
WEI = st.one_of(st.sampled_from([0, 1, 10**14, 10**15, MAX_COST]), U256)
MAX_COSTS = st.one_of(st.sampled_from([10**12, 10**14, MAX_COST]), st.sampled_from([0, 1, 4 * MAX_COST]), U256)
SENDERS = st.sampled_from(["host", "host", "other host", "attacker", "ev owner", "gateway"])
SOMETIMES = st.sampled_from([False, False, False, True])
AGES = st.one_of(st.integers(4, 40), st.integers(4, 40), st.integers(-2, 400))  # [intervals] before now


class MeteringMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.anchor = boa.env.anchor()
        self.anchor.__enter__()
        fresh_traces()  # the contract is deployed again at the same address: only this example's slots
        self.net = Metering(households=2, evs=3)
        for owner in self.net.ev_owners[:2]:  # the third EV's owner starts with nothing in escrow
            self.net.deposit(owner.address, 2 * MAX_COST)
        self.attacker = self.net.new_account().address
        self.net.travel_to(self.net.now + 5 * 86400)  # sessions of the last days fall under the first tariff
        self.pool: list[tuple] = []  # signed sessions: (start, ev signature, reading, meter signature, ev, meter)
        self.settled = 0

    def teardown(self) -> None:
        self.anchor.__exit__(None, None, None)

    def _try(self, call, label: str) -> bool:
        """A harness call that may be refused (both sides alike, nothing changed: `Mirrored.mirror`): went through?"""
        return self.net.attempt(call, label).ok

    def _sender(self, who: str, ev: int, meter: int) -> str:
        net = self.net
        return {
            "host": net.hosts[meter].address,
            "other host": net.hosts[1 - meter].address,
            "attacker": self.attacker,
            "ev owner": net.ev_owners[ev].address,
            "gateway": net.gateway,
        }[who]

    # -- the escrow --------------------------------------------------------------------------------------------
    @rule(who=st.integers(0, 2), wei=st.sampled_from([0, 1, 10**14, 10**15, MAX_COST]))
    def deposit(self, who, wei):
        self._try(lambda: self.net.deposit(self.net.ev_owners[who].address, wei), "deposit")

    @rule(who=st.integers(0, 2), share=st.integers(0, 110), hostile=st.none() | U256)
    def request_withdrawal(self, who, share, hostile):
        owner = self.net.ev_owners[who].address
        amount = self.net.c.escrow(owner) * share // 100 if hostile is None else hostile
        self._try(lambda: self.net.request_withdrawal(owner, amount), "request_withdrawal")

    @rule(who=st.integers(0, 2))
    def withdraw_escrow(self, who):
        self._try(lambda: self.net.withdraw_escrow(self.net.ev_owners[who].address), "withdraw_escrow")

    @rule(host=st.integers(0, 1), stranger=st.booleans())
    def withdraw_credit(self, host, stranger):
        self._try(
            lambda: self.net.withdraw_credit(self.attacker if stranger else self.net.hosts[host].address),
            "withdraw_credit",
        )

    @rule(seconds=st.sampled_from([1, I - 1, I, 3600, 86400, 2 * 86400, m.RESERVATION_S - 1, m.RESERVATION_S]))
    def wait(self, seconds):
        self.net.travel_to(self.net.now + seconds)

    @rule(hours=st.integers(0, 48), price=st.one_of(st.integers(0, 10**15), st.integers(m.MAX_PRICE - 1, 2**70)))
    def new_tariff(self, hours, price):
        start = (self.net.now // I + 1) * I + hours * 3600
        self._try(lambda: self.net.set_tariff(COMMUNITY, start, (price,) * 24), "new_tariff")

    # -- readings ----------------------------------------------------------------------------------------------
    @rule(meter=st.integers(0, 1), period=st.one_of(st.integers(0, 3), U256), count=st.integers(0, 97), rogue=SOMETIMES)
    def anchor(self, meter, period, count, rogue):
        if period <= 3:
            period = self.net.now // m.PERIOD_S - period  # days back
        sender = self.attacker if rogue else self.net.gateway
        self._try(
            lambda: self.net.anchor(self.net.meters[meter].address, period, b"\x05" * 32, count, sender), "anchor"
        )

    @rule(
        meter=st.integers(0, 1),
        days_back=st.integers(0, 3),
        version=st.one_of(st.integers(0, 3), U256),
        forge=SOMETIMES,
        root=st.sampled_from([b"\x06" * 32, b"\x07" * 32, b"\x06" * 32, b"\x00" * 32]),
    )
    def anchor_signed_root(self, meter, days_back, version, forge, root):
        net = self.net
        period = net.now // m.PERIOD_S - days_back
        key = net.meters[1 - meter] if forge else None
        signed = net.signed_root(meter, period, root, 96, version, key=key)
        if self._try(lambda: net.anchor_signed(*signed, sender=self.attacker), "anchor_signed_root"):
            assert not forge, "a root not signed by the meter was anchored"

    # -- roaming -----------------------------------------------------------------------------------------------
    @rule(
        ev=st.integers(0, 2),
        meter=st.integers(0, 1),
        back=AGES,
        n=st.integers(1, 4),
        wh=st.integers(0, 3000),
        max_cost=MAX_COSTS,
        far=st.sampled_from([False] * 7 + [True]),
        admit=st.booleans(),
    )
    def sign_session(self, ev, meter, back, n, wh, max_cost, far, admit):
        """The EV signs a start (`back` intervals ago; negative: ahead; `far`: a hostile time) and the meter a
        reading for it; both go to the pool, to be reserved, released and settled in any order. `admit`: the
        host reserves it at once, as its station does at the plug."""
        start = 2**256 - 1 - abs(back) if far else max(0, self.net.now - back * I)
        energies = [wh + 13 * i for i in range(n)]
        self.pool.append((*self.net.session(ev, meter, start, start // I, energies, max_cost=max_cost), ev, meter))
        if admit:
            self.reserve(len(self.pool) - 1, "host")

    @precondition(lambda self: self.pool)
    @rule(pick=st.integers(0, 10**6), who=SENDERS)
    def reserve(self, pick, who):
        s, ev_sig, _, _, ev, meter = self.pool[pick % len(self.pool)]
        sender = self._sender(who, ev, meter)
        if self._try(lambda: self.net.reserve(sender, s, ev_sig), "reserve"):
            assert sender == self.net.hosts[meter].address, "a reservation by someone else than the host"

    @precondition(lambda self: self.pool)
    @rule(pick=st.integers(0, 10**6), who=SENDERS)
    def release(self, pick, who):
        s, _, _, _, ev, meter = self.pool[pick % len(self.pool)]
        sender = self._sender(who, ev, meter)
        if self._try(lambda: self.net.release(sender, s), "release"):
            assert sender == self.net.hosts[meter].address or self.net.now - s.start >= m.RESERVATION_S

    @precondition(lambda self: self.pool)
    @rule(picks=st.lists(st.integers(0, 10**6), min_size=1, max_size=3), who=SENDERS)
    def settle(self, picks, who):
        """Pooled sessions, in any order, again and again (replays)."""
        for pick in picks:
            s, ev_sig, reading, meter_sig, ev, meter = self.pool[pick % len(self.pool)]
            if self._try(
                lambda: self.net.settle(self._sender(who, ev, meter), s, ev_sig, reading, meter_sig), "settle"
            ):
                self.settled += 1

    @rule(
        ev=st.integers(0, 2),
        meter=st.integers(0, 1),
        back=st.integers(0, 12),
        n=st.integers(0, 3),
        offset=st.integers(-1, 1),
        wh=st.integers(0, 3000),
    )
    def settle_odd_intervals(self, ev, meter, back, n, offset, wh):
        net = self.net
        start = net.now - back * I
        session = net.session(ev, meter, start, start // I + offset, [wh + 13 * i for i in range(n)])
        self._try(lambda: net.settle(net.gateway, *session), "settle_odd_intervals")

    @rule(
        ev=st.integers(0, 2),
        meter=st.integers(0, 1),
        wh=st.integers(0, 3000),
        forge=st.sampled_from(["ev", "meter", "energy", "max cost"]),
    )
    def settle_forged(self, ev, meter, wh, forge):
        net = self.net
        start = net.now - 4 * I
        kwargs = {"ev_key": net.evs[(ev + 1) % 3]} if forge == "ev" else {}
        if forge == "meter":
            kwargs = {"meter_key": net.meters[1 - meter]}
        s, ev_sig, reading, meter_sig = net.session(ev, meter, start, start // I, [wh, wh], **kwargs)
        if forge == "energy":
            reading = m.SessionReading(reading.session, reading.first_interval, (wh + 1,) + reading.energy_wh[1:])
        if forge == "max cost":  # the host raises the EV's signed cap
            s = m.SessionStart(s.ev, s.meter, s.start, s.max_cost_wei + 1)
        if self._try(lambda: net.settle(net.gateway, s, ev_sig, reading, meter_sig), "settle_forged"):
            raise AssertionError(f"a session forged by its {forge} was settled")

    @invariant()
    def holds_all_escrow_reservations_and_credit(self):
        net = self.net
        assert boa.env.get_balance(net.address) == net.c.total_held() == net.model.held()
        assert net.model.held() == (
            sum(net.model.escrow.values()) + sum(net.model.reserved.values()) + sum(net.model.credit.values())
        )


TestMetering = MeteringMachine.TestCase
TestMetering.settings = settings(
    max_examples=20, stateful_step_count=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
