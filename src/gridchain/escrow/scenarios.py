"""`gridchain escrow demo`: PriWatt's settlement stories on one metering contract, the energy coin and the escrow.

Every trade's terms are negotiated first (gridchain.escrow.negotiated): the meter's owner lists the energy on the
message board under a one-time key, a buyer bids from a one-time key of its own, they agree over sealed envelopes,
and the buyer opens the escrow on the agreed terms (the fresh addresses each side drew, the agreed price, the
deadline, the salt) with the meter owner's offer signature over them. The board is in-process (a temporary store)
unless a running one is given.

The utility deploys the metering contract with `meters` registered meters (the sellers' PV, each owned by its
household's long-term key, which signs the offers), the coin and the escrow; the arbiter is the distribution
operator's key, the relayer (the gateway's first account) submits what anyone may submit. Every trade has a fresh
buyer and a fresh seller address from the negotiation (given gas money by the relayer, and an ETH buyer its
deposit), and its own intervals of a meter's export, sized by the seeded PV draw (quantised to the listings' step)
and priced by the negotiation around the posted price:

a ETH, released by buyer and seller; b coin, released by seller and arbiter after the buyer vanished; c ETH,
revoked by buyer and seller (nothing paid, the energy freed) and c2 the same intervals sold to another buyer; d
coin, a dispute split by arbiter and buyer on the metered share; e coin, a long delivery paid by the buyer's
cumulative vouchers per metered interval, the seller claiming the last once; f ETH, refunded after its deadline;
g coin, a buyer funded without a link to whoever paid: on the first day a household (a long-term account) buys
two trade notes for g's fresh address, blind-signed by the issuer (gridchain.escrow.notes), an ETH note for gas
and a coin note of an escrow pool; days later the relayer redeems them (for a fee the fresh address signed), the
coins straight into the address's escrow balance, and the fresh buyer opens g from that balance and takes the
change out after the release: it never holds a coin before, nor gets anything from the relayer or the household.
Between them the double spending that the contract refuses, each with its reason: the same intervals offered again
(while a trade holds them; after they were sold), an opened offer opened again, a resolution and a voucher replayed.

Paid to the seller and refunded to the buyer are measured, not taken from the escrow's word: ETH as the fresh
parties' balance changes (the relayer sends every ETH settlement), coins from the coin's Transfer events; the
conservation check holds when each trade's escrowed amount (its Opened event) equals paid + refunded, the
escrow's events (Resolved, Claimed, Refunded) say the same, and the escrow holds nothing at the end.

The embedded chain's clock is moved to START first (a node's too, if behind it), so that the same seed gives the
same bytes, signatures and gas (with the in-process board: a shared board gets keys from the OS, since it has seen
the seeded ones before, so only the prices, amounts and stories repeat there).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import ChainRevert, Gateway, Receipt
from gridchain.checks import check_int
from gridchain.crypto import blind
from gridchain.crypto.keys import Key, address_of
from gridchain.escrow.client import EscrowClient
from gridchain.escrow.model import ARBITER, BUYER, ETH, INTERVAL_S, SELLER, Terms
from gridchain.escrow.negotiated import Deal, Negotiation, local_board, quantised
from gridchain.escrow.negotiation.parties import BoardPort
from gridchain.escrow.notes.client import NotesClient
from gridchain.escrow.notes.parties import Depositor, Issuer, Note, Relayer

START = 1_893_456_000  # [s] 2030-01-01 00:00 UTC: the embedded chain's clock for the demo (reproducible bytes)
WEI_PER_WH = 10**12  # [wei/Wh] the posted ETH price (1 ETH per MWh), what the negotiation starts from
MICRO_PER_WH = 300  # [micro-coin/Wh] the posted coin price (0.30 coin per kWh)
GAS_WEI = 10**16  # [wei] a fresh address's gas money (the relayer pattern's stand-in; g: an ETH note's worth)
NOTE_COIN = 3 * 10**6  # [micro-coin] a coin note of g's escrow pool: more than a 4-interval trade costs
NOTE_FEE = 100  # [1/10,000] of a note, the relayer's fee for redeeming it
WINDOW = 12  # intervals between two trades' first intervals
ROLE_NAMES = {BUYER: "buyer", SELLER: "seller", ARBITER: "arbiter"}
STORIES = {
    "a": ("ETH", 4, "release"),
    "b": ("coin", 4, "release, buyer gone"),
    "c": ("ETH", 4, "revocation"),
    "c2": ("ETH", 4, "resold after c"),
    "d": ("coin", 4, "dispute split"),
    "e": ("coin", 8, "vouchers"),
    "f": ("ETH", 4, "refund, deadline"),
    "g": ("coin", 4, "buyer paid by notes"),
}


@dataclass(frozen=True)
class DemoConfig:
    """meters: registered PV meters (trades take them in turn); seed: the PV draw, the shortfalls and the keys."""

    meters: int = 3
    seed: int = 0

    def __post_init__(self) -> None:
        check_int("meters", self.meters, 1, 6)
        check_int("seed", self.seed, 0, 2**32 - 1)

    @property
    def name(self) -> str:
        return f"escrow_demo_m{self.meters}_s{self.seed}"


@dataclass(frozen=True)
class Ask:
    """What a seller lists: its meter's intervals and their energy [Wh], the token and its posted price per Wh."""

    meter: str
    first_interval: int
    intervals: int
    energy_wh: int
    token: str
    price_per_wh: int


def key(seed: int, *names: object) -> Key:
    return keccak(text="gridchain escrow demo " + " ".join(map(str, (seed, *names))))


class Demo:
    """The deployed contracts, the keys, and the record of each trade and refusal."""

    def __init__(self, gateway: Gateway, config: DemoConfig, board: BoardPort, seeded: bool = True) -> None:
        self.gateway, self.config, self.seeded = gateway, config, seeded
        self.relayer = gateway.accounts[0]
        self.rng = np.random.default_rng([config.seed, 20])
        self.arbiter_key = key(config.seed, "arbiter")
        self.owner_keys = [key(config.seed, "meter owner", j) for j in range(config.meters)]
        self.meters = [address_of(key(config.seed, "meter", j)) for j in range(config.meters)]
        self.metering, self.coin = compile_contract("metering"), compile_contract("energy_coin")
        self.gas: dict[str, int] = {}
        self.trades: list[dict[str, Any]] = []
        self.refusals: list[dict[str, str]] = []
        self.terms: dict[str, Terms] = {}
        self.keys: dict[str, tuple[Key, Key]] = {}
        self.deals: dict[str, Deal] = {}
        self.now = float(gateway.now())  # the negotiation's clock: the chain's, read before each trade
        prices = np.random.default_rng([config.seed, 21])
        self.negotiate = Negotiation(
            board, address_of(self.arbiter_key), self.meters, lambda: self.now, config.seed if seeded else None, prices
        )

    # -- setting up ------------------------------------------------------------------------------------------
    def deploy(self) -> None:
        g, r = self.gateway, self.relayer
        owners = [address_of(k) for k in self.owner_keys]
        self.escrow, self.metering_at, self.coin_at, gas = EscrowClient.deploy_with_meters(g, r, self.meters, owners)
        # g's notes: an ETH pool of gas money, and an escrow pool of coins (its notes pay into escrow balances);
        # the relayer's account is their issuer here (the operator's signing service)
        self.gas_pool, gas_pool = NotesClient.deploy(g, r, ETH, GAS_WEI, r)
        self.coin_pool, coin_pool = NotesClient.deploy(g, r, self.coin_at, NOTE_COIN, r, self.escrow.address)
        self.gas = gas | {"gas_notes": gas_pool.gas_used, "coin_notes": coin_pool.gas_used}
        self.base = (g.now() // INTERVAL_S // 256 + 1) * 256  # the next lock word's first interval

    def parties(self) -> None:
        """The second buyer of the refused resales and g's household (a long-term account), given GAS_WEI by the
        relayer, and g's fresh buyer address (funded only by notes); the other trades' fresh keys come with their
        negotiation (`fund`)."""
        self.rogue = key(self.config.seed, "second buyer")
        self.household = key(self.config.seed, "household")
        # a fresh address like the negotiation's: from the seed on the in-process board, else from the OS
        g_key = key(self.config.seed, "g buyer") if self.seeded else Account.create().key
        self.g_buyer: LocalAccount = Account.from_key(g_key)
        self.fund(self.rogue, self.household)

    def buy_notes(self) -> list[Note]:
        """Day one: the household buys an ETH note (gas money) and a coin note (the deposit, into the escrow) for
        g's fresh address; the issuer blind-signs each without seeing that address (one RSA key for both pools
        today: a token names its pool)."""
        g, r = self.gateway, self.relayer
        household = address_of(self.household)
        g.transfer(r, household, GAS_WEI)  # type: ignore[attr-defined]
        g.transact(self.coin, self.coin_at, "mint", [household, NOTE_COIN], r)
        self.party_gateway.transact(self.coin, self.coin_at, "approve", [self.coin_pool.address, NOTE_COIN], household)
        rsa = blind.PrivateKey.generate()
        notes = []
        for pool in (self.gas_pool, self.coin_pool):
            issuer = Issuer(pool, r)
            issuer.register(pool.epoch(), rsa)
            own = Depositor(NotesClient(self.party_gateway, pool.address, pool.artifact), household, self.household)
            pending = own.deposit(self.g_buyer.key)
            notes.append(own.finish(pending, issuer.sign(own.request(pending))))
        return notes

    def redeem_notes(self, notes: list[Note]) -> dict[str, int]:
        """A later day: the fresh address signs each note's redemption for the relayer's fee (NOTE_FEE), the relayer
        submits it: gas money to the address, coins into its escrow balance. What arrived, and the gas."""
        out: dict[str, int] = {}
        for name, pool, note in (("gas", self.gas_pool, notes[0]), ("coin", self.coin_pool, notes[1])):
            fee = pool.denomination() * NOTE_FEE // 10_000
            receipt = Relayer(pool, self.relayer).submit(Depositor.order(pool, note, fee))
            out[f"{name}_note"], out[f"{name}_fee"] = pool.denomination() - fee, fee
            out[f"{name}_redeem_gas"] = receipt.gas_used
        return out

    def fund(self, *fresh: Key) -> None:
        """Give fresh keys GAS_WEI each (an ETH buyer gets its deposit when it opens); on a node, a gateway signing
        with every fresh key so far. Funded, a payout's recipient is no new account (EIP-161: no 25,000 charge), as
        a real party that has sent a transaction is not."""
        for k in fresh:  # on the embedded chain too (gas is free there): the same accounts, the same gas as a node's
            self.gateway.transfer(self.relayer, address_of(k), GAS_WEI)  # type: ignore[attr-defined]
        self.party_gateway = self.gateway
        if self.gateway.kind == "rpc":
            from gridchain.chain.rpc_gateway import RpcGateway

            known = [k for pair in self.keys.values() for k in pair] + [self.rogue, self.household, self.g_buyer.key]
            self.party_gateway = RpcGateway(self.gateway.url, ["0x" + bytes(k).hex() for k in known])  # type: ignore[attr-defined]
        self.party = EscrowClient(self.party_gateway, self.escrow.address, self.escrow.artifact)

    # -- one trade -------------------------------------------------------------------------------------------
    def offer_terms(self, label: str, k: int, meter_j: int, again: Ask | None = None,
                    buyer: LocalAccount | None = None) -> tuple[Terms, Ask]:  # fmt: skip
        """The seller's ask for trade `label` (window k of meter j; `again`: an earlier ask listed again) and the
        terms negotiated on the board between the trade's fresh addresses (funded here, but a `buyer` given: one
        funded before)."""
        token_name, intervals, _ = STORIES[label]
        token = ETH if token_name == "ETH" else self.coin_at.lower()
        if again is None:
            forecast = [int(wh) for wh in self.rng.integers(400, 1_200, intervals)]  # [Wh] per 15 min, a ~5 kW PV
            price = WEI_PER_WH if token == ETH else MICRO_PER_WH
            ask = Ask(self.meters[meter_j], self.base + WINDOW * k, intervals, quantised(sum(forecast)), token, price)
        else:
            ask = again
        self.now = float(self.gateway.now())
        posted = ask.price_per_wh * 1000
        deal = self.negotiate(ask.meter, ask.first_interval, intervals, ask.energy_wh, token, posted, buyer)
        self.deals[label], self.terms[label] = deal, deal.terms
        self.keys[label] = (deal.buyer_key, deal.seller_key)
        self.fund(*([deal.buyer_key] if buyer is None else []), deal.seller_key)
        return deal.terms, ask

    def open(self, label: str, terms: Terms, meter_j: int, funded: bool = False) -> tuple[Receipt, bytes]:
        """The buyer opens the trade, given its deposit by the relayer (`funded`: its escrow balance pays)."""
        buyer = terms.buyer
        if funded:
            pass
        elif terms.token == ETH:
            self.gateway.transfer(self.relayer, buyer, terms.amount)  # type: ignore[attr-defined]
        else:
            self.gateway.transact(self.coin, self.coin_at, "mint", [buyer, terms.amount], self.relayer)
            self.party_gateway.transact(self.coin, self.coin_at, "approve", [self.escrow.address, terms.amount], buyer)
        offer = self.escrow.sign_offer(self.owner_keys[meter_j], terms)
        return self.party.open(terms, offer), offer

    def measured(self, terms: Terms, settle: Callable[[], Receipt]) -> tuple[Receipt, int, int]:
        """Run `settle`; what the seller and the buyer received, measured (balances for ETH, Transfer logs for coin)."""
        if terms.token == ETH:
            before = self.gateway.balance(terms.seller), self.gateway.balance(terms.buyer)
            receipt = settle()
            return (
                receipt,
                self.gateway.balance(terms.seller) - before[0],
                self.gateway.balance(terms.buyer) - before[1],
            )
        receipt = settle()
        logs = self.gateway.logs(self.coin, self.coin_at, ["Transfer"], receipt.block, receipt.block)
        got = {to_checksum_address(a): 0 for a in (terms.seller, terms.buyer)}
        for e in logs:
            if to_checksum_address(e.args["sender"]) == to_checksum_address(self.escrow.address):
                got[to_checksum_address(e.args["receiver"])] += int(e.args["value"])
        return receipt, got[to_checksum_address(terms.seller)], got[to_checksum_address(terms.buyer)]

    def record(self, label: str, terms: Terms, opened: Receipt, settled: Receipt, paid: int, refunded: int,
               signed: str, **extra: Any) -> None:  # fmt: skip
        token_name, _, story = STORIES[label]
        deal = self.deals[label]
        negotiated = {
            "rounds": deal.rounds, "price_per_kwh": deal.price_wei_per_kwh, "posted_per_kwh": deal.posted_wei_per_kwh,
            "envelopes": deal.envelopes, "envelope_bytes": list(deal.envelope_bytes),
        }  # fmt: skip
        self.trades.append(
            {
                "trade": label, "story": story, "token": token_name, "amount": terms.amount,
                "trade_id": "0x" + self.escrow.trade_id(terms).hex(), "buyer": terms.buyer, "seller": terms.seller,
                "meter": terms.meter, "first_interval": terms.first_interval, "intervals": terms.intervals,
                "energy_wh": terms.energy_wh, "signed": signed, "paid": paid, "refunded": refunded,
                "gas": {"open": opened.gas_used, "settle": settled.gas_used}, "negotiation": negotiated, **extra,
            }
        )  # fmt: skip

    def sign(self, terms: Terms, seller_amount: int, *roles: int) -> list[bytes]:
        buyer_key, seller_key = self.keys[next(k for k, t in self.terms.items() if t == terms)]
        keys = {BUYER: buyer_key, SELLER: seller_key, ARBITER: self.arbiter_key}
        return [self.escrow.sign_resolution(keys[r], terms, seller_amount) for r in roles]

    def resolve(self, label: str, terms: Terms, opened: Receipt, seller_amount: int, roles: tuple[int, int],
                **extra: Any) -> list[bytes]:  # fmt: skip
        signatures = self.sign(terms, seller_amount, *roles)
        settled, paid, refunded = self.measured(
            terms, lambda: self.escrow.resolve(self.relayer, terms, seller_amount, signatures)
        )
        signers = settled.named("Resolved")[0].args["signers"]
        signed = "+".join(name for bit, name in ROLE_NAMES.items() if signers & bit)
        self.record(label, terms, opened, settled, paid, refunded, signed, **extra)
        return signatures

    def refused(self, attempt: str, by: str, call: Callable[[], object]) -> None:
        """A double spend tried: the contract must refuse it; its reason is recorded."""
        try:
            call()
        except ChainRevert as e:
            self.refusals.append({"attempt": attempt, "by": by, "reason": str(e.reason)})
            return
        raise AssertionError(f"the escrow accepted a double spend: {attempt}")

    # -- the conservation check ------------------------------------------------------------------------------
    def conservation(self) -> dict[str, Any]:
        """Per token from the escrow's events: escrowed (Opened) = paid + refunded, as measured; held at the end."""
        events = {
            name: {"0x" + bytes(e.args["trade"]).hex(): e.args for e in self.escrow_events(name)}
            for name in ("Opened", "Resolved", "Claimed", "Refunded")
        }
        credited = self.escrow_events("Credited")
        out: dict[str, Any] = {}
        ok = not credited
        for token_name in ("ETH", "coin"):
            trades = [t for t in self.trades if t["token"] == token_name]
            escrowed = sum(int(events["Opened"][t["trade_id"]]["amount"]) for t in trades)
            paid, refunded = sum(t["paid"] for t in trades), sum(t["refunded"] for t in trades)
            for t in trades:
                tid, amount = t["trade_id"], int(events["Opened"][t["trade_id"]]["amount"])
                said = (
                    int(events["Resolved"][tid]["seller_amount"]) if tid in events["Resolved"]
                    else int(events["Claimed"][tid]["cumulative"]) if tid in events["Claimed"]
                    else 0
                )  # fmt: skip
                ok &= t["paid"] == said and t["paid"] + t["refunded"] == amount
                ok &= tid not in events["Refunded"] or int(events["Refunded"][tid]["amount"]) == t["refunded"]
            out[token_name] = {"escrowed": escrowed, "paid": paid, "refunded": refunded}
            ok &= escrowed == paid + refunded
        held = list(self.escrow.held())
        coin_left = int(self.gateway.call(self.coin, self.coin_at, "balanceOf", [self.escrow.address]))
        ok &= held == [0, 0] and self.escrow.balance() == 0 and coin_left == 0
        return out | {"opened": len(events["Opened"]), "credited": len(credited), "held_after": held, "ok": bool(ok)}

    def escrow_events(self, name: str) -> list:
        return self.gateway.events(self.escrow.artifact, self.escrow.address, name)


def run(
    gateway: Gateway,
    config: DemoConfig,
    board: BoardPort | None = None,
    progress: Callable[[str], None] = lambda _: None,
    board_url: str | None = None,
) -> dict[str, Any]:
    """The stories a .. g on `gateway` (the clock moved to START if behind it), negotiated on `board` (None: an
    in-process board on a temporary store; `board_url` names a given one in the summary); the summary."""
    if board is not None:
        return _run(gateway, config, board, progress, board_url or "given")
    with local_board(lambda: float(gateway.now())) as local:  # the chain's time, as the parties'
        summary = _run(gateway, config, local, progress, "in-process")
        summary["negotiation"]["board_held"] = local.counts()["envelopes"]  # type: ignore[attr-defined]
        return summary


def _run(
    gateway: Gateway, config: DemoConfig, board: BoardPort, progress: Callable[[str], None], where: str
) -> dict[str, Any]:
    started = time.perf_counter()
    if gateway.now() < START:
        gateway.advance_time(START - gateway.now())
    demo = Demo(gateway, config, board, seeded=where == "in-process")
    progress("deploying metering, coin and escrow")
    demo.deploy()
    demo.parties()
    progress("g's notes bought by a household, blind-signed by the issuer")
    notes = demo.buy_notes()
    meter = lambda k: k % config.meters  # noqa: E731  # the trades take the meters in turn

    progress("a: ETH, released by buyer and seller")
    a, _ = demo.offer_terms("a", 0, meter(0))
    opened, a_offer = demo.open("a", a, meter(0))
    a_signatures = demo.resolve("a", a, opened, a.amount, (BUYER, SELLER))

    progress("b: coin, released by seller and arbiter")
    b, _ = demo.offer_terms("b", 1, meter(1))
    opened, _ = demo.open("b", b, meter(1))
    demo.resolve("b", b, opened, b.amount, (SELLER, ARBITER))

    progress("c: ETH, revoked; c2: the same energy sold again")
    c, c_ask = demo.offer_terms("c", 2, meter(2))
    opened, _ = demo.open("c", c, meter(2))
    demo.resolve("c", c, opened, 0, (BUYER, SELLER))
    demo.trades[-1]["freed"] = not any(demo.escrow.is_locked(c.meter, c.first_interval + i) for i in range(c.intervals))
    c2, _ = demo.offer_terms("c2", 2, meter(2), again=c_ask)  # the freed energy posted again
    opened, _ = demo.open("c2", c2, meter(2))
    demo.resolve("c2", c2, opened, c2.amount, (BUYER, SELLER))

    progress("d: coin, a dispute split by arbiter and buyer")
    d, _ = demo.offer_terms("d", 3, meter(3))
    opened, _ = demo.open("d", d, meter(3))
    share = float(demo.rng.uniform(0.5, 0.9))  # the meter recorded this share of the agreed energy
    metered_wh = int(share * d.energy_wh)
    demo.resolve("d", d, opened, d.amount * metered_wh // d.energy_wh, (ARBITER, BUYER), metered_wh=metered_wh)

    progress("e: coin, a long delivery paid by vouchers")
    e, _ = demo.offer_terms("e", 4, meter(4))
    opened, _ = demo.open("e", e, meter(4))
    per_interval = [int(wh) for wh in demo.rng.integers(300, 1_300, e.intervals)]  # [Wh] metered
    vouchers, delivered = [], 0
    for wh in per_interval:  # the buyer signs what it owes in all after each metered interval
        delivered += wh
        cumulative = e.amount * min(delivered, e.energy_wh) // e.energy_wh
        vouchers.append((cumulative, demo.escrow.sign_voucher(demo.keys["e"][0], e, cumulative)))
    # the seller sells the same intervals to a second buyer while e holds them
    rogue = Terms(address_of(demo.rogue), *list(e.as_tuple())[1:10], keccak(text="second sale"))
    rogue_offer = demo.escrow.sign_offer(demo.owner_keys[meter(4)], rogue)
    demo.refused(
        "e's intervals offered to a second buyer while e holds them",
        "seller",
        lambda: demo.party.open(rogue, rogue_offer),
    )
    last, voucher = vouchers[-1]
    settled, paid, refunded = demo.measured(e, lambda: demo.party.claim(e, last, voucher))
    demo.record("e", e, opened, settled, paid, refunded, "buyer (voucher)", vouchers=[c for c, _ in vouchers],
                metered_wh=per_interval)  # fmt: skip
    demo.refused("e's last voucher claimed again", "seller", lambda: demo.party.claim(e, last, voucher))

    progress("the double spends refused")
    for who in (address_of(demo.rogue), a.buyer):  # a deposit in hand: the contract, not the wallet, refuses
        gateway.transfer(demo.relayer, who, a.amount)  # type: ignore[attr-defined]
    resold = Terms(address_of(demo.rogue), *list(a.as_tuple())[1:10], keccak(text="a sold again"))
    resold_offer = demo.escrow.sign_offer(demo.owner_keys[meter(0)], resold)
    demo.refused(
        "a's sold intervals offered to a second buyer", "seller", lambda: demo.party.open(resold, resold_offer)
    )
    demo.refused("a's offer opened again (a second deposit)", "buyer", lambda: demo.party.open(a, a_offer))
    demo.refused(
        "a's release submitted again", "anyone", lambda: demo.escrow.resolve(demo.relayer, a, a.amount, a_signatures)
    )

    progress("f: ETH, refunded after its deadline")
    f, _ = demo.offer_terms("f", 5, meter(5))
    opened, _ = demo.open("f", f, meter(5))
    demo.refused("f refunded before its deadline", "anyone", lambda: demo.escrow.refund(demo.relayer, f))
    gateway.advance_time(f.deadline - gateway.now())
    settled, paid, refunded = demo.measured(f, lambda: demo.escrow.refund(demo.relayer, f))
    demo.record("f", f, opened, settled, paid, refunded, "none (deadline)")
    demo.refused("f refunded again", "anyone", lambda: demo.escrow.refund(demo.relayer, f))

    progress("g: coin, the buyer's gas and deposit from notes bought days before")
    funded = demo.redeem_notes(notes)  # days after their deposit: the epoch is over
    funded["eth_after_notes"] = gateway.balance(demo.g_buyer.address)  # the gas note and nothing else
    g, _ = demo.offer_terms("g", 6, meter(6), buyer=demo.g_buyer)
    balance = demo.escrow.coin_balance(g.buyer)
    if balance < g.amount:
        raise RuntimeError(f"g's coin note ({balance} in the escrow) does not cover the trade's {g.amount}")
    coins_held = int(gateway.call(demo.coin, demo.coin_at, "balanceOf", [g.buyer]))
    opened, _ = demo.open("g", g, meter(6), funded=True)
    change = demo.escrow.coin_balance(g.buyer)
    demo.resolve(
        "g", g, opened, g.amount, (BUYER, SELLER), funded=funded | {"coins_held": coins_held, "change": change}
    )
    demo.party.withdraw_coin(g.buyer, g.buyer, change)  # the change, taken out by the fresh address

    return {
        "config": asdict(config),
        "name": config.name,
        "chain": gateway.kind,
        "start": START,
        "contracts": {"metering": demo.metering_at, "coin": demo.coin_at, "escrow": demo.escrow.address},
        "arbiter": address_of(demo.arbiter_key),
        "deploy_gas": demo.gas,
        "trades": demo.trades,
        "refusals": demo.refusals,
        "conservation": demo.conservation(),
        "negotiation": {
            "board": where,
            "listings": demo.negotiate.port.listings,
            "envelopes": len(demo.negotiate.port.sizes),
            "envelope_bytes": sorted(set(demo.negotiate.port.sizes)),
        },
        "seconds": round(time.perf_counter() - started, 2),
    }
