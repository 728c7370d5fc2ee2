"""The V2V auction's harness: contracts/v2v_auction.vy deployed with its twin (gridchain.v2v.model), every call going to
both through `Mirrored.mirror` (tests/support/mirrored.py); after each success `check` compares everything
observable (the auction, pending returns, tokens, admissions and every account's balance)."""

from __future__ import annotations

import dataclasses

import boa

from gridchain.v2v.client import SignedReceipt, receipt_signer, sign_receipt
from gridchain.v2v.model import (
    ZERO,
    Auction,
    Closed,
    V2VError,
    V2VModel,
    access_token,
    cost,
    required_collateral,
)
from tests.support.deployers import CONTRACTS, load
from tests.support.mirrored import Mirrored
from tests.support.mirrored import refused as _refused

CONTRACT = CONTRACTS / "v2v_auction.vy"
VALIDITY = 3600
GRACE = 1800
ZERO32 = b"\x00" * 32

AMOUNT = 10_000  # [Wh]
START_RATE = 3 * 10**14  # [wei/kWh]: cost(START_RATE, AMOUNT) = 3e15 wei
RATE = 2 * 10**14
BIDDING = 600  # [s]


def deployer():
    return load(CONTRACT)


def refused(reason: str, call, *args, **kwargs) -> None:
    """`call` is refused by both sides with `v2v: reason` (`Market.apply` checked the contract's revert)."""
    with _refused(f"v2v: {reason}", V2VError):
        call(*args, **kwargs)


class Market(Mirrored):
    """A deployed v2v_auction with its V2VModel twin, funded EV accounts (with keys, to sign receipts) and a
    clock. Every call goes to both; `check` compares everything observable after each success."""

    ERROR = V2VError
    EVENTS = (
        "EVAdded",
        "EVRemoved",
        "StatusChanged",
        "AuctionStarted",
        "BidPlaced",
        "AuctionEnded",
        "ReceiptPosted",
        "TradeClosed",
        "Withdrawn",
    )

    def __init__(self, validity_s: int = VALIDITY, grace_s: int = GRACE, evs: int = 4):
        self.owner = str(boa.env.eoa)
        self.c = deployer().deploy(validity_s, grace_s)
        self.address = str(self.c.address)
        self.model = V2VModel(self.owner, validity_s, grace_s)
        self.chain_id = self.c.eip712Domain()[3]
        self.init_accounts()
        self.events: dict[str, list[dict]] = {}
        self.track(self.owner)
        self.evs = [self.new_account() for _ in range(evs)]
        for ev in self.evs:
            self.add_ev(ev.address)

    # -- accounts and time (track, new_account, now, travel_to: Accounts) ----------------------------------
    def refund(self, address: str, balance: int) -> None:
        """Set an account's balance afresh (its history of sends and payouts starts over)."""
        address = self.track(address)
        boa.env.set_balance(address, balance)
        self.initial[address] = balance + self.sent[address] - self.model.paid.get(address.lower(), 0)

    def ev(self, i: int) -> str:
        return self.evs[i].address

    # -- comparing both sides ------------------------------------------------------------------------------
    def chain_auction(self, consumer: str) -> tuple:
        fields = self.c.auction(consumer)
        return (str(fields[0]).lower(), *fields[1:])

    def model_auction(self, consumer: str) -> tuple:
        return self.model.auctions.get(consumer.lower(), Auction()).as_tuple()

    def check(self) -> None:
        m = self.model
        assert self.c.active() == m.active
        assert boa.env.get_balance(self.address) == m.balance == m.liabilities()
        for a in self.accounts:
            assert self.c.admitted_at(a) == m.admitted.get(a.lower(), 0), a
            assert self.chain_auction(a) == self.model_auction(a), a
            assert bytes(self.c.token(a)) == (m.token(a) or ZERO32), a
            assert self.c.pending_returns(a) == m.pending.get(a.lower(), 0), a
            # gas is free under boa: an account's balance moves only by what it sent and what it was paid
            assert boa.env.get_balance(a) == self.initial[a] - self.sent[a] + m.paid.get(a.lower(), 0), a

    def apply(self, sender: str, model_call, chain_call, value: int = 0):
        """`mirror` the call, then `check` everything; the model's result."""
        result, _ = self.mirror(sender, model_call, chain_call, value)
        self.check()
        return result

    # -- the organisation ----------------------------------------------------------------------------------
    def add_ev(self, ev: str, info: str = "EV", sender: str | None = None) -> None:
        sender = sender or self.owner
        if ev.lower() != ZERO:
            self.track(ev)
        self.apply(sender, lambda: self.model.add_ev(sender, self.now, ev), lambda: self.c.add_ev(ev, info))
        assert self.events["EVAdded"] == [{"ev": ev.lower(), "info": info}]

    def remove_ev(self, ev: str, sender: str | None = None) -> None:
        sender = sender or self.owner
        self.apply(sender, lambda: self.model.remove_ev(sender, ev), lambda: self.c.remove_ev(ev))
        assert self.events["EVRemoved"] == [{"ev": ev.lower()}]

    def change_status(self, active: bool, sender: str | None = None) -> None:
        sender = sender or self.owner
        self.apply(sender, lambda: self.model.change_status(sender, active), lambda: self.c.change_status(active))
        assert self.events["StatusChanged"] == [{"active": active}]

    # -- trading ---------------------------------------------------------------------------------------------
    def start(
        self,
        consumer: str,
        amount_wh: int = AMOUNT,
        bidding_time_s: int = BIDDING,
        start_rate: int = START_RATE,
        deposit: int | None = None,
        min_collateral: int | None = 0,
    ) -> Auction:
        """`min_collateral` 0 (these tests' default): the paper's collateral, rate x amount; None: the contract's
        default (the deposit), by the three-argument call."""
        deposit = cost(start_rate, amount_wh) if deposit is None else deposit
        extra = () if min_collateral is None else (min_collateral,)
        auction = self.apply(
            consumer,
            lambda: self.model.start_auction(
                consumer, self.now, deposit, amount_wh, bidding_time_s, start_rate, min_collateral
            ),
            lambda: self.c.start_auction(amount_wh, bidding_time_s, start_rate, *extra, value=deposit),
            deposit,
        )
        assert self.events["AuctionStarted"] == [
            {
                "consumer": consumer.lower(),
                "amount_wh": amount_wh,
                "start_rate_wei_per_kwh": start_rate,
                "closing_time": self.now + bidding_time_s,
                "deposit_wei": deposit,
                "min_collateral_wei": deposit if min_collateral is None else min_collateral,
            }
        ]
        return auction

    def bid(self, provider: str, consumer: str, rate: int = RATE, collateral: int | None = None) -> None:
        if collateral is None:
            a = self.model.auctions.get(consumer.lower())
            collateral = required_collateral(rate, a.amount_wh, a.min_collateral_wei) if a else 0
        self.apply(
            provider,
            lambda: self.model.place_bid(provider, self.now, collateral, consumer, rate),
            lambda: self.c.place_bid(consumer, rate, value=collateral),
            collateral,
        )
        assert self.events["BidPlaced"] == [
            {"consumer": consumer.lower(), "provider": provider.lower(), "rate_wei_per_kwh": rate}
        ]

    def end(self, consumer: str, sender: str | None = None) -> bytes | None:
        """`consumer` ends its auction (`sender` None, by the no-argument call), or `sender` ends it for it."""
        a = self.model.auctions.get(consumer.lower())
        provider = a.provider if a else ZERO
        sender = sender or consumer
        args = () if sender == consumer else (consumer,)
        token = self.apply(
            sender, lambda: self.model.end_auction(sender, self.now, consumer), lambda: self.c.end_auction(*args)
        )
        [event] = self.events["AuctionEnded"]
        assert event["consumer"] == consumer.lower() and event["provider"] == provider
        if token is None:
            assert event["token"] == ZERO32
        else:
            assert event["token"] == token == access_token(consumer, provider, self.now, self.model.validity_s)
            assert bytes(self.c.token(consumer)) == token
        return token

    def receipt(
        self, consumer, delivered_wh: int, key=None, token: bytes | None = None, contract: str | None = None
    ) -> SignedReceipt:
        """`consumer`'s receipt for its current trade (or `token`), signed with its key (or `key`)."""
        token = self.model.token(consumer.address) if token is None else token
        return sign_receipt(
            key if key is not None else consumer.key,
            self.chain_id,
            contract or self.address,
            token or ZERO32,
            delivered_wh,
        )

    def signer(self, consumer: str, receipt: SignedReceipt) -> str:
        """Whom the contract recovers: the signature over the trade's own token (not the receipt's)."""
        token = self.model.token(consumer) or ZERO32
        return receipt_signer(self.chain_id, self.address, dataclasses.replace(receipt, token=token))

    def post(self, sender: str, consumer: str, receipt: SignedReceipt) -> None:
        signer = self.signer(consumer, receipt)
        self.apply(
            sender,
            lambda: self.model.post_receipt(sender, consumer, receipt.delivered_wh, signer),
            lambda: self.c.post_receipt(consumer, *receipt.as_args()),
        )
        assert self.events["ReceiptPosted"] == [{"consumer": consumer.lower(), "delivered_wh": receipt.delivered_wh}]

    def _closed(self, closed: Closed) -> Closed:
        assert self.events["TradeClosed"] == [dataclasses.asdict(closed)]
        return closed

    def settle(self, sender: str, consumer: str, receipt: SignedReceipt) -> Closed:
        signer = self.signer(consumer, receipt)
        return self._closed(
            self.apply(
                sender,
                lambda: self.model.settle(sender, self.now, consumer, receipt.delivered_wh, signer),
                lambda: self.c.settle(consumer, *receipt.as_args()),
            )
        )

    def expire(self, sender: str, consumer: str) -> Closed:
        return self._closed(
            self.apply(sender, lambda: self.model.expire(sender, self.now, consumer), lambda: self.c.expire(consumer))
        )

    def withdraw(self, sender: str) -> int:
        amount = self.apply(sender, lambda: self.model.withdraw(sender), lambda: self.c.withdraw())
        assert self.events["Withdrawn"] == [{"account": sender.lower(), "amount_wei": amount}]
        return amount

    # -- a whole auction -------------------------------------------------------------------------------------
    def trade(self, consumer: int = 0, provider: int = 1, rate: int = RATE, **start) -> bytes:
        """Start, one bid, close, end: the access token."""
        a = self.start(self.ev(consumer), **start)
        self.bid(self.ev(provider), self.ev(consumer), rate)
        self.travel_to(a.closing_time)
        token = self.end(self.ev(consumer))
        assert token is not None
        return token
