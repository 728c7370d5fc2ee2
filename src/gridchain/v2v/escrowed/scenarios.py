"""`gridchain v2v escrow-demo`: the V2V reverse auction whose bids are binding escrow offers, end to end.

The utility deploys the metering contract (every provider EV's discharge meter registered, owned by the
provider's long-term key), the energy coin and the trade escrow; the distribution operator is the arbiter; the
relayer (the gateway's first account) deploys, funds the fresh addresses' gas and submits what anyone may submit.
Two auctions run on an in-process message board, each with a fresh consumer key and address and fresh provider
keys and payout addresses:

A  the consumer asks for `energy_wh` over `intervals` 15-minute intervals at most `ceiling`; the providers join,
   are invited, bid sealed binding offers; after the bid deadline the consumer selects the lowest valid rate and
   opens the escrow with the winner's offer in one transaction. Energy flows: per interval the consumer signs a
   cumulative voucher for what the winner's meter recorded (Abou El Houda's receipts); the winner claims the last.
B  the same auction on later intervals, but the selected provider sells the same energy to another buyer before
   the consumer opens (that trade released at once): the escrow refuses the consumer's open ("energy already
   locked": the seller cannot sell twice) and the consumer opens the next lowest offer; that winner delivers
   short, and the arbiter and the consumer resolve a split on the metered share (a dispute settled by 2 of 3).

Honest providers bid their seeded rates (a rate above the ceiling does not bid; the two cheapest are held at the
ceiling at most, so that every auction has a winner and B a runner-up); the hostile ones are refused with the
consumer's reason: a forged offer (not the meter owner's signature), a bid above the ceiling, terms on other
intervals, a bid after the deadline. The losers' intervals are never locked, and a losing offer opened after its
deadline is refused by the escrow. Paid and refunded are measured (the coin's Transfer logs; ETH as balance
changes, plus the fee where the party sent the transaction on a node), conserved against the Opened events.
"""

from __future__ import annotations

import dataclasses
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from eth_utils import keccak, to_checksum_address

from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import ChainRevert, Gateway, Receipt
from gridchain.checks import check_int
from gridchain.crypto.keys import Key, address_of
from gridchain.errors import InputError
from gridchain.escrow import ETH, INTERVAL_S, EscrowClient, Terms, local_board
from gridchain.v2v.escrowed.model import Bid, Outcome, Request
from gridchain.v2v.escrowed.parties import Consumer, Provider
from gridchain.v2v.escrowed.parties import run as talk

START = 1_893_456_000  # [s] 2030-01-01 00:00 UTC: the embedded chain's clock (reproducible bytes)
TWEI = 10**12
CEILING = {"ETH": 300 * TWEI, "coin": 300_000}  # [wei/kWh] 0.0003 ETH; [micro-coin/kWh] 0.30 coin
GAS_WEI = 10**16  # [wei] a fresh address's gas money
BID_S = 600  # [s] the bidding window
LEAD = 8  # intervals between the bid deadline and the delivery's first interval (at least)
MARGIN_S = 3_600  # [s] the escrow's deadline: this long after the delivery's last interval
FLAWED = ("forged", "over", "skewed", "late")


@dataclass(frozen=True)
class DemoConfig:
    """providers: honest provider EVs (besides one of each flaw); energy over intervals; token ETH or coin."""

    seed: int = 0
    providers: int = 4
    energy_wh: int = 10_000
    intervals: int = 4
    token: str = "coin"

    def __post_init__(self) -> None:
        check_int("seed", self.seed, 0, 2**32 - 1)
        check_int("providers", self.providers, 3, 12)
        check_int("energy_wh", self.energy_wh, 500, 200_000)
        check_int("intervals", self.intervals, 1, 16)
        if self.energy_wh % 500:
            raise InputError("energy_wh", f"{self.energy_wh} is not a multiple of 500 Wh")
        if self.token not in CEILING:
            raise InputError("token", f"{self.token!r} is not ETH or coin")

    @property
    def name(self) -> str:
        return f"v2v_escrow_p{self.providers}_{self.token}_s{self.seed}"


def key(seed: int, *names: object) -> Key:
    return keccak(text="gridchain v2v escrow demo " + " ".join(map(str, (seed, *names))))


class Demo:
    """The deployed contracts, the provider EVs, and the record of each auction."""

    def __init__(self, gateway: Gateway, config: DemoConfig) -> None:
        self.gateway, self.config = gateway, config
        self.relayer = gateway.accounts[0]
        self.rng = np.random.default_rng([config.seed, 14])
        self.arbiter_key = key(config.seed, "arbiter")
        self.flaws: list[str | None] = [None] * config.providers + list(FLAWED)
        self.owner_keys = [key(config.seed, "provider", i) for i in range(len(self.flaws))]
        self.meters = [address_of(key(config.seed, "meter", i)) for i in range(len(self.flaws))]
        self.metering, self.coin = compile_contract("metering"), compile_contract("energy_coin")
        self.fresh: list[Key] = []
        self.auctions: list[dict[str, Any]] = []
        self.others: list[dict[str, Any]] = []  # trades outside the auctions (B's winner selling elsewhere)

    def deploy(self) -> dict[str, int]:
        owners = [address_of(k) for k in self.owner_keys]
        self.escrow, self.metering_at, self.coin_at, gas = EscrowClient.deploy_with_meters(
            self.gateway, self.relayer, self.meters, owners
        )
        self.token = ETH if self.config.token == "ETH" else self.coin_at.lower()
        self.party = self.escrow
        return gas

    def meter_owner(self, meter: str) -> str:
        """METERING.meter(meter)'s owner, read from the chain (the zero address: not registered)."""
        return str(self.gateway.call(self.metering, self.metering_at, "meter", [meter])[0])

    def fund(self, *fresh: Key) -> None:
        """GAS_WEI to each fresh key; on a node, a party gateway signing with every fresh key so far."""
        for k in fresh:
            self.gateway.transfer(self.relayer, address_of(k), GAS_WEI)  # type: ignore[attr-defined]
        self.fresh.extend(fresh)
        if self.gateway.kind == "rpc":
            from gridchain.chain.rpc_gateway import RpcGateway

            party = RpcGateway(self.gateway.url, ["0x" + bytes(k).hex() for k in self.fresh])  # type: ignore[attr-defined]
            self.party = EscrowClient(party, self.escrow.address, self.escrow.artifact)

    def measured(self, terms: Terms, settle: Callable[[], Receipt], sender: str = "") -> tuple[Receipt, int, int]:
        """Run `settle` (sent by `sender`: the seller or the buyer, else the relayer); what the seller and the buyer
        received (coin: Transfer logs; ETH: balance changes, plus the fee the sender paid on a node)."""
        if terms.token.lower() == ETH:
            before = self.gateway.balance(terms.seller), self.gateway.balance(terms.buyer)
            receipt = settle()
            fee = self.fee(receipt)
            return (
                receipt,
                self.gateway.balance(terms.seller) - before[0] + (fee if sender == terms.seller else 0),
                self.gateway.balance(terms.buyer) - before[1] + (fee if sender == terms.buyer else 0),
            )
        receipt = settle()
        got = {to_checksum_address(a): 0 for a in (terms.seller, terms.buyer)}
        for e in self.gateway.logs(self.coin, self.coin_at, ["Transfer"], receipt.block, receipt.block):
            if to_checksum_address(e.args["sender"]) == to_checksum_address(self.escrow.address):
                got[to_checksum_address(e.args["receiver"])] += int(e.args["value"])
        return receipt, got[to_checksum_address(terms.seller)], got[to_checksum_address(terms.buyer)]

    def fee(self, receipt: Receipt) -> int:
        """What a transaction cost its sender [wei]: nothing on the embedded chain, gas x price on a node."""
        if self.gateway.kind != "rpc":
            return 0
        mined = self.gateway.w3.eth.get_transaction_receipt(receipt.tx_hash)  # type: ignore[attr-defined]
        return receipt.gas_used * int(mined["effectiveGasPrice"])

    def open(self, terms: Terms, offer: bytes) -> Receipt:
        """The consumer deposits and opens the escrow with the winner's offer, as the winner signed it."""
        if terms.token.lower() == ETH:
            self.gateway.transfer(self.relayer, terms.buyer, terms.amount)  # type: ignore[attr-defined]
        else:
            self.gateway.transact(self.coin, self.coin_at, "mint", [terms.buyer, terms.amount], self.relayer)
            self.party.gateway.transact(
                self.coin, self.coin_at, "approve", [self.escrow.address, terms.amount], terms.buyer
            )
        return self.party.open(terms, offer)

    # -- one auction -------------------------------------------------------------------------------------------
    def auction(self, label: str, first_interval: int, board, story: str) -> dict[str, Any]:
        c, g, seed = self.config, self.gateway, self.config.seed
        clock = lambda: float(g.now())  # noqa: E731  # the parties' clock is the chain's
        ceiling = CEILING[c.token]
        domain = self.escrow.domain()
        consumer = Consumer(board, address_of(self.arbiter_key), clock, random.Random(f"consumer {seed} {label}"))
        rates = [int(ceiling * f) for f in self.rng.uniform(0.55, 1.1, len(self.flaws))]
        for i in sorted(range(c.providers), key=rates.__getitem__)[:2]:  # two honest providers can always serve
            rates[i] = min(rates[i], ceiling)
        low = min(rates[: c.providers])
        # the forger and the late bidder undercut every honest provider (only their flaw keeps them from winning),
        # the skewed one bids within the ceiling, the "over" one above it
        rates[-4:] = [low - 1, ceiling + ceiling // 10, min(rates[-2], ceiling), low - 2]
        providers = [
            Provider(board, self.meters[i], self.owner_keys[i], rates[i], domain, clock,
                     random.Random(f"provider {seed} {label} {i}"), flaw)
            for i, flaw in enumerate(self.flaws)
        ]  # fmt: skip
        now = g.now()
        deadline = (first_interval + c.intervals) * INTERVAL_S + MARGIN_S
        request = consumer.post(c.energy_wh, first_interval, c.intervals, ceiling, self.token, now + BID_S, deadline)
        rounds = talk(consumer, providers)
        g.advance_time(request.bid_deadline - g.now())
        for p in providers:
            if p.flaw == "late" and request.key in p.pending:
                p.late(request)
        outcome = consumer.close(domain, self.meter_owner)
        if outcome.winner is None:
            raise RuntimeError("no valid bid")
        ranked = [outcome.winner, *sorted(outcome.losers, key=lambda b: (b.price_wei_per_kwh, b.seq))]
        consumer_key = bytes(consumer.account.key)
        self.fund(consumer_key)
        resold = self.sell_elsewhere(label, ranked[0], providers[self.index(ranked[0])].payout_key(request)) if (
            story == "sold twice, split" and len(ranked) > 1
        ) else None  # fmt: skip
        skipped: dict[str, dict[str, Any]] = {}
        for win in ranked:  # the consumer opens the lowest offer the escrow still takes
            try:
                opened = self.open(win.terms, win.offer)
                break
            except ChainRevert as e:
                skipped[win.sender] = {"offer": self.provider_name(self.index(win)), "amount": win.terms.amount,
                                       "reason": str(e.reason)}  # fmt: skip
        else:
            raise RuntimeError("the escrow took none of the valid offers")
        winner_i = self.index(win)
        self.fund(providers[winner_i].payout_key(request))
        unopened = [b for b in ranked if b is not win and b.sender not in skipped]
        locked = [self.escrow.is_locked(win.terms.meter, first_interval + k) for k in range(c.intervals)]
        losers_locked = [
            self.escrow.is_locked(b.terms.meter, b.terms.first_interval + k) for b in unopened
            for k in range(b.terms.intervals)
        ]  # fmt: skip
        g.advance_time((first_interval + c.intervals) * INTERVAL_S - g.now())  # the delivery is over
        record = {
            "auction": label, "story": story, "request": _request(request), "rounds": rounds,
            "bids": self.bids(request, providers, outcome, win.sender, skipped), "winner": self.provider_name(winner_i),
            "rate_wei_per_kwh": win.price_wei_per_kwh, "amount": win.terms.amount,
            "trade_id": "0x" + self.escrow.trade_id(win.terms).hex(), "buyer": win.terms.buyer,
            "seller": win.terms.seller, "meter": win.terms.meter, "winner_locked": all(locked),
            "losers_locked": any(losers_locked), "losers": len(unopened), "gas": {"open": opened.gas_used},
            "resold": resold, "skipped": list(skipped.values()),
        }  # fmt: skip
        if story == "vouchers":
            per = c.energy_wh // c.intervals  # [Wh] the request's share of each interval; the meter records 0.9 .. 1.2
            metered = [int(wh) for wh in self.rng.integers(per * 9 // 10, per * 12 // 10, c.intervals)]
            vouchers, delivered = [], 0
            for wh in metered:  # the consumer owes, after each interval, the price of what the meter recorded
                delivered += wh
                cumulative = win.terms.amount * min(delivered, c.energy_wh) // c.energy_wh
                vouchers.append((cumulative, self.escrow.sign_voucher(consumer_key, win.terms, cumulative)))
            last, voucher = vouchers[-1]
            settled, paid, refunded = self.measured(
                win.terms, lambda: self.party.claim(win.terms, last, voucher), win.terms.seller
            )
            record |= {"metered_wh": metered, "vouchers": [v for v, _ in vouchers], "signed": "consumer (voucher)"}
            record["gas"]["claim"] = settled.gas_used
        else:
            share = float(self.rng.uniform(0.4, 0.8))  # the winner delivered this share, then its battery ran low
            metered_wh = int(share * c.energy_wh)
            seller_amount = win.terms.amount * metered_wh // c.energy_wh
            signatures = [
                self.escrow.sign_resolution(k, win.terms, seller_amount) for k in (self.arbiter_key, consumer_key)
            ]
            settled, paid, refunded = self.measured(
                win.terms, lambda: self.escrow.resolve(self.relayer, win.terms, seller_amount, signatures)
            )
            record |= {"metered_wh": [metered_wh], "signed": "arbiter+consumer"}
            record["gas"]["resolve"] = settled.gas_used
        record |= {"paid": paid, "refunded": refunded}
        record["lapsed"] = self.lapse(unopened)
        self.auctions.append(record)
        return record

    def sell_elsewhere(self, label: str, bid: Bid, seller_key: Key) -> dict[str, Any]:
        """Between the selection and the consumer's open, the selected provider sells the same intervals to another
        buyer: its meter's owner signs the same terms for that buyer (a fresh key, another salt), who opens them,
        and the two release the payment at once (buyer and seller). Its record, for the conservation check."""
        buyer_key = key(self.config.seed, "another buyer", label)
        terms = dataclasses.replace(bid.terms, buyer=address_of(buyer_key), salt=keccak(text=f"sold elsewhere {label}"))
        self.fund(buyer_key)
        opened = self.open(terms, self.escrow.sign_offer(self.owner_keys[self.index(bid)], terms))
        signatures = [self.escrow.sign_resolution(k, terms, terms.amount) for k in (buyer_key, seller_key)]
        _, paid, refunded = self.measured(
            terms, lambda: self.escrow.resolve(self.relayer, terms, terms.amount, signatures)
        )
        record = {
            "by": self.provider_name(self.index(bid)), "trade_id": "0x" + self.escrow.trade_id(terms).hex(),
            "amount": terms.amount, "paid": paid, "refunded": refunded, "gas": {"open": opened.gas_used},
        }  # fmt: skip
        self.others.append(record)
        return record

    def index(self, bid: Bid) -> int:
        """The provider whose meter a bid offers."""
        return self.meters.index(to_checksum_address(bid.terms.meter))

    def lapse(self, unopened: list[Bid]) -> dict[str, Any] | None:
        """The cheapest unopened losing offer, opened after its deadline by the consumer (its deposit in hand): the
        escrow's refusal."""
        if not unopened:
            return None
        loser = min(unopened, key=lambda b: (b.price_wei_per_kwh, b.seq))
        if self.gateway.now() < loser.terms.deadline:
            self.gateway.advance_time(loser.terms.deadline - self.gateway.now())
        try:
            self.open(loser.terms, loser.offer)
        except ChainRevert as e:
            name = self.provider_name(self.meters.index(to_checksum_address(loser.terms.meter)))
            return {"offer": name, "amount": loser.terms.amount, "reason": str(e.reason)}
        raise AssertionError("the escrow opened a lapsed offer")

    def provider_name(self, i: int) -> str:
        flaw = self.flaws[i]
        return f"EV{i + 1}" + (f" ({flaw})" if flaw else "")

    def bids(self, request: Request, providers: list[Provider], outcome: Outcome, won: str,
             skipped: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:  # fmt: skip
        """Each provider's part: its rate, and whether it won (`won`: the sender of the offer opened), lost, was
        selected but its offer no longer opened (`skipped`), was refused (why) or did not bid."""
        refused = {got.sender: why for got, why in outcome.refused}
        losers = {b.sender for b in outcome.losers}
        out = []
        for i, p in enumerate(providers):
            sender = p.keys[request.key][0].public if request.key in p.keys else None
            result = (
                "won" if sender == won else
                f"open refused: {skipped[sender]['reason'].removeprefix('trade_escrow: ')}" if sender in skipped
                else "lost" if sender in losers else f"refused: {refused[sender]}" if sender in refused
                else "no bid (rate above the ceiling)"
            )  # fmt: skip
            out.append({"provider": self.provider_name(i), "meter": p.meter, "rate_wei_per_kwh": p.rate_wei_per_kwh,
                        "result": result})  # fmt: skip
        return out

    def conservation(self) -> dict[str, Any]:
        """From the escrow's events: per trade (the auctions' and the one sold elsewhere) Opened = paid + refunded
        (measured) and the events' amounts agree; the escrow holds nothing at the end."""
        events = {
            name: {"0x" + bytes(e.args["trade"]).hex(): e.args for e in self.gateway.events(self.escrow.artifact,
                                                                                          self.escrow.address, name)}
            for name in ("Opened", "Resolved", "Claimed", "Refunded")
        }  # fmt: skip
        ok = len(events["Opened"]) == len(self.auctions) + len(self.others)
        escrowed = paid = refunded = 0
        for a in self.auctions + self.others:
            amount = int(events["Opened"][a["trade_id"]]["amount"])
            said = (
                int(events["Claimed"][a["trade_id"]]["cumulative"]) if a["trade_id"] in events["Claimed"]
                else int(events["Resolved"][a["trade_id"]]["seller_amount"])
            )  # fmt: skip
            ok &= a["paid"] == said and a["paid"] + a["refunded"] == amount
            escrowed, paid, refunded = escrowed + amount, paid + a["paid"], refunded + a["refunded"]
        held = list(self.escrow.held())
        coin_left = int(self.gateway.call(self.coin, self.coin_at, "balanceOf", [self.escrow.address]))
        ok &= escrowed == paid + refunded and held == [0, 0] and self.escrow.balance() == 0 and coin_left == 0
        return {"escrowed": escrowed, "paid": paid, "refunded": refunded, "held_after": held, "ok": bool(ok)}


def _request(r: Request) -> dict[str, Any]:
    return {k: v for k, v in asdict(r).items() if k != "key"}


def run(gateway: Gateway, config: DemoConfig, progress: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Auctions A (vouchers, claim) and B (the selected offer sold elsewhere first, the next opened; a short delivery
    split) on `gateway` (its clock moved to START if behind it); the summary."""
    started = time.perf_counter()
    if gateway.now() < START:
        gateway.advance_time(START - gateway.now())
    demo = Demo(gateway, config)
    progress("deploying metering, coin and escrow; registering the provider EVs' meters")
    deploy_gas = demo.deploy()
    with local_board(lambda: float(gateway.now())) as board:
        for label, story in (("A", "vouchers"), ("B", "sold twice, split")):
            progress(f"auction {label}: request, sealed bids, the lowest opens the escrow; {story}")
            word = (gateway.now() // INTERVAL_S + LEAD) // 256 + 1  # a fresh lock word: intervals never cross one
            demo.auction(label, word * 256, board, story)
    return {
        "config": asdict(config),
        "name": config.name,
        "chain": gateway.kind,
        "contracts": {"metering": demo.metering_at, "coin": demo.coin_at, "escrow": demo.escrow.address},
        "arbiter": address_of(demo.arbiter_key),
        "deploy_gas": deploy_gas,
        "auctions": demo.auctions,
        "conservation": demo.conservation(),
        "seconds": round(time.perf_counter() - started, 2),
    }
