"""The metering contract's harness: a deployed contracts/metering.vy with its MeteringModel twin, every call going to
the twin first and then to the contract through `Mirrored.mirror` (tests/support/mirrored.py), and they must agree
(state, balances and events on success; the revert reason, with nothing changed on either side, on failure)."""

from __future__ import annotations

import boa
from eth_account import Account

from gridchain.crypto import eip712
from gridchain.crypto.keys import compact, sign_digest
from gridchain.metering import model as m
from gridchain.metering.client import signer_of
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import Mirrored
from tests.support.mirrored import refused as _refused

CONTRACT = CONTRACTS / "metering.vy"
NOTICE = 2 * 86400
COMMUNITY = 7
PEAK = tuple(3 * 10**14 if 17 <= h < 21 else 10**14 for h in range(24))  # [wei/kWh]
MAX_COST = 10**16  # [wei] what the harness's EVs sign a session may cost, unless told


def deployer():
    return load(CONTRACT)


def refused(reason: str):
    """The block is refused by the metering contract and its twin with exactly `metering: reason`."""
    return _refused(f"metering: {reason}", m.MeteringError)


class Metering(Mirrored):
    """The contract, its twin, a gateway (assigned to every meter), `households` registered meters (each owned
    by a host) and `evs` registered EVs (each with an owner account), and a clock starting at a day boundary.
    It remembers every session id it signed and every bitmap word a settlement tried, and compares them all."""

    ERROR = m.MeteringError
    EVENTS = (
        "MeterRegistered",
        "EVRegistered",
        "GatewaySet",
        "GatewayAssigned",
        "TariffSet",
        "RootAnchored",
        "Deposited",
        "WithdrawalRequested",
        "Reserved",
        "Released",
        "SessionSettled",
        "Withdrawn",
    )

    def __init__(self, notice_s: int = NOTICE, households: int = 2, evs: int = 2, tariff: bool = True):
        start = (boa.env.evm.patch.timestamp // 86400 + 1) * 86400
        boa.env.time_travel(seconds=start - boa.env.evm.patch.timestamp)
        self.owner = str(boa.env.eoa)
        self.c = deployer().deploy(notice_s)
        self.address = str(self.c.address)
        self.model = m.MeteringModel(self.owner, notice_s)
        self.domain = m.domain(self.c.eip712Domain()[3], self.address)
        self.init_accounts()
        self.paid: dict[str, int] = {}
        self.events: dict[str, list[dict]] = {}
        self.meters: list = []
        # what `check` compares (a refused call must leave all of the contract's storage as it was: the snapshot)
        self.sessions: dict[bytes, m.SessionStart] = {}  # every session id signed here
        self.words: set[tuple[str, int]] = set()  # (meter, bitmap word) a settlement touched or tried
        self.days: set[tuple[str, int]] = set()  # (meter, period) an anchor tried
        self.track(self.owner)
        self.gateway = self.new_account().address
        self.set_gateway(self.gateway, True)
        self.hosts = [self.new_account() for _ in range(households)]
        self.meters.extend(Account.create() for _ in range(households))
        for i, (meter, host) in enumerate(zip(self.meters, self.hosts, strict=True)):
            self.register_meter(meter.address, host.address, COMMUNITY, 1000 + i)
            self.assign_gateway(meter.address, self.gateway)
        self.ev_owners = [self.new_account() for _ in range(evs)]
        self.evs = [Account.create() for _ in range(evs)]
        for ev, owner in zip(self.evs, self.ev_owners, strict=True):
            self.register_ev(ev.address, owner.address)
        if tariff:
            self.set_tariff(COMMUNITY, self.now, PEAK)

    # -- accounts and time ---------------------------------------------------------------------------------
    def track(self, address: str, balance: int | None = None) -> str:
        """`Accounts.track`; what the account was paid is followed too (any sender, an attacker's account too,
        from its first call: `mirror` tracks it)."""
        address = super().track(address, balance)
        self.paid.setdefault(address, 0)
        return address

    # -- comparing both sides ------------------------------------------------------------------------------
    def check(self) -> None:
        """Everything the contract and its twin hold must agree, and the contract must hold exactly all escrow,
        all reservations and all credit."""
        md = self.model
        assert boa.env.get_balance(self.address) == md.balance == md.held()
        assert self.c.total_held() == md.held()
        for a in self.accounts:
            low = a.lower()
            assert self.c.escrow(a) == md.escrow.get(low, 0), a
            assert self.c.available_escrow(a) == md.available_escrow(a), a
            assert self.c.credit(a) == md.credit.get(low, 0), a
            assert self.c.withdrawal_notice(a) == md.notice.get(low, (0, 0)), a
            assert self.c.is_gateway(a) == (low in md.gateways), a
            assert boa.env.get_balance(a) == self.initial[a] - self.sent[a] + self.paid[a], a
        for sid in self.sessions:
            assert self.c.reserved(sid) == md.reserved.get(sid, 0), sid.hex()
        for mt, w in self.words:
            assert self.c.billed(mt, w) == m.billed_words(md.billed.get(mt.lower(), set())).get(w, 0), (mt, w)
        for mt, d in self.days:
            root = md.roots.get((mt.lower(), d), b"\x00" * 32)
            assert (self.c.root(mt, d), self.c.root_version(mt, d)) == (root, md.root_versions.get((mt.lower(), d), 0))
        for mt in self.meters:
            assert str(self.c.gateway_of(mt.address)).lower() == md.gateway_of.get(mt.address.lower(), m.ZERO)

    def apply(self, sender: str, model_call, chain_call, value: int = 0):
        """`mirror` the call, then `check` everything; a payout the model returns must be what the contract
        returned."""
        result, out = self.mirror(sender, model_call, chain_call, value)
        if isinstance(result, int) and not isinstance(result, bool):  # a payout to the sender
            assert out == result
        self.check()
        return result

    # -- the utility ---------------------------------------------------------------------------------------
    def register_meter(self, meter: str, owner: str, community: int, premises: int, sender: str | None = None):
        sender = sender or self.owner
        self.apply(
            sender,
            lambda: self.model.register_meter(sender, meter, owner, community, premises),
            lambda: self.c.register_meter(meter, owner, community, premises),
        )
        assert self.events["MeterRegistered"] == [
            {"meter": meter.lower(), "owner": owner.lower(), "community": community, "premises": premises}
        ]

    def register_ev(self, ev: str, owner: str, sender: str | None = None):
        sender = sender or self.owner
        self.apply(sender, lambda: self.model.register_ev(sender, ev, owner), lambda: self.c.register_ev(ev, owner))
        assert self.events["EVRegistered"] == [{"ev": ev.lower(), "owner": owner.lower()}]

    def set_gateway(self, gateway: str, allowed: bool, sender: str | None = None):
        sender = sender or self.owner
        self.apply(
            sender,
            lambda: self.model.set_gateway(sender, gateway, allowed),
            lambda: self.c.set_gateway(gateway, allowed),
        )

    def assign_gateway(self, meter: str, gateway: str, sender: str | None = None):
        sender = sender or self.owner
        self.apply(
            sender,
            lambda: self.model.assign_gateway(sender, meter, gateway),
            lambda: self.c.assign_gateway(meter, gateway),
        )
        assert self.events["GatewayAssigned"] == [{"meter": meter.lower(), "gateway": gateway.lower()}]

    def set_tariff(self, community: int, effective_from: int, prices, sender: str | None = None):
        sender = sender or self.owner
        self.apply(
            sender,
            lambda: self.model.set_tariff(sender, self.now, community, effective_from, prices),
            lambda: self.c.set_tariff(community, effective_from, list(prices)),
        )

    # -- readings ------------------------------------------------------------------------------------------
    def signed_readings(self, meter_index: int, period: int, count: int = m.READINGS_PER_PERIOD):
        """`count` readings of one meter for day `period`, signed: (readings, signatures, leaves)."""
        key = self.meters[meter_index]
        readings = [
            m.Reading(key.address, period * m.PERIOD_S + i * m.INTERVAL_S, 400 + 7 * i, 50 + i) for i in range(count)
        ]
        leaves = [eip712.digest(self.domain, r) for r in readings]
        return readings, [sign_digest(key.key, d) for d in leaves], leaves

    def anchor(self, meter: str, period: int, root: bytes, count: int, sender: str | None = None):
        sender = sender or self.gateway
        self.days.add((meter, period))
        self.apply(
            sender,
            lambda: self.model.anchor_root(sender, self.now, meter, period, root, count),
            lambda: self.c.anchor_root(meter, period, root, count),
        )
        assert self.events["RootAnchored"] == [
            {"meter": meter.lower(), "period": period, "root": root, "count": count, "version": 0}
        ]

    def signed_root(self, meter_index: int, period: int, root: bytes, count: int, version: int, key=None):
        """A DayRoot over (meter, period, root, count, version), signed by the meter (or by `key`, to forge)."""
        day_root = m.DayRoot(self.meters[meter_index].address, period, root, count, version)
        digest = eip712.digest(self.domain, day_root)
        return day_root, sign_digest((key or self.meters[meter_index]).key, digest)

    def anchor_signed(self, day_root: m.DayRoot, signature: bytes, sender: str | None = None):
        sender = sender or self.owner
        d = day_root
        self.days.add((d.meter, d.period))
        signer = signer_of(eip712.digest(self.domain, d), signature)
        self.apply(
            sender,
            lambda: self.model.anchor_signed_root(self.now, d, signer),
            lambda: self.c.anchor_signed_root(d.meter, d.period, d.root, d.count, d.version, *compact(signature)),
        )
        assert self.events["RootAnchored"] == [
            {"meter": d.meter.lower(), "period": d.period, "root": d.root, "count": d.count, "version": d.version}
        ]

    def verify(self, reading: m.Reading, signature: bytes, proof: list[bytes]) -> bool:
        digest = eip712.digest(self.domain, reading)
        expected = self.model.verify_reading(reading, signer_of(digest, signature), proof, digest)
        got = self.c.verify_reading(
            reading.meter, reading.interval_start, reading.active_wh, reading.reactive_varh, *compact(signature), proof
        )
        assert got == expected
        return got

    # -- the escrow ----------------------------------------------------------------------------------------
    def deposit(self, sender: str, value: int):
        self.apply(sender, lambda: self.model.deposit(sender, value), lambda: self.c.deposit(value=value), value)

    def request_withdrawal(self, sender: str, amount: int):
        self.apply(
            sender,
            lambda: self.model.request_withdrawal(sender, self.now, amount),
            lambda: self.c.request_withdrawal(amount),
        )

    def withdraw_escrow(self, sender: str) -> int:
        amount = self.apply(
            sender,
            lambda: self._payout(sender, self.model.withdraw_escrow(sender, self.now)),
            lambda: self.c.withdraw_escrow(),
        )
        return amount

    def withdraw_credit(self, sender: str) -> int:
        return self.apply(
            sender,
            lambda: self._payout(sender, self.model.withdraw_credit(sender)),
            lambda: self.c.withdraw_credit(),
        )

    def _payout(self, sender: str, amount: int) -> int:
        self.paid[self.track(sender)] += amount
        return amount

    # -- roaming -------------------------------------------------------------------------------------------
    def session(
        self,
        ev: int,
        meter: int,
        start: int,
        first_interval: int,
        energy_wh,
        ev_key=None,
        meter_key=None,
        session_id: bytes | None = None,
        max_cost: int = MAX_COST,
    ):
        """The EV's signed start and the meter's signed reading (keys and session id may be swapped, to forge)."""
        s = m.SessionStart(self.evs[ev].address, self.meters[meter].address, start, max_cost)
        sid = eip712.digest(self.domain, s)
        self.sessions[sid] = s
        reading = m.SessionReading(session_id or sid, first_interval, tuple(energy_wh))
        ev_sig = sign_digest((ev_key or self.evs[ev]).key, sid)
        reading_digest = eip712.digest(self.domain, reading)
        meter_sig = sign_digest((meter_key or self.meters[meter]).key, reading_digest)
        return s, ev_sig, reading, meter_sig

    def settle(
        self, sender: str, start: m.SessionStart, ev_sig: bytes, reading: m.SessionReading, meter_sig: bytes
    ) -> m.Settled:
        sid = eip712.digest(self.domain, start)
        ev_signer = signer_of(sid, ev_sig)
        # the contract rebuilds the reading under the session id it derives from the start
        derived = m.SessionReading(sid, reading.first_interval, reading.energy_wh)
        meter_signer = signer_of(eip712.digest(self.domain, derived), meter_sig)
        self.sessions[sid] = start
        first, n = reading.first_interval, max(len(reading.energy_wh), 1)
        for w in {first // m.BITMAP_BITS, (first + n - 1) // m.BITMAP_BITS}:
            self.words.add((start.meter, w))
        settled = self.apply(
            sender,
            lambda: self.model.settle_session(self.now, start, ev_signer, derived, meter_signer),
            lambda: self.c.settle_session(
                start.ev,
                start.meter,
                start.start,
                start.max_cost_wei,
                *compact(ev_sig),
                reading.first_interval,
                list(reading.energy_wh),
                *compact(meter_sig),
            ),
        )
        s = settled
        assert self.events["SessionSettled"] == [
            {
                "session": s.session,
                "payer": s.payer,
                "host": s.host,
                "ev": s.ev,
                "meter": s.meter,
                "first_interval": s.first_interval,
                "intervals": s.intervals,
                "energy_wh": s.energy_wh,
                "cost_wei": s.cost_wei,
                "paid_wei": s.paid_wei,
            }
        ]
        return settled

    def reserve(self, sender: str, start: m.SessionStart, ev_sig: bytes) -> bytes:
        """The host (or whoever `sender` is) reserves the start's max cost of the EV owner's escrow."""
        sid = eip712.digest(self.domain, start)
        self.sessions[sid] = start
        self.words.add((start.meter, start.start // m.INTERVAL_S // m.BITMAP_BITS))
        ev_signer = signer_of(sid, ev_sig)
        got, out = self.mirror(
            sender,
            lambda: self.model.reserve(sender, self.now, start, sid, ev_signer),
            lambda: self.c.reserve(start.ev, start.meter, start.start, start.max_cost_wei, *compact(ev_sig)),
        )
        assert bytes(out) == got == sid
        assert self.events["Reserved"] == [
            {
                "session": sid,
                "payer": self.model.evs[start.ev.lower()],
                "meter": start.meter.lower(),
                "ev": start.ev.lower(),
                "start": start.start,
                "amount_wei": start.max_cost_wei,
                "expires_at": start.start + m.RESERVATION_S,
            }
        ]
        self.check()
        return sid

    def release(self, sender: str, start: m.SessionStart) -> int:
        sid = eip712.digest(self.domain, start)
        self.sessions[sid] = start
        amount = self.apply(
            sender,
            lambda: self.model.release(sender, self.now, start, sid),
            lambda: self.c.release(start.ev, start.meter, start.start, start.max_cost_wei),
        )
        assert self.events["Released"] == [
            {"session": sid, "payer": self.model.evs[start.ev.lower()], "amount_wei": amount}
        ]
        return amount
