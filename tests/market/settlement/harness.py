"""contracts/market_settlement.vy deployed with its twin on a real coin, metering contract and call market: every
settlement call goes to the twin first and then to the contract (`Mirrored.mirror`), and they must agree. Traders
have a consumption and a feed-in meter each; a test trades an interval on the market, clears it, has the meters
sign readings and the gateway anchor their day, and settles units built from them."""

from __future__ import annotations

import boa
from eth_account import Account
from eth_utils import keccak

from gridchain.crypto import eip712
from gridchain.crypto.keys import compact, ecrecover, sign_digest
from gridchain.market.clearing import ClearArgs, prepare_clear
from gridchain.market.model import Committed, Revealed
from gridchain.market.settlement import model as s
from gridchain.metering import model as mm
from tests.coin.harness import deploy as deploy_coin
from tests.market.harness_contract import HORIZON, Market
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import Mirrored
from tests.support.mirrored import refused as _refused

CONTRACT = CONTRACTS / "market_settlement.vy"
COMMUNITY = 7
UTILITY_PRICE = 300_000  # [micro-coins per kWh]
NOTICE_S = HORIZON * 900 + 2 * 86400
FUNDS = 10**12  # [micro-coins] minted to each trader and to the house
HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
EVENTS = ("Deposited", "WithdrawalRequested", "Withdrawn", "MeterSet", "UnitSettled")


def deployer():
    return load(CONTRACT)


def refused(reason: str):
    return _refused(reason if reason.startswith("ownable") else f"market_settlement: {reason}", s.SettlementError)


class House(Mirrored):
    """The settlement contract and its twin, the market, coin and metering it reads, `traders` accounts with two
    registered meters each (bound unless `bind=False`), every trader and the house funded and approved."""

    ERROR = s.SettlementError
    EVENTS = EVENTS

    def __init__(self, rule: int = 0, traders: int = 4, bind: bool = True, deposit: int = 10**9) -> None:
        start = (boa.env.evm.patch.timestamp // 86400 + 1) * 86400
        boa.env.time_travel(seconds=start - boa.env.evm.patch.timestamp)
        self.init_accounts()
        self.events = {}
        self.owner = str(boa.env.eoa)
        self.track(self.owner)
        self.coin = deploy_coin()
        self.market = Market(rule=rule)
        self.metering = load(CONTRACTS / "metering.vy").deploy(2 * 86400)
        self.domain = mm.domain(self.metering.eip712Domain()[3], str(self.metering.address))
        self.gateway = self.new_account().address
        self.metering.set_gateway(self.gateway, True)
        self.house = self.new_account().address
        self.c = deployer().deploy(
            self.coin.address,
            self.metering.address,
            self.market.c.address,
            COMMUNITY,
            self.house,
            UTILITY_PRICE,
            NOTICE_S,
        )
        self.address = str(self.c.address)
        self.model = s.SettlementModel.create(
            self.owner, 900, HORIZON, self.market.zone_fees, COMMUNITY, self.house, UTILITY_PRICE, NOTICE_S
        )
        self.traders = [self.new_account().address for _ in range(traders)]
        self.meters: dict[tuple[str, int], object] = {}
        self.roots: dict[tuple[str, int], bytes] = {}
        self.proofs: dict[tuple[str, int], tuple] = {}  # (meter, k) -> (signature, proof) of its reading
        self.deposits = self.withdrawals = 0
        for t in self.traders:
            for side in (s.BID, s.ASK):
                key = Account.create()
                self.meters[(t, side)] = key
                self.metering.register_meter(key.address, t, COMMUNITY, len(self.meters))
                self.metering.assign_gateway(key.address, self.gateway)
                if bind:
                    self.set_meter(t, side, key.address)
        for a in (*self.traders, self.house):
            self.fund(a)
            if deposit:
                self.deposit(a, deposit)

    def fund(self, account: str, amount: int = FUNDS) -> None:
        self.coin.mint_with_reference(account, amount, keccak(text=f"{account}{len(self.accounts)}{amount}"))
        self.coin.approve(self.address, 2**256 - 1, sender=account)

    # -- comparing both sides ------------------------------------------------------------------------------
    def check(self) -> None:
        """The invariant (coins held == total_held == the sum of balances; deposits - withdrawals == held) and
        every account's balance, debt and notice agree with the twin."""
        md = self.model
        held = self.coin.balanceOf(self.address)
        assert held == self.c.total_held() == md.total_held == md.held() == self.deposits - self.withdrawals
        for a in self.accounts:
            assert self.c.balance_of(a) == md.balance_of(a), a
            assert self.c.debt(a) == md.debt.get(a.lower(), 0), a
            assert self.c.withdrawal_notice(a) == md.notice.get(a.lower(), (0, 0)), a
        for t, side in self.meters:
            assert str(self.c.meter_of(t, side)).lower() == md.meter_of.get((t.lower(), side), s.ZERO)

    def apply(self, sender: str, model_call, chain_call):
        result, out = self.mirror(sender, model_call, chain_call)
        self.check()
        return result, out

    # -- the calls -----------------------------------------------------------------------------------------
    def deposit(self, sender: str, amount: int) -> int:
        repaid, _ = self.mirror(sender, lambda: self.model.deposit(sender, amount), lambda: self.c.deposit(amount))
        self.deposits += amount
        self.check()
        assert self.events["Deposited"] == [{"account": sender.lower(), "amount": amount, "repaid": repaid}]
        return repaid

    def request_withdrawal(self, sender: str, amount: int) -> None:
        at, _ = self.apply(
            sender,
            lambda: self.model.request_withdrawal(sender, self.now, amount),
            lambda: self.c.request_withdrawal(amount),
        )
        assert self.events["WithdrawalRequested"] == [{"account": sender.lower(), "amount": amount, "available_at": at}]

    def withdraw(self, sender: str) -> int:
        before = self.coin.balanceOf(sender)
        paid, out = self.mirror(sender, lambda: self.model.withdraw(sender, self.now), lambda: self.c.withdraw())
        self.withdrawals += paid
        assert out == paid and self.coin.balanceOf(sender) == before + paid
        assert self.events["Withdrawn"] == [{"account": sender.lower(), "amount": paid}]
        self.check()
        return paid

    def set_meter(self, trader: str, side: int, meter: str, sender: str | None = None) -> None:
        sender = sender or self.owner
        owner, community, _ = self.metering.meter(meter)
        self.apply(
            sender,
            lambda: self.model.set_meter(sender, trader, side, meter, (str(owner), community)),
            lambda: self.c.set_meter(trader, side, meter),
        )

    def settle(self, k: int, book: tuple, units: list[s.Unit], sender: str | None = None) -> list[s.UnitSettled]:
        sender = sender or self.owner
        clearing = s.Clearing(*self.market.c.clearings(k)) if self.market.c.cleared(k) else None
        logs, _ = self.apply(
            sender,
            lambda: self.model.settle(k, clearing, book, units, self.verify),
            lambda: self.c.settle(k, *book, [u.as_args() for u in units]),
        )
        assert self.events["UnitSettled"] == [e.__dict__ for e in logs]
        return logs

    # -- the metering twin: what verify_reading answers ----------------------------------------------------
    def verify(self, meter: str, start: int, u: s.Unit) -> bool:
        root = self.roots.get((meter.lower(), start // 86400))
        if root is None:
            return False
        reading = mm.Reading(meter, start, u.active_wh, u.reactive_varh)
        digest = eip712.digest(self.domain, reading)
        sig_s, v = u.vs & (2**255 - 1), 27 + (u.vs >> 255)
        if sig_s > HALF_N or ecrecover(digest, v, u.r, sig_s) != meter.lower():
            return False
        return mm.verify_proof(u.proof, root, digest)

    # -- trading and reading -------------------------------------------------------------------------------
    def trade(
        self, orders: list[tuple[str, int]], clear: bool = True, void: frozenset[int] = frozenset()
    ) -> tuple[int, s.Book]:
        """Trade `orders` (trader, terms) in the next open interval, each revealed at its own commitment but those
        in `void` (revealed naming the next order's commitment: void at the clear), and clear it; returns k and
        the book (orders, valid bitmap, marks) the clear hashed."""
        m = self.market
        m.travel_to(self.now)
        k = m.next_interval()
        salts = [m.commit(trader, k, t)[1] for trader, t in orders]
        m.travel_to(m.reveal_open(k))
        for i, ((trader, t), salt) in enumerate(zip(orders, salts, strict=True)):
            m.reveal(trader, k, (i + 1) % len(orders) if i in void else i, t, salt)
        m.travel_to(m.reveal_close(k))
        args = self.clear_args(k)
        if clear:
            m.c.clear(k, *args.as_args())
        return k, args.book

    def clear_args(self, k: int) -> ClearArgs:
        """The keeper's clear of interval k from the market's events (`gridchain.market.clearing.prepare_clear`)."""
        m = self.market
        committed = [Committed(k, e["index"], bytes(e["commitment"])) for e in m.committed.get(k, [])]
        revealed = [
            Revealed(k, e["index"], e["commit_index"], e["order"], bytes(e["commitment"]))
            for e in m.revealed.get(k, [])
        ]
        return prepare_clear(str(m.c.address), k, committed, revealed, m.zone_fees, m.c.RULE())

    def read(self, k: int, metered: dict[tuple[str, int], int], fillers: int = 3) -> dict[tuple[str, int], s.Unit]:
        """Each (trader, side)'s meter signs `metered` Wh for interval k among `fillers` other readings of the day;
        then, after the day, the gateway anchors each meter's day. Returns the units ready to settle."""
        day = k * 900 // 86400
        signed = {}
        for (t, side), wh in metered.items():
            key = self.meters[(t, side)]
            others = [i for i in range(96) if day * 96 + i != k][:fillers]
            readings = [mm.Reading(key.address, k * 900, wh, 7)] + [
                mm.Reading(key.address, (day * 96 + i) * 900, 100 + i, 1) for i in others
            ]
            leaves = [eip712.digest(self.domain, r) for r in readings]
            signed[(t, side)] = (key, readings, leaves)
        self.travel_to(max(self.now, (day + 1) * 86400))
        units = {}
        for (t, side), (key, readings, leaves) in signed.items():
            root = mm.merkle_root(leaves)
            self.metering.anchor_root(key.address, day, root, len(leaves), sender=self.gateway)
            self.roots[(key.address.lower(), day)] = root
            r, vs = compact(sign_digest(key.key, leaves[0]))
            units[(t, side)] = s.Unit(t, side, readings[0].active_wh, 7, r, vs, tuple(mm.merkle_proof(leaves, 0)))
        return units
