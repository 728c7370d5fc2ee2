# pragma version ~=0.4.3
# pragma optimize gas
"""
@title Trade escrow: PriWatt's multisignature escrow with locked energy, refunds and instalment vouchers
@custom:contract-name trade_escrow
@license MIT (compiled together with snekmate's AGPL-3.0-only `ecdsa` and `eip712_domain_separator`)
@author gridchain
@notice Aitzhan & Svetinovic (IEEE TDSC 2018), PriWatt: a buyer's payment sits in a 2-of-3 escrow (buyer,
        seller, arbiter: the distribution operator) until the energy is delivered; trades can be revoked and
        refunded; neither side can spend twice (the buyer's payment and the seller's energy are both locked).
        Trustless: nobody administers this contract.

        A trade is its Terms (buyer, seller, arbiter, token, amount, meter, firstInterval, intervals, energyWh,
        deadline, salt), passed in calldata to every call; the trade id is their EIP-712 digest under the
        domain ("gridchain trade escrow", "1", chain id, this contract), and only a status per trade is stored
        (0 never opened, 1 open, 2 closed: never reusable, so neither an offer nor a signature replays), besides
        the roles' on-chain approvals (a word per resolution digest).
        token is empty(address) for ETH or exactly COIN (the energy coin); anything else is refused.

        deposit anyone pays coins in (transferFrom msg.sender) to an account's coin balance in the escrow (a
                relayer or the trade notes may fund a fresh address, unlinked; a buyer funds itself); only the
                account spends it, on its coin trades, or takes it back with `withdraw_coin` (part or all, to any
                address): the payer of a deposit for another cannot. Payouts never go to a balance.
        open    the buyer deposits `amount` with the offer (msg.value for ETH; for the coin, from its coin balance
                here when that covers the amount, else by transferFrom: one transaction either way): the trade id
                signed by the meter's registered owner (METERING.meter), the seller side's consent and
                its claim on the meter's export in [firstInterval, firstInterval + intervals) (15-minute
                intervals, unix s // 900, inside one 256-interval word). Those intervals are locked: a second
                trade on any of them is refused while the bits are set. A signed offer cannot be withdrawn; it
                lapses at its deadline and fails once another trade holds any of its intervals.
        resolve 2 of the 3 roles agree on Resolution(bytes32 trade,uint256 sellerAmount): release (all to the
                seller), revocation (buyer and seller, 0), a dispute decided by the arbiter with either party
                (any split). A role agrees by its EIP-712 signature, or on chain by `approve` (a role that is a
                contract, e.g. the operator's Safe, cannot sign: Safe's approveHash). Anyone submits, with 0 .. 3
                signatures, at any time while the trade is open (after the deadline too, until someone refunds:
                two roles that agree late still settle); the approvals are read only if the signatures give
                fewer than two roles. A role counts once (its signature and its approval are one role).
        approve a role records its agreement to Resolution(trade, sellerAmount) on chain (a bit per role under
                the resolution's digest, the hash the roles sign); it cannot be withdrawn, like a signature
                given. A settled trade is not open, so neither approvals nor signatures replay; the digest
                holds the trade id and the amount, so an approval counts for that trade and split only.
        claim   the one-way payment channel of a long delivery: the buyer signs Voucher(bytes32 trade,uint256
                cumulative) as the meter records energy; the seller alone submits one, before the deadline
                (block.timestamp < deadline), once: it gets `cumulative`, the buyer the rest. The seller must
                claim in time: from the deadline on the buyer may take everything back.
        refund  from the deadline on (block.timestamp >= deadline), anyone: the buyer gets everything.
        resolve, claim and refund each settle the trade once and close it (approve moves nothing). The energy
        bits are freed only if the seller gets nothing (that energy was not sold); a payment to the seller keeps
        them set for ever (sold energy is not sold again). Signatures are what wallets produce (65 bytes r | s | v,
        v 27/28 or 0/1, or EIP-2098's 64), high s refused, as lag_committee takes them.

        ETH is pushed with PUSH_GAS (100,000) to the callee (a Safe's receive needs more than `send`'s 2,300; a
        bound keeps a hostile callee from taking the caller's gas); a recipient that refuses it (or runs out) is
        credited a balance it withdraws to an address of its choice (`withdraw`), so a hostile party never
        blocks the other's payout (rather than pull payments for all: the common case stays one transaction).
        The coin is sent with `transfer` (it refuses no non-zero recipient). State is written before any
        transfer, and every function that moves money is nonreentrant.

        Invariant: self.balance >= held_eth and COIN.balanceOf(self) >= held_coin, where held_eth is the sum of
        the open ETH trades' amounts plus all credit and held_coin the sum of the open coin trades' amounts plus
        all coin balances (asserted after money moves in or out; an open from a balance moves none: the balance
        becomes the trade's; stored plus one, so never zero). Per trade: escrowed = paid to the seller + refunded
        to the buyer (+ credited for a failed push), the events' sums; per account: deposited = withdrawn + spent
        on its trades + its balance.
@dev Python twin: `gridchain.escrow.model` (the same rules, order of checks and revert reasons).
"""

from ethereum.ercs import IERC20
from interfaces import IMetering
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712

initializes: eip712
exports: eip712.eip712Domain


struct Terms:
    buyer: address
    seller: address
    arbiter: address
    token: address  # empty: ETH; else COIN
    amount: uint256  # [wei] or [coin units]
    meter: address
    first_interval: uint256  # unix s // 900
    intervals: uint256  # 1 .. MAX_INTERVALS, inside one bitmap word
    energy_wh: uint256  # [Wh] the agreed energy (for the arbiter and the vouchers)
    deadline: uint256  # [s] unix
    salt: bytes32


event Opened:
    trade: indexed(bytes32)
    buyer: indexed(address)
    meter: indexed(address)
    token: address
    amount: uint256

event Resolved:
    trade: indexed(bytes32)
    seller_amount: uint256
    signers: uint256  # the roles counted (signed or approved): bit 0 buyer, 1 seller, 2 arbiter

event Approved:
    trade: indexed(bytes32)
    seller_amount: uint256
    role: uint256  # 1 buyer, 2 seller, 4 arbiter

event Claimed:
    trade: indexed(bytes32)
    cumulative: uint256

event Refunded:
    trade: indexed(bytes32)
    amount: uint256

event Credited:
    account: indexed(address)
    amount: uint256  # [wei] a push that failed, now withdrawable

event Withdrawn:
    account: indexed(address)
    to: indexed(address)
    amount: uint256

event Deposited:
    account: indexed(address)
    payer: indexed(address)
    amount: uint256  # [coin units] now in the account's coin balance

event CoinWithdrawn:
    account: indexed(address)
    to: indexed(address)
    amount: uint256  # [coin units] out of the account's coin balance


MAX_INTERVALS: constant(uint256) = 96  # a day of 15-minute intervals
MAX_SIGNATURES: constant(uint256) = 3
PUSH_GAS: constant(uint256) = 100_000  # to an ETH recipient's code (a Safe's receive needs more than 2,300)
OPEN: constant(uint256) = 1
CLOSED: constant(uint256) = 2
BUYER: constant(uint256) = 1
SELLER: constant(uint256) = 2
ARBITER: constant(uint256) = 4
HALF_N: constant(uint256) = 57896044618658097711785492504343953926418782139537452191302581570759080747168  # secp256k1 n // 2 (EIP-2)
LOW255: constant(uint256) = 2**255 - 1
TERMS_TYPEHASH: constant(bytes32) = keccak256(
    "Terms(address buyer,address seller,address arbiter,address token,uint256 amount,address meter,uint256 firstInterval,uint256 intervals,uint256 energyWh,uint256 deadline,bytes32 salt)"
)
RESOLUTION_TYPEHASH: constant(bytes32) = keccak256("Resolution(bytes32 trade,uint256 sellerAmount)")
VOUCHER_TYPEHASH: constant(bytes32) = keccak256("Voucher(bytes32 trade,uint256 cumulative)")


METERING: public(immutable(IMetering))
COIN: public(immutable(IERC20))

status: public(HashMap[bytes32, uint256])  # trade -> 0 never opened, 1 open, 2 closed
locked: public(HashMap[address, HashMap[uint256, uint256]])  # meter -> interval // 256 -> bit interval % 256
credit: public(HashMap[address, uint256])  # [wei] failed pushes, withdrawable
approvals: public(HashMap[bytes32, uint256])  # resolution digest -> the role bits that approved it on chain
coin_balance: public(HashMap[address, uint256])  # [coin units] deposited, not yet spent on a trade or withdrawn
# held + 1, never zero: an open when nothing is held then rewrites a non-zero word (5,000 gas) instead of writing a
# zero one (22,100); the views `held_eth` and `held_coin` subtract the 1
held_eth_1: uint256  # [wei] open ETH trades' amounts + all credit, + 1
held_coin_1: uint256  # open coin trades' amounts + all coin balances, + 1


@deploy
def __init__(metering: IMetering, coin: IERC20):
    """
    @dev Nobody owns the escrow.
    @param metering The metering contract whose registered meter owners sign the offers.
    @param coin The energy coin, the one token besides ETH.
    """
    eip712.__init__("gridchain trade escrow", "1")
    METERING = metering
    COIN = coin
    self.held_eth_1 = 1
    self.held_coin_1 = 1


# ---- trades ------------------------------------------------------------------------------------------


@payable
@external
@nonreentrant
def open(terms: Terms, offer: Bytes[65]) -> bytes32:
    """
    @dev The buyer opens the trade with its deposit and the meter owner's offer; the intervals are locked. A coin trade
         is paid from the buyer's coin balance if that covers the amount, else by transferFrom.
    @param terms The trade's terms; msg.sender is the buyer.
    @param offer The meter owner's EIP-712 signature of the Terms (the trade id).
    @return The trade id.
    """
    assert msg.sender == terms.buyer, "trade_escrow: caller is not the buyer"
    eth: bool = terms.token == empty(address)
    assert eth or terms.token == COIN.address, "trade_escrow: token is neither ETH nor the coin"
    assert terms.amount != 0, "trade_escrow: amount is zero"
    if eth:
        assert msg.value == terms.amount, "trade_escrow: value is not the amount"
    else:
        assert msg.value == 0, "trade_escrow: value sent with a coin trade"
    assert terms.deadline > block.timestamp, "trade_escrow: deadline passed"
    assert terms.intervals != 0 and terms.intervals <= MAX_INTERVALS, "trade_escrow: intervals out of range 1 .. 96"
    offset: uint256 = terms.first_interval % 256
    assert offset + terms.intervals <= 256, "trade_escrow: intervals cross a bitmap word"
    assert terms.seller != empty(address) and terms.arbiter != empty(address), (
        "trade_escrow: a role is the zero address"
    )
    assert terms.buyer != terms.seller and terms.buyer != terms.arbiter and terms.seller != terms.arbiter, (
        "trade_escrow: roles not distinct"
    )
    owner: address = (staticcall METERING.meter(terms.meter))[0]
    assert owner != empty(address), "trade_escrow: meter not registered"
    trade: bytes32 = self._trade_id(terms)
    assert self._recover(trade, offer) == owner, "trade_escrow: offer not signed by the meter's owner"
    assert self.status[trade] == 0, "trade_escrow: trade used before"
    word: uint256 = terms.first_interval // 256
    bits: uint256 = self.locked[terms.meter][word]
    mask: uint256 = ((1 << terms.intervals) - 1) << offset
    assert bits & mask == 0, "trade_escrow: energy already locked"
    self.locked[terms.meter][word] = bits | mask
    self.status[trade] = OPEN
    if eth:
        self.held_eth_1 += terms.amount
        assert self.balance >= self.held_eth_1 - 1  # the invariant
    else:
        balance: uint256 = self.coin_balance[msg.sender]
        if balance >= terms.amount:  # the balance becomes the trade's: held_coin and the coins stay
            self.coin_balance[msg.sender] = balance - terms.amount
        else:
            self.held_coin_1 += terms.amount
            assert extcall COIN.transferFrom(msg.sender, self, terms.amount, default_return_value=True), (
                "trade_escrow: transfer failed"
            )
            assert staticcall COIN.balanceOf(self) >= self.held_coin_1 - 1  # the invariant
    log Opened(trade=trade, buyer=terms.buyer, meter=terms.meter, token=terms.token, amount=terms.amount)
    return trade


@external
@nonreentrant
def resolve(terms: Terms, seller_amount: uint256, signatures: DynArray[Bytes[65], MAX_SIGNATURES]):
    """
    @dev Anyone: settle an open trade as 2 of its 3 roles signed or approved: the seller gets `seller_amount`, the rest
         to the buyer.
    @param terms The trade's terms.
    @param seller_amount What the seller gets, 0 .. amount.
    @param signatures EIP-712 Resolution(trade, sellerAmount) signatures of distinct roles, any order, 0 .. 3:
           with the roles that approved it on chain, at least two roles.
    """
    trade: bytes32 = self._trade_id(terms)
    assert self.status[trade] == OPEN, "trade_escrow: trade not open"
    assert seller_amount <= terms.amount, "trade_escrow: seller amount above the amount"
    h: bytes32 = eip712._hash_typed_data_v4(keccak256(abi_encode(RESOLUTION_TYPEHASH, trade, seller_amount)))
    signers: uint256 = 0
    for signature: Bytes[65] in signatures:
        signer: address = self._recover(h, signature)
        role: uint256 = 0
        if signer == terms.buyer:
            role = BUYER
        elif signer == terms.seller:
            role = SELLER
        elif signer == terms.arbiter:
            role = ARBITER
        assert role != 0, "trade_escrow: signer is not a role"
        assert signers & role == 0, "trade_escrow: one role signed twice"
        signers |= role
    if signers & unsafe_sub(signers, 1) == 0:  # fewer than two roles signed (0 too): the approvals (a role counts once)
        signers |= self.approvals[h]
        assert signers & unsafe_sub(signers, 1) != 0, "trade_escrow: fewer than two roles"
    self._settle(trade, terms, seller_amount)
    log Resolved(trade=trade, seller_amount=seller_amount, signers=signers)


@external
@nonreentrant
def approve(terms: Terms, seller_amount: uint256):
    """
    @dev A role (msg.sender; a contract too, e.g. a Safe) agrees to Resolution(trade, sellerAmount) on chain, for
         good: `resolve` counts it as that role's signature. Nonreentrant: not from inside a payout.
    @param terms The trade's terms.
    @param seller_amount What the seller gets, 0 .. amount.
    """
    role: uint256 = 0
    if msg.sender == terms.buyer:
        role = BUYER
    elif msg.sender == terms.seller:
        role = SELLER
    elif msg.sender == terms.arbiter:
        role = ARBITER
    assert role != 0, "trade_escrow: caller is not a role"
    trade: bytes32 = self._trade_id(terms)
    assert self.status[trade] == OPEN, "trade_escrow: trade not open"
    assert seller_amount <= terms.amount, "trade_escrow: seller amount above the amount"
    h: bytes32 = eip712._hash_typed_data_v4(keccak256(abi_encode(RESOLUTION_TYPEHASH, trade, seller_amount)))
    self.approvals[h] |= role
    log Approved(trade=trade, seller_amount=seller_amount, role=role)


@external
@nonreentrant
def claim(terms: Terms, cumulative: uint256, voucher: Bytes[65]):
    """
    @dev The seller, before the deadline, once: settle the trade on the buyer's latest voucher.
    @param terms The trade's terms.
    @param cumulative What the voucher pays the seller in all, 0 .. amount.
    @param voucher The buyer's EIP-712 signature of Voucher(trade, cumulative).
    """
    assert msg.sender == terms.seller, "trade_escrow: caller is not the seller"
    trade: bytes32 = self._trade_id(terms)
    assert self.status[trade] == OPEN, "trade_escrow: trade not open"
    assert block.timestamp < terms.deadline, "trade_escrow: deadline passed"
    assert cumulative <= terms.amount, "trade_escrow: cumulative above the amount"
    h: bytes32 = eip712._hash_typed_data_v4(keccak256(abi_encode(VOUCHER_TYPEHASH, trade, cumulative)))
    assert self._recover(h, voucher) == terms.buyer, "trade_escrow: voucher not signed by the buyer"
    self._settle(trade, terms, cumulative)
    log Claimed(trade=trade, cumulative=cumulative)


@external
@nonreentrant
def refund(terms: Terms):
    """
    @dev Anyone, from the deadline on: the buyer gets everything back and the intervals are freed.
    @param terms The trade's terms.
    """
    trade: bytes32 = self._trade_id(terms)
    assert self.status[trade] == OPEN, "trade_escrow: trade not open"
    assert block.timestamp >= terms.deadline, "trade_escrow: deadline not reached"
    self._settle(trade, terms, 0)
    log Refunded(trade=trade, amount=terms.amount)


@external
@nonreentrant
def withdraw(to: address) -> uint256:
    """
    @dev The caller's credit (failed ETH pushes), all of it, to `to`.
    @param to Where to send it, not the zero address.
    @return The amount sent [wei].
    """
    amount: uint256 = self.credit[msg.sender]
    assert amount != 0, "trade_escrow: no credit"
    assert to != empty(address), "trade_escrow: to is the zero address"
    self.credit[msg.sender] = 0
    self.held_eth_1 -= amount
    raw_call(to, b"", value=amount)
    assert self.balance >= self.held_eth_1 - 1  # the invariant
    log Withdrawn(account=msg.sender, to=to, amount=amount)
    return amount


# ---- coin balances ---------------------------------------------------------------------------------


@external
@nonreentrant
def deposit(account: address, amount: uint256):
    """
    @dev Anyone: pull `amount` coins from the caller (its allowance) into `account`'s coin balance, which only
         `account` spends (its coin trades) or withdraws.
    @param account Whose balance is credited, not the zero address.
    @param amount The coins [coin units], not zero.
    """
    assert account != empty(address), "trade_escrow: account is the zero address"
    assert amount != 0, "trade_escrow: amount is zero"
    self.coin_balance[account] += amount
    self.held_coin_1 += amount
    assert extcall COIN.transferFrom(msg.sender, self, amount, default_return_value=True), (
        "trade_escrow: transfer failed"
    )
    assert staticcall COIN.balanceOf(self) >= self.held_coin_1 - 1  # the invariant
    log Deposited(account=account, payer=msg.sender, amount=amount)


@external
@nonreentrant
def withdraw_coin(to: address, amount: uint256):
    """
    @dev The caller takes `amount` of its coin balance back, to `to`.
    @param to Where to send it, not the zero address.
    @param amount The coins [coin units], 1 .. the caller's balance.
    """
    assert to != empty(address), "trade_escrow: to is the zero address"
    assert amount != 0, "trade_escrow: amount is zero"
    balance: uint256 = self.coin_balance[msg.sender]
    assert amount <= balance, "trade_escrow: amount above the balance"
    self.coin_balance[msg.sender] = balance - amount
    self.held_coin_1 -= amount
    assert extcall COIN.transfer(to, amount, default_return_value=True), "trade_escrow: transfer failed"
    assert staticcall COIN.balanceOf(self) >= self.held_coin_1 - 1  # the invariant
    log CoinWithdrawn(account=msg.sender, to=to, amount=amount)


# ---- views -------------------------------------------------------------------------------------------


@view
@external
def trade_id(terms: Terms) -> bytes32:
    """
    @dev The trade id: what the meter's owner signs as the offer.
    @param terms The trade's terms.
    @return The EIP-712 digest of the Terms in this domain.
    """
    return self._trade_id(terms)


@view
@external
def resolution_hash(trade: bytes32, seller_amount: uint256) -> bytes32:
    """
    @dev What two roles sign (or approve on chain) to resolve a trade; the key of `approvals`.
    @param trade The trade id.
    @param seller_amount What the seller gets.
    @return The EIP-712 digest of Resolution(trade, sellerAmount).
    """
    return eip712._hash_typed_data_v4(keccak256(abi_encode(RESOLUTION_TYPEHASH, trade, seller_amount)))


@view
@external
def voucher_hash(trade: bytes32, cumulative: uint256) -> bytes32:
    """
    @dev What the buyer signs as an instalment voucher.
    @param trade The trade id.
    @param cumulative What the seller is paid in all.
    @return The EIP-712 digest of Voucher(trade, cumulative).
    """
    return eip712._hash_typed_data_v4(keccak256(abi_encode(VOUCHER_TYPEHASH, trade, cumulative)))


@view
@external
def held_eth() -> uint256:
    """
    @dev The ETH the escrow owes: open ETH trades' amounts plus all credit; its balance is at least this.
    @return The amount [wei].
    """
    return self.held_eth_1 - 1


@view
@external
def held_coin() -> uint256:
    """
    @dev The coins the escrow owes: open coin trades' amounts plus all coin balances; it holds at least this.
    @return The amount [coin units].
    """
    return self.held_coin_1 - 1


@view
@external
def is_locked(meter: address, interval: uint256) -> bool:
    """
    @dev Whether a meter's interval is held by an open trade or was sold.
    @param meter The meter.
    @param interval The 15-minute interval (unix s // 900).
    @return True if its bit is set.
    """
    return (self.locked[meter][interval // 256] >> (interval % 256)) & 1 == 1


# ---- internals ---------------------------------------------------------------------------------------


@view
@internal
def _trade_id(t: Terms) -> bytes32:
    return eip712._hash_typed_data_v4(
        keccak256(
            abi_encode(
                TERMS_TYPEHASH, t.buyer, t.seller, t.arbiter, t.token, t.amount, t.meter, t.first_interval,
                t.intervals, t.energy_wh, t.deadline, t.salt,
            )
        )
    )


@internal
def _settle(trade: bytes32, t: Terms, seller_amount: uint256):
    # closed before any transfer; the energy is freed only if none of it was paid for
    self.status[trade] = CLOSED
    if seller_amount == 0:
        word: uint256 = t.first_interval // 256
        mask: uint256 = ((1 << t.intervals) - 1) << (t.first_interval % 256)
        self.locked[t.meter][word] &= ~mask
    rest: uint256 = t.amount - seller_amount
    if t.token == empty(address):
        self.held_eth_1 -= t.amount
        self._push_eth(t.seller, seller_amount)
        self._push_eth(t.buyer, rest)
        assert self.balance >= self.held_eth_1 - 1  # the invariant
    else:
        self.held_coin_1 -= t.amount
        if seller_amount != 0:
            assert extcall COIN.transfer(t.seller, seller_amount, default_return_value=True), (
                "trade_escrow: transfer failed"
            )
        if rest != 0:
            assert extcall COIN.transfer(t.buyer, rest, default_return_value=True), "trade_escrow: transfer failed"
        assert staticcall COIN.balanceOf(self) >= self.held_coin_1 - 1  # the invariant


@internal
def _push_eth(to: address, amount: uint256):
    if amount == 0:
        return
    if not raw_call(to, b"", value=amount, gas=PUSH_GAS, revert_on_failure=False):
        self.credit[to] += amount
        self.held_eth_1 += amount
        log Credited(account=to, amount=amount)


@pure
@internal
def _recover(h: bytes32, signature: Bytes[65]) -> address:
    # normalised at the entry: (r, s, v in {27, 28}) from any standard form, high s refused
    length: uint256 = len(signature)
    assert length == 64 or length == 65, "trade_escrow: signature is not 64 or 65 bytes"
    r: uint256 = extract32(signature, 0, output_type=uint256)
    word: uint256 = extract32(signature, 32, output_type=uint256)
    s: uint256 = word
    v: uint256 = 0
    if length == 65:
        v = convert(slice(signature, 64, 1), uint256)
        if v < 2:
            v += 27
        assert v == 27 or v == 28, "trade_escrow: signature v is not 0, 1, 27 or 28"
    else:
        s = word & LOW255
        v = 27 + (word >> 255)
    assert s <= HALF_N, "trade_escrow: signature s in the upper half (malleable, EIP-2)"
    return ecdsa._try_recover_vrs(h, v, r, s)
