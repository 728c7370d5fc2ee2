"""A stateful Hypothesis machine for contracts/metering.vy: random deposits, notices, withdrawals, tariff versions,
anchors and roaming settlements (honest and forged), each applied to the contract and its twin. After every step
the harness compares all escrow, credit, notices, billed intervals and every account's balance, and the
invariant: the contract holds exactly all escrow plus all credit."""

from __future__ import annotations

import boa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from gridchain.core import metering as m

from .metering_harness import COMMUNITY, Metering

I = m.INTERVAL_S  # noqa: E741


class MeteringMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.snapshot = boa.env.anchor()
        self.snapshot.__enter__()
        self.net = Metering(households=2, evs=3)
        for owner in self.net.ev_owners[:2]:  # the third EV's owner starts with nothing in escrow
            self.net.deposit(owner.address, 10**16)
        self.net.travel_to(self.net.now + 86400)  # sessions in the last hours fall under the first tariff
        self.settled = 0

    def teardown(self) -> None:
        self.snapshot.__exit__(None, None, None)

    def _try(self, call) -> bool:
        try:
            call()
            return True
        except m.MeteringError:
            return False

    @rule(who=st.integers(0, 2), wei=st.sampled_from([0, 1, 10**14, 10**15, 10**16]))
    def deposit(self, who, wei):
        self._try(lambda: self.net.deposit(self.net.ev_owners[who].address, wei))

    @rule(who=st.integers(0, 2), share=st.integers(0, 110))
    def request_withdrawal(self, who, share):
        owner = self.net.ev_owners[who].address
        amount = self.net.c.escrow(owner) * share // 100
        self._try(lambda: self.net.request_withdrawal(owner, amount))

    @rule(who=st.integers(0, 2))
    def withdraw_escrow(self, who):
        self._try(lambda: self.net.withdraw_escrow(self.net.ev_owners[who].address))

    @rule(host=st.integers(0, 1))
    def withdraw_credit(self, host):
        self._try(lambda: self.net.withdraw_credit(self.net.hosts[host].address))

    @rule(seconds=st.sampled_from([1, I - 1, I, 3600, 86400, 2 * 86400]))
    def wait(self, seconds):
        self.net.travel_to(self.net.now + seconds)

    @rule(hours=st.integers(0, 48), price=st.integers(0, 10**15))
    def new_tariff(self, hours, price):
        start = (self.net.now // I + 1) * I + hours * 3600
        self._try(lambda: self.net.set_tariff(COMMUNITY, start, (price,) * 24))

    @rule(meter=st.integers(0, 1), days_back=st.integers(0, 3), count=st.integers(0, 97))
    def anchor(self, meter, days_back, count):
        period = self.net.now // m.PERIOD_S - days_back
        self._try(lambda: self.net.anchor(self.net.meters[meter].address, period, b"\x05" * 32, count))

    def _settle(self, ev, meter, back, n, offset, wh, forge=None) -> None:
        net = self.net
        start = net.now - back * I
        energies = [wh + 13 * i for i in range(n)]
        kwargs = {"ev_key": net.evs[(ev + 1) % 3]} if forge == "ev" else {}
        if forge == "meter":
            kwargs = {"meter_key": net.meters[1 - meter]}
        s, ev_sig, reading, meter_sig = net.session(ev, meter, start, start // I + offset, energies, **kwargs)
        if forge == "energy":
            reading = m.SessionReading(reading.session, reading.first_interval, (wh + 1,) + reading.energy_wh[1:])
        if self._try(lambda: net.settle(net.gateway, s, ev_sig, reading, meter_sig)):
            assert forge is None, "a forged session was settled"
            self.settled += 1

    @rule(ev=st.integers(0, 2), meter=st.integers(0, 1), back=st.integers(3, 12), n=st.integers(1, 3),
          wh=st.integers(0, 3000))  # fmt: skip
    def settle(self, ev, meter, back, n, wh):
        self._settle(ev, meter, back, n, 0, wh)

    @rule(ev=st.integers(0, 2), meter=st.integers(0, 1), back=st.integers(0, 12), n=st.integers(0, 3),
          offset=st.integers(-1, 1), wh=st.integers(0, 3000))  # fmt: skip
    def settle_odd_intervals(self, ev, meter, back, n, offset, wh):
        self._settle(ev, meter, back, n, offset, wh)

    @rule(ev=st.integers(0, 2), meter=st.integers(0, 1), wh=st.integers(0, 3000),
          forge=st.sampled_from(["ev", "meter", "energy"]))  # fmt: skip
    def settle_forged(self, ev, meter, wh, forge):
        self._settle(ev, meter, 4, 2, 0, wh, forge)

    @invariant()
    def holds_all_escrow_and_credit(self):
        net = self.net
        assert boa.env.get_balance(net.address) == net.c.total_held() == net.model.held()


TestMetering = MeteringMachine.TestCase
TestMetering.settings = settings(max_examples=25, stateful_step_count=30, deadline=None,
                                 suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
