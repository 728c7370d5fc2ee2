# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title Vehicle-to-vehicle energy trading by reverse auction, with receipt-based settlement
@custom:contract-name v2v_auction
@license MIT
@author gridchain
@notice Abou El Houda et al. (Section III, Algorithms 1 and 2). The organisation (owner) admits EVs and may
        pause trading. An admitted consumer EV opens a reverse auction for `amount_wh` with a deposit that
        covers the cost at its start price, and names the least collateral a bid must carry (default: its
        deposit). Admitted provider EVs bid strictly lower rates, each bid with a collateral of
        max(rate x amount (Eq. 1), that minimum): the paper's collateral alone, rate x amount, is 20 wei for a
        1 wei/kWh bid on 20 kWh and 0 below 1 kWh. An outbid provider's collateral becomes withdrawable
        (`withdraw`). Once bidding has closed the consumer ends the auction, and GRACE after the closing time
        anyone may (so a consumer that never ends cannot lock the winner's collateral): the access token
        keccak256(consumer, provider, block timestamp, VALIDITY) is published in `AuctionEnded` and drives
        the off-chain mutual authentication (`gridchain.actors.ev`).

        Settlement (beyond the paper): as energy flows the consumer signs cumulative EIP-712 receipts
        `Receipt(bytes32 token, uint256 deliveredWh)`. Either party may post the latest (`post_receipt`) or
        settle with it; a settlement uses the larger of the receipt given and the one posted. The provider
        gets rate x delivered plus its collateral back, less the collateral of the energy it did not
        deliver: collateral x (amount - delivered) / amount, rounded down, goes to the consumer with the
        rest of its deposit. That share is forfeited only if the consumer ended its auction within GRACE of
        the closing time; an auction ended later (by anyone) settles by the paper's rule, the whole
        collateral back. The consumer settles only once the token has expired or with a receipt for the
        whole amount, so the provider always has the token's validity to post its latest receipt. If nobody
        settles within VALIDITY + GRACE of the end, anyone may `expire` the trade by the same rule with the
        last posted receipt (none: delivered 0). Delivery runs one receipt increment ahead, so a consumer
        that stops signing gains at most one increment of energy and the collateral share of what it did not
        sign for: the whole collateral if it takes nothing. The contract cannot tell that from a provider that
        delivers nothing; the collateral a bid must carry is public before anyone bids. A trade that is
        closed pays the caller at once and the other party by a 2,300-gas push that falls back to
        `pending_returns` (so a receiver that reverts cannot block it).

        Each consumer has at most one open auction, kept in three packed words:
            state[c] = provider (bits 0-159) | closing_time (160-199) | ended_at (200-239)
            terms[c] = amount_wh (0-63) | rate_wei_per_kwh (64-159) | delivered_wh (160-223)
            funds[c] = deposit_wei (0-79) | collateral_wei (80-159) | min_collateral_wei (160-239)
        `rate` is the start price until the first bid, then the lowest bid. Rates and deposits are below
        2**80 (1.2 million ether), and a collateral is at most the deposit (so are the cost at a bid and the
        minimum), so the three money fields fit 80 bits each. Pausing stops new auctions and bids only:
        ending, settling, expiring and withdrawing go on, so a pause cannot trap funds. Removing an EV
        likewise stops its new auctions and bids, not its open trades.

        Invariant: the contract's balance equals the sum of the live deposits and collaterals (`funds`)
        plus the sum of `pending_returns`. Each function that moves value keeps it, and asserts its part:
        what a closed trade pays out equals the deposit and collateral it releases (`_close_trade`). The
        stateful test checks the sum itself after every step.
@dev Its interface, events and the Auction view: `interfaces/IV2VAuction.vyi`. Python twin: `gridchain.core.v2v`
     (the same state machine, packing and revert reasons).
"""

from snekmate.auth import ownable
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712
from interfaces import IV2VAuction

implements: IV2VAuction

initializes: ownable
initializes: eip712
exports: (ownable.owner, ownable.transfer_ownership, eip712.eip712Domain)


MASK40: constant(uint256) = 2**40 - 1
MASK64: constant(uint256) = 2**64 - 1
MASK80: constant(uint256) = 2**80 - 1
MASK96: constant(uint256) = 2**96 - 1
MASK160: constant(uint256) = 2**160 - 1
ACTIVE: constant(uint256) = 1
PAUSED: constant(uint256) = 2  # never 0: a status change rewrites a word instead of creating one
MAX_BIDDING_TIME: constant(uint256) = 7 * 86400  # [s]
MIN_GRACE: constant(uint256) = 60  # [s] the consumer's least time to end its own auction (five 12-s blocks)
RECEIPT_TYPEHASH: constant(bytes32) = keccak256("Receipt(bytes32 token,uint256 deliveredWh)")
PUSH_GAS: constant(uint256) = 0  # a value transfer adds the 2,300-gas stipend: enough to receive, not to act


VALIDITY: public(immutable(uint256))  # [s] an access token's life, from the end of the auction
GRACE: public(immutable(uint256))  # [s] a party's time to act before anyone may: to end, to settle

status: uint256  # ACTIVE or PAUSED
admitted_at: public(HashMap[address, uint256])  # block.timestamp of admission; 0: not admitted
pending_returns: public(HashMap[address, uint256])  # [wei] withdrawable
state: HashMap[address, uint256]
terms: HashMap[address, uint256]
funds: HashMap[address, uint256]


@deploy
def __init__(validity_s: uint256, grace_s: uint256):
    """
    @dev The deployer becomes the owner (the organisation); trading starts active.
    @param validity_s Life of an access token [s], 1 .. 30 days.
    @param grace_s [s], 60 .. 30 days: after the closing time, the consumer's to end its auction (and keep its
           claim on undelivered collateral) before anyone may; after a token's validity, the parties' to settle
           before anyone may expire the trade.
    """
    assert validity_s > 0 and validity_s <= 30 * 86400, "v2v: validity_s out of range"
    assert grace_s >= MIN_GRACE and grace_s <= 30 * 86400, "v2v: grace_s out of range"
    ownable.__init__()
    eip712.__init__("gridchain v2v", "1")
    VALIDITY = validity_s
    GRACE = grace_s
    self.status = ACTIVE


# ---- the organisation ------------------------------------------------------------------------------


@external
def add_ev(ev: address, info: String[64]):
    """
    @dev Owner only: admit an EV (consumer or provider).
    @param ev The EV's account, not the zero address, not admitted yet.
    @param info Free text for the EVAdded event (e.g. model and battery), at most 64 characters.
    """
    self._check_owner()
    assert ev != empty(address), "v2v: ev is the zero address"
    assert self.admitted_at[ev] == 0, "v2v: EV already admitted"
    self.admitted_at[ev] = block.timestamp
    log IV2VAuction.EVAdded(ev=ev, info=info)


@external
def remove_ev(ev: address):
    """
    @dev Owner only: stop an EV's new auctions and bids (its open trades still settle).
    @param ev An admitted EV.
    """
    self._check_owner()
    assert self.admitted_at[ev] != 0, "v2v: EV not admitted"
    self.admitted_at[ev] = 0
    log IV2VAuction.EVRemoved(ev=ev)


@external
def change_status(active: bool):
    """
    @dev Owner only: resume or pause new auctions and bids (ending, settling and withdrawing go on).
    @param active True to resume, False to pause.
    """
    self._check_owner()
    self.status = ACTIVE if active else PAUSED
    log IV2VAuction.StatusChanged(active=active)


# ---- the auction -----------------------------------------------------------------------------------


@external
@payable
def start_auction(
    amount_wh: uint256,
    bidding_time_s: uint256,
    start_rate_wei_per_kwh: uint256,
    min_collateral_wei: uint256 = msg.value,
):
    """
    @dev An admitted consumer without an open auction asks for `amount_wh`; msg.value is its deposit, at
         least the cost at the start price and below 2**80.
    @param amount_wh Energy wanted [Wh], 1 .. 2**64 - 1.
    @param bidding_time_s How long providers may bid [s], 1 .. 7 days.
    @param start_rate_wei_per_kwh The highest rate the consumer accepts [wei/kWh], 1 .. 2**80 - 1.
    @param min_collateral_wei The least collateral of a bid [wei], 0 .. the deposit (default: the deposit).
    """
    self._check_trading(msg.sender)
    assert self.state[msg.sender] == 0, "v2v: consumer has an open auction"
    assert amount_wh > 0 and amount_wh <= MASK64, "v2v: amount_wh out of range"
    assert bidding_time_s > 0 and bidding_time_s <= MAX_BIDDING_TIME, "v2v: bidding_time_s out of range"
    assert start_rate_wei_per_kwh > 0 and start_rate_wei_per_kwh <= MASK80, "v2v: start rate out of range"
    assert msg.value <= MASK80, "v2v: deposit out of range"
    assert msg.value >= self._cost(start_rate_wei_per_kwh, amount_wh), "v2v: deposit below the cost at the start rate"
    assert min_collateral_wei <= msg.value, "v2v: min collateral over deposit"
    closing_time: uint256 = block.timestamp + bidding_time_s
    self.state[msg.sender] = closing_time << 160
    self.terms[msg.sender] = amount_wh | (start_rate_wei_per_kwh << 64)
    self.funds[msg.sender] = msg.value | (min_collateral_wei << 160)
    log IV2VAuction.AuctionStarted(
        consumer=msg.sender,
        amount_wh=amount_wh,
        start_rate_wei_per_kwh=start_rate_wei_per_kwh,
        closing_time=closing_time,
        deposit_wei=msg.value,
        min_collateral_wei=min_collateral_wei,
    )


@external
@payable
def place_bid(consumer: address, rate_wei_per_kwh: uint256):
    """
    @dev An admitted provider offers `consumer`'s amount at a rate strictly below the current one, with
         msg.value = max(its cost (rate x amount / 1000), the auction's minimum collateral) as collateral. The
         collateral of the bid it replaces becomes withdrawable by that bid's provider (no transfer here).
    @param consumer Whose auction; not the caller.
    @param rate_wei_per_kwh The offered rate [wei/kWh], 1 .. below the current rate.
    """
    self._check_trading(msg.sender)
    assert msg.sender != consumer, "v2v: a consumer cannot bid in its own auction"
    s: uint256 = self.state[consumer]
    assert s != 0, "v2v: no open auction for this consumer"
    assert block.timestamp < (s >> 160) & MASK40, "v2v: bidding is closed"
    t: uint256 = self.terms[consumer]
    assert rate_wei_per_kwh > 0, "v2v: rate is 0"
    assert rate_wei_per_kwh < (t >> 64) & MASK96, "v2v: bid not lower than the current rate"
    amount_wh: uint256 = t & MASK64
    f: uint256 = self.funds[consumer]
    assert msg.value == max(self._cost(rate_wei_per_kwh, amount_wh), f >> 160), (
        "v2v: collateral must be max(rate x amount, minimum)"
    )
    previous: address = convert(s & MASK160, address)
    if previous != empty(address):
        self.pending_returns[previous] += (f >> 80) & MASK80
    self.state[consumer] = (s & ~MASK160) | convert(msg.sender, uint256)
    self.terms[consumer] = amount_wh | (rate_wei_per_kwh << 64)
    self.funds[consumer] = (f & ~(MASK80 << 80)) | (msg.value << 80)
    log IV2VAuction.BidPlaced(consumer=consumer, provider=msg.sender, rate_wei_per_kwh=rate_wei_per_kwh)


@external
def end_auction(consumer: address = msg.sender):
    """
    @dev Publish the access token of `consumer`'s auction for the lowest bidder: the consumer once bidding
         has closed, anyone GRACE after the closing time. Without a bid the auction closes and the deposit
         becomes withdrawable by the consumer (no transfer here).
    @param consumer Whose auction (default: the caller's).
    """
    s: uint256 = self.state[consumer]
    assert s != 0, "v2v: no open auction for this consumer"
    assert (s >> 200) == 0, "v2v: auction already ended"
    closing_time: uint256 = s >> 160  # ended_at is 0
    assert block.timestamp >= closing_time, "v2v: bidding still open"
    if msg.sender != consumer:
        assert block.timestamp >= closing_time + GRACE, "v2v: consumer's grace not over"
    provider: address = convert(s & MASK160, address)
    if provider == empty(address):
        self.pending_returns[consumer] += self.funds[consumer] & MASK80
        self._clear(consumer)
        log IV2VAuction.AuctionEnded(consumer=consumer, provider=empty(address), token=empty(bytes32))
        return
    self.state[consumer] = s | (block.timestamp << 200)
    log IV2VAuction.AuctionEnded(consumer=consumer, provider=provider, token=self._token(consumer, provider, block.timestamp))


@external
def post_receipt(consumer: address, delivered_wh: uint256, r: uint256, vs: uint256):
    """
    @dev The consumer or the provider of an ended trade: record the consumer's signed receipt for
         `delivered_wh` (cumulative), if it is more than the one recorded.
    @param consumer Whose trade.
    @param delivered_wh Energy delivered so far [Wh], above the posted receipt, at most the amount.
    @param r The consumer's EIP-712 Receipt signature: r.
    @param vs The signature's s with the parity of y in its top bit (EIP-2098).
    """
    s: uint256 = self._check_party(consumer)
    t: uint256 = self.terms[consumer]
    self._check_receipt(consumer, s, t, delivered_wh, r, vs)
    assert delivered_wh > (t >> 160) & MASK64, "v2v: receipt not above the one posted"
    self.terms[consumer] = (t & ~(MASK64 << 160)) | (delivered_wh << 160)
    log IV2VAuction.ReceiptPosted(consumer=consumer, delivered_wh=delivered_wh)


@external
@nonreentrant
def settle(consumer: address, delivered_wh: uint256, r: uint256, vs: uint256):
    """
    @dev The consumer or the provider of an ended trade: close it with the consumer's signed receipt for
         `delivered_wh` or the posted one, whichever is larger. The consumer may settle only after the
         token's validity, or with a receipt for the whole amount.
    @param consumer Whose trade.
    @param delivered_wh Energy delivered [Wh] by the receipt given, at most the amount.
    @param r The consumer's EIP-712 Receipt signature: r.
    @param vs The signature's s with the parity of y in its top bit (EIP-2098).
    """
    s: uint256 = self._check_party(consumer)
    t: uint256 = self.terms[consumer]
    self._check_receipt(consumer, s, t, delivered_wh, r, vs)
    if msg.sender == consumer:
        assert delivered_wh == t & MASK64 or block.timestamp >= (s >> 200) + VALIDITY, (
            "v2v: the consumer settles after the token's validity"
        )
    self._close_trade(consumer, s, t, max(delivered_wh, (t >> 160) & MASK64), False)


@external
@nonreentrant
def expire(consumer: address):
    """
    @dev Anyone, VALIDITY + GRACE after the end of an auction nobody settled: close the trade with the
         last posted receipt (none: delivered 0).
    @param consumer Whose trade.
    """
    s: uint256 = self.state[consumer]
    assert s >> 200 != 0, "v2v: no ended trade for this consumer"
    assert block.timestamp >= (s >> 200) + VALIDITY + GRACE, "v2v: trade not expired yet"
    t: uint256 = self.terms[consumer]
    self._close_trade(consumer, s, t, (t >> 160) & MASK64, True)


@external
@nonreentrant
def withdraw():
    """
    @dev Send the caller its pending returns (outbid collateral, or a payout its address did not take).
    """
    amount: uint256 = self.pending_returns[msg.sender]
    assert amount > 0, "v2v: nothing to withdraw"
    self.pending_returns[msg.sender] = 0
    raw_call(msg.sender, b"", value=amount)
    log IV2VAuction.Withdrawn(account=msg.sender, amount_wei=amount)


# ---- views -----------------------------------------------------------------------------------------


@external
@view
def active() -> bool:
    """
    @dev Whether new auctions and bids are open.
    @return True unless the owner paused them.
    """
    return self.status == ACTIVE


@external
@view
def auction(consumer: address) -> IV2VAuction.Auction:
    """
    @dev `consumer`'s open auction, unpacked.
    @param consumer The consumer.
    @return Its auction (all zero: none).
    """
    s: uint256 = self.state[consumer]
    t: uint256 = self.terms[consumer]
    f: uint256 = self.funds[consumer]
    return IV2VAuction.Auction(
        provider=convert(s & MASK160, address),
        closing_time=(s >> 160) & MASK40,
        ended_at=s >> 200,
        amount_wh=t & MASK64,
        rate_wei_per_kwh=(t >> 64) & MASK96,
        delivered_wh=(t >> 160) & MASK64,
        deposit_wei=f & MASK80,
        collateral_wei=(f >> 80) & MASK80,
        min_collateral_wei=f >> 160,
    )


@external
@view
def token(consumer: address) -> bytes32:
    """
    @dev The access token of `consumer`'s ended trade.
    @param consumer The consumer.
    @return keccak256(abi_encode(consumer, provider, ended_at, VALIDITY)); empty before the end.
    """
    s: uint256 = self.state[consumer]
    if s >> 200 == 0:
        return empty(bytes32)
    return self._token(consumer, convert(s & MASK160, address), s >> 200)


@external
@pure
def cost(rate_wei_per_kwh: uint256, energy_wh: uint256) -> uint256:
    """
    @dev Paper Eq. 1 in integer units, rounded down.
    @param rate_wei_per_kwh The rate [wei/kWh].
    @param energy_wh The energy [Wh].
    @return rate x energy / 1000 [wei].
    """
    return self._cost(rate_wei_per_kwh, energy_wh)


# ---- internals -------------------------------------------------------------------------------------


@internal
@view
def _check_owner():
    assert msg.sender == ownable.owner, "v2v: caller is not the owner"


@internal
@view
def _check_trading(ev: address):
    assert self.status == ACTIVE, "v2v: trading is paused"
    assert self.admitted_at[ev] != 0, "v2v: EV not admitted"


@internal
@view
def _check_party(consumer: address) -> uint256:
    """
    @dev The caller is `consumer` or its provider, and the trade has ended; return the state word.
    """
    s: uint256 = self.state[consumer]
    assert s >> 200 != 0, "v2v: no ended trade for this consumer"
    assert msg.sender == consumer or msg.sender == convert(s & MASK160, address), "v2v: caller is not a party"
    return s


@internal
@view
def _check_receipt(consumer: address, s: uint256, t: uint256, delivered_wh: uint256, r: uint256, vs: uint256):
    """
    @dev `consumer` signed Receipt(token of this trade, delivered_wh), and it is within the amount.
    """
    assert delivered_wh <= t & MASK64, "v2v: receipt above the amount"
    token: bytes32 = self._token(consumer, convert(s & MASK160, address), s >> 200)
    digest: bytes32 = eip712._hash_typed_data_v4(keccak256(abi_encode(RECEIPT_TYPEHASH, token, delivered_wh)))
    assert ecdsa._try_recover_r_vs(digest, r, vs) == consumer, "v2v: receipt not signed by the consumer"


@internal
def _close_trade(consumer: address, s: uint256, t: uint256, delivered_wh: uint256, expired: bool):
    """
    @dev Pay the provider rate x delivered plus its collateral less the share of the undelivered energy, the
         consumer the rest of its deposit plus that share, and clear the auction. The share is forfeited only
         if the consumer ended its auction within GRACE of the closing time (nobody else can end it then).
         The caller is paid directly; the other party by a push or, failing that, into pending_returns.
    """
    f: uint256 = self.funds[consumer]
    provider: address = convert(s & MASK160, address)
    deposit: uint256 = f & MASK80
    collateral: uint256 = (f >> 80) & MASK80
    price: uint256 = self._cost((t >> 64) & MASK96, delivered_wh)
    forfeit: uint256 = 0
    if s >> 200 < ((s >> 160) & MASK40) + GRACE:
        amount_wh: uint256 = t & MASK64  # > 0, and delivered_wh <= amount_wh: receipts are checked against it
        forfeit = collateral * (amount_wh - delivered_wh) // amount_wh  # rounded down: <= collateral
    to_provider: uint256 = price + collateral - forfeit
    to_consumer: uint256 = deposit - price + forfeit  # price <= cost(rate, amount) <= cost(start, amount) <= deposit
    assert to_provider + to_consumer == deposit + collateral, "v2v: invariant broken"
    self._clear(consumer)
    self._pay(provider, to_provider, msg.sender == provider)
    self._pay(consumer, to_consumer, msg.sender == consumer)
    log IV2VAuction.TradeClosed(
        consumer=consumer,
        provider=provider,
        delivered_wh=delivered_wh,
        to_provider_wei=to_provider,
        to_consumer_wei=to_consumer,
        expired=expired,
    )


@internal
def _clear(consumer: address):
    self.state[consumer] = 0
    self.terms[consumer] = 0
    self.funds[consumer] = 0


@internal
def _pay(to: address, amount: uint256, caller: bool):
    """
    @dev Send `amount` to `to`: in full to the caller (a failure reverts), by a 2,300-gas push to anyone
         else, credited to pending_returns if that push fails.
    """
    if amount == 0:
        return
    if caller:
        raw_call(to, b"", value=amount)
        return
    if not raw_call(to, b"", value=amount, gas=PUSH_GAS, revert_on_failure=False):
        self.pending_returns[to] += amount


@internal
@view
def _token(consumer: address, provider: address, ended_at: uint256) -> bytes32:
    return keccak256(abi_encode(consumer, provider, ended_at, VALIDITY))


@internal
@pure
def _cost(rate_wei_per_kwh: uint256, energy_wh: uint256) -> uint256:
    return rate_wei_per_kwh * energy_wh // 1000
