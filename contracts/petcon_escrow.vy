# pragma version ~=0.4.3
# pragma optimize gas
"""
@title PETCON's escrow: one hotspot's coins held per auction and settled on the poles' signed meter readings
@custom:contract-name petcon_escrow
@license MIT
@author gridchain
@notice Kang et al. (IEEE TII 2017), PETCON: plug-in hybrids (PHEVs) at a hotspot trade energy in an iterative
        double auction run by the local aggregators (LAGs), who commit the final allocation and payments on chain
        by an M-of-N committee rule (`lag_committee.vy`: attested(keccak256("petcon.result"), round) is the
        digest of the result, `gridchain.market.petcon.result`). This contract holds the coins around it.

        Each PHEV trades under a one-auction pseudonym. The house (the LAG) opens the auction's `round`
        (`open_round`), which starts its clock (`opened_at`): it is open for SETTLE_S (more than a day: a meter's
        readings are anchored after their day). While it is open each PHEV escrows coins for it (`escrow`): a
        buyer at least its payment, a seller a bond if it wants one (its penalty beyond its reward comes from
        it). Only the house opens a round, so nobody can start a round's clock before the real auction. While it is open anyone
        may settle entries of the attested result (`settle`) with the readings of each entry's charging pole over
        the delivery window: every reading a meter-signed 15-minute reading proven against the day's anchored
        Merkle root (`metering.vy`'s `verify_reading`, through IMetering). For an entry with amount A
        [micro-coins] and energy E [Wh] whose pole recorded R Wh over the window, taken = min(R, E) and
        missing = E - taken (E == 0 counts as fully delivered):
            buyer   pays ceil(A taken / E) + penalty, penalty = ceil(PENALTY_BPS A missing / (10,000 E)),
                    from its escrow of the round to the house (at most what is there; the rest is the
                    event's `shortfall`, the LAG's loss);
            seller  is credited floor(A taken / E) - penalty: from the house to its escrow of the round if
                    positive ("house short" if the house cannot pay), debited from its escrow like a buyer's due
                    if negative. A seller is never paid for energy its meter did not record.
        The penalty on what a disconnecting PHEV did not deliver or take is OURS, not the paper's: the paper's
        penalty formula is not in the copy we have (only the survey), so it is a share PENALTY_BPS (set at
        deployment) of the undelivered part's value.

        The house is the LAG's account, the counterparty of every entry: anyone may add to it (`fund`), its
        owner HOUSE may take from it (`withdraw_house`, beyond the spec: the buyers' payments would otherwise be
        locked here for ever). Each (pole, 15-minute interval) is settled at most once across all rounds (a
        bitmap per pole, 256 intervals a word): no energy is paid twice. Each entry of a round is settled at
        most once (a bitmap per round: at most MAX_ENTRIES entries). A party takes its whole escrow of a round
        (`withdraw`) once its entry is settled or the round has closed: an unattested or unsettled round refunds
        everything, so a buyer that nobody settled in time keeps its coins (the LAG's loss: it must settle).
        A result holds each pseudonym and each pole at most once (the LAGs' audit refuses one that does not,
        `gridchain.market.petcon.audit`): a pseudonym may withdraw once its first entry is settled, so a second
        entry of it would find its escrow gone (a shortfall); one entry per pseudonym keeps that sound. It is
        not checked here (O(n^2) in the entries).

        Invariant: coin.balanceOf(self) >= total_held == the sum of all escrows + house (asserted after every
        transfer in or out; `settle` moves coins only inside total_held, and asserts per entry that what it
        debits plus the shortfall is the due). Per round: escrowed + credited == paid to the house + refunded
        + what is still escrowed (the stateful test checks it from the events).
@dev Python twin: `gridchain.market.petcon.escrow.model` (the same rules and revert reasons).
"""

from ethereum.ercs import IERC20
from interfaces import IMetering


interface ICommittee:
    def attested(kind: bytes32, round: uint256) -> bytes32: view


MAX_ENTRIES: constant(uint256) = 128  # a hotspot's PHEVs in one auction: the paper's lot has 80 (the bitmap: one word)
MAX_INTERVALS: constant(uint256) = 16  # a delivery window of at most 4 hours of 15-minute intervals
MAX_READINGS: constant(uint256) = 128  # per call: e.g. 8 entries of 16 intervals, 16 of 8
MAX_PROOF: constant(uint256) = 8  # a day's root holds at most 96 readings: 7 levels
INTERVAL_S: constant(uint256) = 900  # [s]
BPS: constant(uint256) = 10_000
MIN_SETTLE_S: constant(uint256) = 86_400  # [s] exclusive: readings are anchored after their day
MAX_SETTLE_S: constant(uint256) = 30 * 86_400  # [s]
BUYER: constant(uint256) = 0
SELLER: constant(uint256) = 1
KIND: constant(bytes32) = keccak256("petcon.result")


struct Entry:
    pseudonym: address
    pole: address
    role: uint256  # 0 buyer, 1 seller
    energy_wh: uint256
    amount_micro: uint256

struct Reading:
    active_wh: uint256
    reactive_varh: uint256
    r: uint256
    vs: uint256
    proof: DynArray[bytes32, MAX_PROOF]


event RoundOpened:
    round: indexed(uint256)
    closes_at: uint256  # [s] opened_at + SETTLE_S

event Escrowed:
    round: indexed(uint256)
    party: indexed(address)
    amount: uint256
    escrow: uint256  # the party's escrow of the round after it

event Funded:
    funder: indexed(address)
    amount: uint256
    house: uint256

event EntrySettled:
    round: indexed(uint256)
    pseudonym: indexed(address)
    role: uint256
    pole: address
    energy_wh: uint256
    recorded_wh: uint256  # what the pole's readings add up to over the window
    debited: uint256  # from the party's escrow to the house
    credited: uint256  # from the house to the party's escrow
    shortfall: uint256  # the part of a due the escrow could not pay

event Withdrawn:
    round: indexed(uint256)
    party: indexed(address)
    amount: uint256

event HouseWithdrawn:
    amount: uint256
    house: uint256


COIN: public(immutable(IERC20))
METERING: public(immutable(IMetering))
COMMITTEE: public(immutable(ICommittee))
LOT: public(immutable(uint256))
HOUSE: public(immutable(address))
PENALTY_BPS: public(immutable(uint256))
SETTLE_S: public(immutable(uint256))

opened_at: public(HashMap[uint256, uint256])  # round -> when the house opened it [s]; 0: not opened
escrowed: public(HashMap[uint256, HashMap[address, uint256]])  # round -> party -> micro-coins
house: public(uint256)  # [micro-coins] the LAG's side
total_held: public(uint256)  # all escrows + house
entries_settled: public(HashMap[uint256, uint256])  # round -> bit i: entry i settled
settled_party: public(HashMap[uint256, HashMap[address, bool]])  # round -> pseudonym -> an entry of it settled
pole_settled: public(HashMap[address, HashMap[uint256, uint256]])  # pole -> interval // 256 -> bit interval % 256


@deploy
def __init__(
    coin: address,
    metering: address,
    committee: address,
    lot: uint256,
    house: address,
    penalty_bps: uint256,
    settle_s: uint256,
):
    """
    @dev One hotspot's escrow.
    @param coin The energy coin (ERC-20, micro-coins).
    @param metering The metering contract whose anchored readings settle the entries.
    @param committee The LAG committee whose attestations of kind keccak256("petcon.result") are the results.
    @param lot The hotspot's lot: the results this escrow settles name it.
    @param house The LAG's account, the counterparty (not the zero address).
    @param penalty_bps The share of an undelivered part's value a PHEV pays [1/10,000], 0 .. 10,000.
    @param settle_s A round's time from its opening to its close [s], above 86,400, at most 30 days.
    """
    assert house != empty(address), "petcon_escrow: zero house"
    assert penalty_bps <= BPS, "petcon_escrow: penalty out of range"
    assert settle_s > MIN_SETTLE_S and settle_s <= MAX_SETTLE_S, "petcon_escrow: settle window out of range"
    COIN = IERC20(coin)
    METERING = IMetering(metering)
    COMMITTEE = ICommittee(committee)
    LOT = lot
    HOUSE = house
    PENALTY_BPS = penalty_bps
    SETTLE_S = settle_s


# ---- coins in ----------------------------------------------------------------------------------------


@external
def open_round(round: uint256):
    """
    @dev HOUSE opens `round` for escrows and settlement: its clock starts now and runs SETTLE_S.
    @param round The auction's id (not opened before).
    """
    assert msg.sender == HOUSE, "petcon_escrow: caller is not the house"
    assert self.opened_at[round] == 0, "petcon_escrow: round opened"
    self.opened_at[round] = block.timestamp
    log RoundOpened(round=round, closes_at=block.timestamp + SETTLE_S)


@external
def escrow(round: uint256, amount: uint256):
    """
    @dev The caller (a one-auction pseudonym) escrows `amount` for `round`, opened by the house and not closed
         (coin.transferFrom: approve first).
    @param round The auction's id.
    @param amount [micro-coins], above 0.
    """
    assert amount > 0, "petcon_escrow: zero amount"
    opened: uint256 = self.opened_at[round]
    assert opened != 0, "petcon_escrow: round not open"
    assert block.timestamp < opened + SETTLE_S, "petcon_escrow: round closed"
    held: uint256 = self.escrowed[round][msg.sender] + amount
    self.escrowed[round][msg.sender] = held
    self.total_held += amount
    self._pull(amount)
    log Escrowed(round=round, party=msg.sender, amount=amount, escrow=held)


@external
def fund(amount: uint256):
    """
    @dev Anyone adds `amount` to the house, from which sellers are credited (coin.transferFrom).
    @param amount [micro-coins], above 0.
    """
    assert amount > 0, "petcon_escrow: zero amount"
    h: uint256 = self.house + amount
    self.house = h
    self.total_held += amount
    self._pull(amount)
    log Funded(funder=msg.sender, amount=amount, house=h)


# ---- settlement ----------------------------------------------------------------------------------------


@external
def settle(
    lot: uint256,
    round: uint256,
    first_interval: uint256,
    intervals: uint256,
    record_hash: bytes32,
    entries: DynArray[Entry, MAX_ENTRIES],
    indices: DynArray[uint256, MAX_ENTRIES],
    readings: DynArray[Reading, MAX_READINGS],
):
    """
    @dev Anyone, while the round is open: settle the entries `indices` of the attested result against their
         poles' readings (money rules in the header).
    @param lot The result's lot: this escrow's LOT.
    @param round The auction's id (the committee's round).
    @param first_interval The delivery window's first 15-minute interval (unix seconds // 900).
    @param intervals The window's length, 1 .. 16.
    @param record_hash keccak256 of the auction's record.
    @param entries All of the result's entries, as attested.
    @param indices The entries settled in this call (positions in `entries`).
    @param readings `intervals` readings per settled entry, in the order of `indices`, each (active_wh,
           reactive_varh, r, vs, proof) of the entry's pole at interval first_interval + t.
    """
    opened: uint256 = self.opened_at[round]
    assert opened != 0, "petcon_escrow: round not open"
    assert block.timestamp < opened + SETTLE_S, "petcon_escrow: round closed"
    assert lot == LOT, "petcon_escrow: wrong lot"
    assert intervals >= 1 and intervals <= MAX_INTERVALS, "petcon_escrow: intervals out of range"
    digest: bytes32 = keccak256(abi_encode(lot, round, first_interval, intervals, record_hash, entries))
    assert digest == staticcall COMMITTEE.attested(KIND, round), "petcon_escrow: result not attested"
    assert len(readings) == intervals * len(indices), "petcon_escrow: readings count"
    done: uint256 = self.entries_settled[round]
    k: uint256 = 0
    for i: uint256 in indices:
        assert i < len(entries), "petcon_escrow: index out of range"
        bit: uint256 = 1 << i
        assert done & bit == 0, "petcon_escrow: entry settled"
        done |= bit
        e: Entry = entries[i]
        recorded: uint256 = self._record(e.pole, first_interval, intervals, readings, k)
        k += intervals
        self._pay(round, e, recorded)
    self.entries_settled[round] = done


@internal
def _record(
    pole: address, first_interval: uint256, intervals: uint256, readings: DynArray[Reading, MAX_READINGS], k: uint256
) -> uint256:
    # proves the pole's readings over the window and marks each (pole, interval) settled; returns their sum [Wh]
    total: uint256 = 0
    word_index: uint256 = first_interval // 256
    word: uint256 = self.pole_settled[pole][word_index]
    for t: uint256 in range(intervals, bound=MAX_INTERVALS):
        interval: uint256 = first_interval + t
        if interval // 256 != word_index:
            self.pole_settled[pole][word_index] = word
            word_index = interval // 256
            word = self.pole_settled[pole][word_index]
        rd: Reading = readings[k + t]
        ok: bool = staticcall METERING.verify_reading(
            pole, interval * INTERVAL_S, rd.active_wh, rd.reactive_varh, rd.r, rd.vs, rd.proof
        )
        assert ok, "petcon_escrow: reading not proven"
        bit: uint256 = 1 << (interval % 256)
        assert word & bit == 0, "petcon_escrow: already settled"
        word |= bit
        total += rd.active_wh
    self.pole_settled[pole][word_index] = word
    return total


@internal
def _pay(round: uint256, e: Entry, recorded: uint256):
    # moves the entry's money inside total_held: escrow <-> house
    taken: uint256 = min(recorded, e.energy_wh)
    gain: uint256 = e.amount_micro
    penalty: uint256 = 0
    if e.energy_wh != 0:
        missing: uint256 = e.energy_wh - taken
        if e.role == BUYER:
            gain = self._ceil_div(e.amount_micro * taken, e.energy_wh)
        else:
            gain = e.amount_micro * taken // e.energy_wh
        penalty = self._ceil_div(PENALTY_BPS * e.amount_micro * missing, e.energy_wh * BPS)
    due: uint256 = 0
    credit: uint256 = 0
    if e.role == BUYER:
        due = gain + penalty
    elif gain >= penalty:
        credit = gain - penalty
    else:
        due = penalty - gain
    held: uint256 = self.escrowed[round][e.pseudonym]
    debit: uint256 = min(due, held)
    if credit > 0:
        h: uint256 = self.house
        assert h >= credit, "petcon_escrow: house short"
        self.house = h - credit
        held += credit
    else:
        self.house += debit
        held -= debit
    self.escrowed[round][e.pseudonym] = held
    self.settled_party[round][e.pseudonym] = True
    log EntrySettled(
        round=round,
        pseudonym=e.pseudonym,
        role=e.role,
        pole=e.pole,
        energy_wh=e.energy_wh,
        recorded_wh=recorded,
        debited=debit,
        credited=credit,
        shortfall=due - debit,
    )


# ---- coins out ---------------------------------------------------------------------------------------


@external
def withdraw(round: uint256) -> uint256:
    """
    @dev The caller takes its whole escrow of `round`, once an entry of it is settled or the round has closed.
    @param round The auction's id.
    @return What was paid out [micro-coins].
    """
    amount: uint256 = self.escrowed[round][msg.sender]
    assert amount > 0, "petcon_escrow: nothing to withdraw"
    assert (
        self.settled_party[round][msg.sender] or block.timestamp >= self.opened_at[round] + SETTLE_S
    ), "petcon_escrow: not settled"
    self.escrowed[round][msg.sender] = 0
    self.total_held -= amount
    self._push(msg.sender, amount)
    log Withdrawn(round=round, party=msg.sender, amount=amount)
    return amount


@external
def withdraw_house(amount: uint256):
    """
    @dev HOUSE takes `amount` from the house (its earnings; what sellers are credited from).
    @param amount [micro-coins], above 0, at most the house.
    """
    assert msg.sender == HOUSE, "petcon_escrow: caller is not the house"
    assert amount > 0, "petcon_escrow: zero amount"
    h: uint256 = self.house
    assert amount <= h, "petcon_escrow: house short"
    self.house = h - amount
    self.total_held -= amount
    self._push(msg.sender, amount)
    log HouseWithdrawn(amount=amount, house=h - amount)


# ---- views ---------------------------------------------------------------------------------------------


@view
@external
def is_open(round: uint256) -> bool:
    """
    @dev Whether `round` takes escrows and settlements now.
    @param round The auction's id.
    @return True from its opening until SETTLE_S later.
    """
    opened: uint256 = self.opened_at[round]
    return opened != 0 and block.timestamp < opened + SETTLE_S


@view
@external
def is_pole_settled(pole: address, interval: uint256) -> bool:
    """
    @dev Whether the pole's 15-minute interval has paid an entry.
    @param pole The pole's meter.
    @param interval unix seconds // 900.
    @return True once settled.
    """
    return (self.pole_settled[pole][interval // 256] >> (interval % 256)) & 1 == 1


# ---- internals ---------------------------------------------------------------------------------------


@pure
@internal
def _ceil_div(x: uint256, y: uint256) -> uint256:
    q: uint256 = x // y
    if q * y != x:
        q += 1
    return q


@internal
def _pull(amount: uint256):
    assert extcall COIN.transferFrom(msg.sender, self, amount, default_return_value=True), "petcon_escrow: transfer failed"
    assert staticcall COIN.balanceOf(self) >= self.total_held  # the invariant


@internal
def _push(to: address, amount: uint256):
    assert extcall COIN.transfer(to, amount, default_return_value=True), "petcon_escrow: transfer failed"
    assert staticcall COIN.balanceOf(self) >= self.total_held  # the invariant
