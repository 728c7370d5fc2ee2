"""Twin of contracts/trade_escrow.vy: trades by the EIP-712 hash of their Terms, a status per trade, the meters'
lock bitmaps, ETH credit for refused pushes, the roles' on-chain approvals, the accounts' coin balances, and `open`,
`approve`, `resolve`, `claim`, `refund`, `withdraw`, `deposit`, `withdraw_coin` with the contract's checks in its
order and its exact revert reasons.

Every method takes the caller first (where the contract checks it) and the block's time where it reads it, and
raises `EscrowError` with the contract's reason where the contract reverts, changing nothing. What the contract
reads from other contracts is given: the meter's owner (`meter_owner`, METERING.meter), and whether an address
refuses ETH (`rejects`, the recipients whose pushes fail and are credited). The coin's own checks (allowance,
balance) are outside: the twin assumes a funded, approved buyer (or payer of a deposit). Signatures are normalised
as the contract does (`gridchain.committee.model.split`'s rules, with this contract's reasons). Addresses are kept
lower-case.

Invariant (`check_invariant`): held_eth = the open ETH trades' amounts + all credit, held_coin = the open coin
trades' amounts + all coin balances; escrowed = paid to sellers + refunded to buyers + credited (per token, counted
at each payout); deposited = withdrawn + spent on trades + the balances; no meter interval is ever paid to two
trades.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gridchain.crypto import eip712
from gridchain.crypto.keys import ecrecover, split_signature
from gridchain.errors import ContractRevert

NAME, VERSION = "gridchain trade escrow", "1"
MAX_INTERVALS = 96
MAX_SIGNATURES = 3
INTERVAL_S = 900
OPEN, CLOSED = 1, 2
BUYER, SELLER, ARBITER = 1, 2, 4
ZERO = "0x" + "00" * 20
ETH = ZERO
INVALID_SIGNATURE = "ecdsa: invalid signature"  # snekmate's, where ecrecover finds nobody


class EscrowError(ContractRevert):
    """A call the contract would revert, with the contract's reason."""


def _fail(ok: bool, reason: str) -> None:
    if not ok:
        raise EscrowError(f"trade_escrow: {reason}")


@dataclass(frozen=True)
class Terms(eip712.TypedStruct):
    """A trade's terms (the contract's struct, in its order); its EIP-712 digest is the trade id."""

    TYPE = (
        "Terms(address buyer,address seller,address arbiter,address token,uint256 amount,address meter,"
        "uint256 firstInterval,uint256 intervals,uint256 energyWh,uint256 deadline,bytes32 salt)"
    )

    buyer: str
    seller: str
    arbiter: str
    token: str  # ZERO: ETH
    amount: int
    meter: str
    first_interval: int  # unix s // 900
    intervals: int
    energy_wh: int
    deadline: int  # [s]
    salt: bytes

    def as_tuple(self) -> tuple:
        """The struct as the contract's ABI takes it."""
        return (
            self.buyer, self.seller, self.arbiter, self.token, self.amount, self.meter, self.first_interval,
            self.intervals, self.energy_wh, self.deadline, self.salt,
        )  # fmt: skip

    def mask(self) -> int:
        """The trade's bits in its lock word (bit i: interval word * 256 + i)."""
        return ((1 << self.intervals) - 1) << (self.first_interval % 256)


@dataclass(frozen=True)
class Resolution(eip712.TypedStruct):
    """What two of the three roles sign to settle a trade: the seller gets `seller_amount`, the buyer the rest."""

    TYPE = "Resolution(bytes32 trade,uint256 sellerAmount)"

    trade: bytes
    seller_amount: int


@dataclass(frozen=True)
class Voucher(eip712.TypedStruct):
    """An instalment: the buyer owes the seller `cumulative` in all for the trade."""

    TYPE = "Voucher(bytes32 trade,uint256 cumulative)"

    trade: bytes
    cumulative: int


def domain(chain_id: int, contract: str) -> eip712.Domain:
    return eip712.Domain(NAME, VERSION, chain_id, contract)


def split(signature: bytes) -> tuple[int, int, int]:
    """(v in {27, 28}, r, s) of a signature as the contract normalises it, or its revert."""
    try:
        return split_signature(signature)
    except ValueError as e:
        raise EscrowError(f"trade_escrow: {e}") from None


def recover(h: bytes, signature: bytes) -> str:
    """The contract's `_recover`: the signer of `h` (lower case), or its revert."""
    signer = ecrecover(h, *split(signature))
    if signer == ZERO:
        raise EscrowError(INVALID_SIGNATURE)
    return signer


@dataclass(frozen=True)
class Payout:
    """One transfer out: `to` gets `amount` of `token`, or is credited it (`credited`: an ETH push it refused)."""

    to: str
    token: str
    amount: int
    credited: bool = False


@dataclass
class EscrowModel:
    """The escrow's state: what its getters show, plus the books the invariant checks."""

    coin: str
    chain_id: int = 1
    address: str = ZERO
    status: dict[bytes, int] = field(default_factory=dict)
    locked: dict[tuple[str, int], int] = field(default_factory=dict)  # (meter, word) -> bits
    credit: dict[str, int] = field(default_factory=dict)
    approvals: dict[bytes, int] = field(default_factory=dict)  # resolution digest -> role bits approved on chain
    held_eth: int = 0
    held_coin: int = 0
    coin_balance: dict[str, int] = field(default_factory=dict)  # account -> [coin units], zero entries dropped
    meter_owner: dict[str, str] = field(default_factory=dict)  # METERING.meter(meter)[0]
    rejects: set[str] = field(default_factory=set)  # recipients whose ETH push fails
    open_terms: dict[bytes, Terms] = field(default_factory=dict)
    escrowed: dict[str, int] = field(default_factory=dict)  # token -> in
    paid: dict[str, int] = field(default_factory=dict)  # token -> out to sellers (pushed or credited)
    refunded: dict[str, int] = field(default_factory=dict)  # token -> out to buyers (pushed or credited)
    sold: dict[tuple[str, int], bytes] = field(default_factory=dict)  # (meter, interval) -> the trade that sold it
    deposited: int = 0  # [coin units] into balances
    withdrawn_coin: int = 0  # out of balances by withdraw_coin
    spent: int = 0  # out of balances into coin trades

    def __post_init__(self) -> None:
        self.coin = self.coin.lower()

    # -- views -------------------------------------------------------------------------------------------
    def domain(self) -> eip712.Domain:
        return domain(self.chain_id, self.address)

    def trade_id(self, terms: Terms) -> bytes:
        return eip712.digest(self.domain(), terms)

    def resolution_hash(self, trade: bytes, seller_amount: int) -> bytes:
        return eip712.digest(self.domain(), Resolution(trade, seller_amount))

    def voucher_hash(self, trade: bytes, cumulative: int) -> bytes:
        return eip712.digest(self.domain(), Voucher(trade, cumulative))

    def is_locked(self, meter: str, interval: int) -> bool:
        return (self.locked.get((meter.lower(), interval // 256), 0) >> (interval % 256)) & 1 == 1

    def check_invariant(self) -> None:
        open_eth = sum(t.amount for t in self.open_terms.values() if t.token.lower() == ETH)
        open_coin = sum(t.amount for t in self.open_terms.values() if t.token.lower() != ETH)
        assert self.held_eth == open_eth + sum(self.credit.values()), "held ETH is not open trades + credit"
        balances = sum(self.coin_balance.values())
        assert all(b > 0 for b in self.coin_balance.values()), "a zero balance kept"
        assert self.held_coin == open_coin + balances, "held coin is not the open trades + the balances"
        assert self.deposited == self.withdrawn_coin + self.spent + balances, (
            "deposited is not withdrawn + spent + held"
        )
        for token in self.escrowed:
            out = self.paid.get(token, 0) + self.refunded.get(token, 0)
            held = open_eth if token == ETH else open_coin
            assert self.escrowed[token] == out + held, "escrowed is not paid + refunded + held"

    # -- trades ------------------------------------------------------------------------------------------
    def open(self, sender: str, terms: Terms, offer: bytes, value: int, now: int) -> bytes:
        """The trade id, or the contract's revert."""
        token = terms.token.lower()
        _fail(sender.lower() == terms.buyer.lower(), "caller is not the buyer")
        eth = token == ETH
        _fail(eth or token == self.coin, "token is neither ETH nor the coin")
        _fail(terms.amount != 0, "amount is zero")
        if eth:
            _fail(value == terms.amount, "value is not the amount")
        else:
            _fail(value == 0, "value sent with a coin trade")
        _fail(terms.deadline > now, "deadline passed")
        _fail(1 <= terms.intervals <= MAX_INTERVALS, "intervals out of range 1 .. 96")
        _fail(terms.first_interval % 256 + terms.intervals <= 256, "intervals cross a bitmap word")
        buyer, seller, arbiter = terms.buyer.lower(), terms.seller.lower(), terms.arbiter.lower()
        _fail(seller != ZERO and arbiter != ZERO, "a role is the zero address")
        _fail(len({buyer, seller, arbiter}) == 3, "roles not distinct")
        owner = self.meter_owner.get(terms.meter.lower(), ZERO)
        _fail(owner != ZERO, "meter not registered")
        trade = self.trade_id(terms)
        _fail(recover(trade, offer) == owner, "offer not signed by the meter's owner")
        _fail(self.status.get(trade, 0) == 0, "trade used before")
        key = (terms.meter.lower(), terms.first_interval // 256)
        _fail(self.locked.get(key, 0) & terms.mask() == 0, "energy already locked")
        self.locked[key] = self.locked.get(key, 0) | terms.mask()
        self.status[trade] = OPEN
        self.open_terms[trade] = terms
        if eth:
            self.held_eth += terms.amount
        elif self.coin_balance.get(buyer, 0) >= terms.amount:  # the balance becomes the trade's
            self._debit(buyer, terms.amount)
            self.spent += terms.amount
        else:
            self.held_coin += terms.amount
        self.escrowed[token] = self.escrowed.get(token, 0) + terms.amount
        return trade

    def approve(self, sender: str, terms: Terms, seller_amount: int) -> int:
        """The caller's role bit, now recorded for Resolution(trade, seller_amount) (for good), or the contract's
        revert."""
        roles = {terms.buyer.lower(): BUYER, terms.seller.lower(): SELLER, terms.arbiter.lower(): ARBITER}
        role = roles.get(sender.lower(), 0)
        _fail(role != 0, "caller is not a role")
        trade = self.trade_id(terms)
        _fail(self.status.get(trade, 0) == OPEN, "trade not open")
        _fail(seller_amount <= terms.amount, "seller amount above the amount")
        h = self.resolution_hash(trade, seller_amount)
        self.approvals[h] = self.approvals.get(h, 0) | role
        return role

    def resolve(self, terms: Terms, seller_amount: int, signatures: list[bytes]) -> tuple[int, list[Payout]]:
        """(the roles counted: signers' bits, with the approvals' if the signers are fewer than two; the payouts),
        or the contract's revert."""
        trade = self.trade_id(terms)
        _fail(self.status.get(trade, 0) == OPEN, "trade not open")
        _fail(seller_amount <= terms.amount, "seller amount above the amount")
        if len(signatures) > MAX_SIGNATURES:
            raise ValueError("the contract's ABI takes at most 3 signatures")
        h = self.resolution_hash(trade, seller_amount)
        roles = {terms.buyer.lower(): BUYER, terms.seller.lower(): SELLER, terms.arbiter.lower(): ARBITER}
        signers = 0
        for signature in signatures:
            role = roles.get(recover(h, signature), 0)
            _fail(role != 0, "signer is not a role")
            _fail(signers & role == 0, "one role signed twice")
            signers |= role
        if signers & (signers - 1) == 0:  # fewer than two roles signed: the approvals (a role counts once)
            signers |= self.approvals.get(h, 0)
            _fail(signers & (signers - 1) != 0, "fewer than two roles")
        return signers, self._settle(trade, terms, seller_amount)

    def claim(self, sender: str, terms: Terms, cumulative: int, voucher: bytes, now: int) -> list[Payout]:
        _fail(sender.lower() == terms.seller.lower(), "caller is not the seller")
        trade = self.trade_id(terms)
        _fail(self.status.get(trade, 0) == OPEN, "trade not open")
        _fail(now < terms.deadline, "deadline passed")
        _fail(cumulative <= terms.amount, "cumulative above the amount")
        _fail(
            recover(self.voucher_hash(trade, cumulative), voucher) == terms.buyer.lower(),
            "voucher not signed by the buyer",
        )
        return self._settle(trade, terms, cumulative)

    def refund(self, terms: Terms, now: int) -> list[Payout]:
        trade = self.trade_id(terms)
        _fail(self.status.get(trade, 0) == OPEN, "trade not open")
        _fail(now >= terms.deadline, "deadline not reached")
        return self._settle(trade, terms, 0)

    def withdraw(self, sender: str, to: str) -> int:
        """The amount sent; a `to` that refuses ETH reverts the whole call (not modelled: `rejects` is for pushes)."""
        sender = sender.lower()
        amount = self.credit.get(sender, 0)
        _fail(amount != 0, "no credit")
        _fail(to.lower() != ZERO, "to is the zero address")
        del self.credit[sender]
        self.held_eth -= amount
        return amount

    # -- coin balances -----------------------------------------------------------------------------------
    def deposit(self, sender: str, account: str, amount: int) -> None:
        """`sender` pays `amount` coins into `account`'s balance, or the contract's revert."""
        account = account.lower()
        _fail(account != ZERO, "account is the zero address")
        _fail(amount != 0, "amount is zero")
        self.coin_balance[account] = self.coin_balance.get(account, 0) + amount
        self.held_coin += amount
        self.deposited += amount

    def withdraw_coin(self, sender: str, to: str, amount: int) -> None:
        """`sender` takes `amount` of its balance to `to`, or the contract's revert."""
        sender = sender.lower()
        _fail(to.lower() != ZERO, "to is the zero address")
        _fail(amount != 0, "amount is zero")
        _fail(amount <= self.coin_balance.get(sender, 0), "amount above the balance")
        self._debit(sender, amount)
        self.held_coin -= amount
        self.withdrawn_coin += amount

    # -- internals ---------------------------------------------------------------------------------------
    def _debit(self, account: str, amount: int) -> None:
        left = self.coin_balance[account] - amount
        if left:
            self.coin_balance[account] = left
        else:
            del self.coin_balance[account]

    def _settle(self, trade: bytes, terms: Terms, seller_amount: int) -> list[Payout]:
        self.status[trade] = CLOSED
        del self.open_terms[trade]
        meter, word = terms.meter.lower(), terms.first_interval // 256
        if seller_amount == 0:
            self.locked[(meter, word)] &= ~terms.mask()
        else:
            for i in range(terms.first_interval, terms.first_interval + terms.intervals):
                assert (meter, i) not in self.sold, "an interval was paid to two trades"
                self.sold[(meter, i)] = trade
        token, rest = terms.token.lower(), terms.amount - seller_amount
        self.paid[token] = self.paid.get(token, 0) + seller_amount
        self.refunded[token] = self.refunded.get(token, 0) + rest
        payouts = []
        if token == ETH:
            self.held_eth -= terms.amount
            for to, amount in ((terms.seller.lower(), seller_amount), (terms.buyer.lower(), rest)):
                if amount:
                    credited = to in self.rejects
                    if credited:
                        self.credit[to] = self.credit.get(to, 0) + amount
                        self.held_eth += amount
                    payouts.append(Payout(to, ETH, amount, credited))
        else:
            self.held_coin -= terms.amount
            for to, amount in ((terms.seller.lower(), seller_amount), (terms.buyer.lower(), rest)):
                if amount:
                    payouts.append(Payout(to, token, amount))
        return payouts
