# pragma version ~=0.4.3
"""
@title Smart metering for e-mobility: meter registry, anchored readings, ToU tariffs, roaming settlement
@custom:contract-name metering
@license MIT
@notice Olivares-Rojas et al.: charging at someone else's premises billed to the EV's owner, not the host.
        The utility (owner) registers meters (the meter's signing key, its owner, community and premises),
        EVs (the EV's signing key and its owner), gateways, and each community's time-of-use tariff (24
        hourly prices, UTC; a new version only from a future interval boundary, so a price in force is never
        rewritten).

        Readings: a meter signs EIP-712 `Reading(meter, intervalStart, activeWh, reactiveVarh)` per 15-minute
        interval; a gateway anchors one Merkle root per meter per day (`anchor_root`, once, after the day);
        `verify_reading` proves one signed reading against it (leaf: the reading's EIP-712 digest; sorted
        pairs as snekmate's `merkle_proof_verification`).

        Roaming: the EV signs `SessionStart(ev, meter, start)` at a host's charge point; its digest is the
        session id. The charge point's meter signs `SessionReading(session, firstInterval, energyWh[])`.
        Anyone may `settle_session` with both: each interval is priced at the tariff in force at its start,
        the EV owner's prepaid escrow pays, the meter's owner (the host) is credited. A meter's intervals are
        billed once: a settlement must begin at or after the end of the meter's previous one (`billed_until`),
        and in its start's interval, so an EV's signed start is settled at most once.
        Escrow leaves only after a notice (`request_withdrawal`, then `withdraw_escrow` after NOTICE), so a
        session that a charge point accepted can still be settled.

        Invariant: the contract's balance equals the sum of all escrow plus the sum of all credit
        (`total_held`). Deposits and withdrawals move both sides by the same amount; a settlement moves value
        from an escrow to a credit and leaves the total alone. Each function that moves ether asserts
        `self.balance >= total_held` (>=: ether can be forced in); the stateful test checks the equality,
        and each account, after every step.
@dev Python twin: `gridchain.core.metering` (the same rules, hashing and revert reasons).
"""

from snekmate.auth import ownable
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712
from snekmate.utils import merkle_proof_verification as merkle

initializes: ownable
initializes: eip712
exports: (ownable.owner, ownable.transfer_ownership, eip712.eip712Domain)


INTERVAL_S: constant(uint256) = 900
PERIOD_S: constant(uint256) = 86400
READINGS_PER_PERIOD: constant(uint256) = PERIOD_S // INTERVAL_S
MAX_SESSION_INTERVALS: constant(uint256) = 96
MAX_INTERVAL_WH: constant(uint256) = 1_000_000
MAX_PROOF: constant(uint256) = 32
MAX_COMMUNITY: constant(uint256) = 2**32 - 1
MAX_PREMISES: constant(uint256) = 2**64 - 1
MAX_PRICE: constant(uint256) = 2**64 - 1
MAX_NOTICE_S: constant(uint256) = 30 * 86400
MASK64: constant(uint256) = 2**64 - 1
MASK160: constant(uint256) = 2**160 - 1
READING_TYPEHASH: constant(bytes32) = keccak256(
    "Reading(address meter,uint256 intervalStart,uint256 activeWh,uint256 reactiveVarh)"
)
SESSION_START_TYPEHASH: constant(bytes32) = keccak256("SessionStart(address ev,address meter,uint256 start)")
SESSION_READING_TYPEHASH: constant(bytes32) = keccak256(
    "SessionReading(bytes32 session,uint256 firstInterval,uint256[] energyWh)"
)


event MeterRegistered:
    meter: indexed(address)
    owner: indexed(address)
    community: uint256
    premises: uint256

event EVRegistered:
    ev: indexed(address)
    owner: indexed(address)

event GatewaySet:
    gateway: indexed(address)
    allowed: bool

event TariffSet:
    community: indexed(uint256)
    version: uint256
    effective_from: uint256
    prices_wei_per_kwh: uint256[24]

event RootAnchored:
    meter: indexed(address)
    period: indexed(uint256)
    root: bytes32
    count: uint256

event Deposited:
    owner: indexed(address)
    amount_wei: uint256

event WithdrawalRequested:
    owner: indexed(address)
    amount_wei: uint256
    available_at: uint256

event SessionSettled:
    session: indexed(bytes32)
    payer: indexed(address)
    host: indexed(address)
    ev: address
    meter: address
    first_interval: uint256
    intervals: uint256
    energy_wh: uint256
    cost_wei: uint256

event Withdrawn:
    account: indexed(address)
    amount_wei: uint256


NOTICE: public(immutable(uint256))  # [s] between a withdrawal request and the escrow leaving

meter_info: HashMap[address, uint256]  # owner (0-159) | community (160-191) | premises (192-255); 0: none
ev_owner: public(HashMap[address, address])
is_gateway: public(HashMap[address, bool])
root: public(HashMap[address, HashMap[uint256, bytes32]])  # meter -> period (day index) -> Merkle root
tariff_count: public(HashMap[uint256, uint256])  # community -> versions
tariff_from: HashMap[uint256, HashMap[uint256, uint256]]  # community -> version -> effective from [s]
tariff_words: HashMap[uint256, HashMap[uint256, uint256[6]]]  # four 64-bit hourly prices a word
escrow: public(HashMap[address, uint256])  # [wei] EV owners' prepaid balance
notice: HashMap[address, uint256]  # amount [wei] (0-127) | available at [s] (128-255)
credit: public(HashMap[address, uint256])  # [wei] hosts' earnings, withdrawable
billed_until: public(HashMap[address, uint256])  # meter -> first interval not yet billed
total_held: public(uint256)  # [wei] all escrow plus all credit


@deploy
def __init__(notice_s: uint256):
    """
    @dev The deployer becomes the owner (the utility).
    @param notice_s Notice before escrow can be withdrawn [s], 0 .. 30 days.
    """
    assert notice_s <= MAX_NOTICE_S, "metering: notice_s out of range"
    ownable.__init__()
    eip712.__init__("gridchain metering", "1")
    NOTICE = notice_s


# -- the utility -------------------------------------------------------------------------------------------
@external
def register_meter(meter: address, owner: address, community: uint256, premises: uint256):
    """
    @dev Registers a meter by its signing key's address; `owner` is credited for roaming sessions it meters.
    """
    self._check_owner()
    assert meter != empty(address), "metering: meter is the zero address"
    assert owner != empty(address), "metering: owner is the zero address"
    assert community <= MAX_COMMUNITY, "metering: community out of range"
    assert premises <= MAX_PREMISES, "metering: premises out of range"
    assert self.meter_info[meter] == 0, "metering: meter already registered"
    self.meter_info[meter] = convert(owner, uint256) | (community << 160) | (premises << 192)
    log MeterRegistered(meter=meter, owner=owner, community=community, premises=premises)


@external
def register_ev(ev: address, owner: address):
    """
    @dev Registers an EV by its signing key's address; `owner`'s escrow pays the EV's roaming sessions.
    """
    self._check_owner()
    assert ev != empty(address), "metering: ev is the zero address"
    assert owner != empty(address), "metering: owner is the zero address"
    assert self.ev_owner[ev] == empty(address), "metering: EV already registered"
    self.ev_owner[ev] = owner
    log EVRegistered(ev=ev, owner=owner)


@external
def set_gateway(gateway: address, allowed: bool):
    """
    @dev Allows or stops an account (a meter data concentrator) to anchor readings.
    """
    self._check_owner()
    assert gateway != empty(address), "metering: gateway is the zero address"
    self.is_gateway[gateway] = allowed
    log GatewaySet(gateway=gateway, allowed=allowed)


@external
def set_tariff(community: uint256, effective_from: uint256, prices: uint256[24]):
    """
    @dev Adds a tariff version for `community` from `effective_from` (a future interval boundary, after the
         last version's start): `prices[h]` [wei/kWh] applies to intervals starting in UTC hour h.
    """
    self._check_owner()
    assert community <= MAX_COMMUNITY, "metering: community out of range"
    assert effective_from >= block.timestamp, "metering: tariff would start in the past"
    assert effective_from % INTERVAL_S == 0, "metering: effective_from not on an interval boundary"
    count: uint256 = self.tariff_count[community]
    if count > 0:
        assert effective_from > self.tariff_from[community][count - 1], "metering: tariff must start after the last one"
    words: uint256[6] = empty(uint256[6])
    for h: uint256 in range(24):
        assert prices[h] <= MAX_PRICE, "metering: price out of range"
        words[h // 4] |= prices[h] << (64 * (h % 4))
    self.tariff_from[community][count] = effective_from
    self.tariff_words[community][count] = words
    self.tariff_count[community] = count + 1
    log TariffSet(community=community, version=count, effective_from=effective_from, prices_wei_per_kwh=prices)


# -- readings ----------------------------------------------------------------------------------------------
@external
def anchor_root(meter: address, period: uint256, root: bytes32, count: uint256):
    """
    @dev Anchors the Merkle root of `count` signed readings of `meter` in day `period` (once, after the day).
    """
    assert self.is_gateway[msg.sender], "metering: caller is not a gateway"
    assert self.meter_info[meter] != 0, "metering: meter not registered"
    assert root != empty(bytes32), "metering: empty root"
    assert count > 0 and count <= READINGS_PER_PERIOD, "metering: count out of range"
    assert (period + 1) * PERIOD_S <= block.timestamp, "metering: period not over"
    assert self.root[meter][period] == empty(bytes32), "metering: period already anchored"
    self.root[meter][period] = root
    log RootAnchored(meter=meter, period=period, root=root, count=count)


@view
@external
def reading_digest(meter: address, interval_start: uint256, active_wh: uint256, reactive_varh: uint256) -> bytes32:
    """
    @dev The EIP-712 digest of a reading: the Merkle leaf, and what the meter signs.
    """
    return self._reading_digest(meter, interval_start, active_wh, reactive_varh)


@view
@external
def verify_reading(
    meter: address,
    interval_start: uint256,
    active_wh: uint256,
    reactive_varh: uint256,
    r: uint256,
    vs: uint256,
    proof: DynArray[bytes32, MAX_PROOF],
) -> bool:
    """
    @dev True iff the reading is signed by `meter` (EIP-2098 r, vs) and `proof` leads from its digest to the
         root anchored for the meter's day of `interval_start`.
    """
    root: bytes32 = self.root[meter][interval_start // PERIOD_S]
    if root == empty(bytes32):
        return False
    digest: bytes32 = self._reading_digest(meter, interval_start, active_wh, reactive_varh)
    if ecdsa._try_recover_r_vs(digest, r, vs) != meter:
        return False
    return merkle._verify(proof, root, digest)


# -- the escrow --------------------------------------------------------------------------------------------
@external
@payable
def deposit():
    """
    @dev Adds `msg.value` to the caller's escrow, from which its EVs' roaming sessions are paid.
    """
    assert msg.value > 0, "metering: nothing to deposit"
    self.escrow[msg.sender] += msg.value
    self.total_held += msg.value
    log Deposited(owner=msg.sender, amount_wei=msg.value)
    self._check_held()


@external
def request_withdrawal(amount_wei: uint256):
    """
    @dev Announces a withdrawal of `amount_wei` from the caller's escrow, possible after NOTICE; a new
         request replaces the last one. Sessions settled meanwhile are paid first.
    """
    assert amount_wei > 0 and amount_wei <= self.escrow[msg.sender], "metering: amount exceeds the escrow"
    available_at: uint256 = block.timestamp + NOTICE
    self.notice[msg.sender] = amount_wei | (available_at << 128)
    log WithdrawalRequested(owner=msg.sender, amount_wei=amount_wei, available_at=available_at)


@external
def withdraw_escrow() -> uint256:
    """
    @dev Pays out the caller's announced withdrawal (at most its escrow now), once the notice is over.
    @return uint256 The amount paid [wei].
    """
    word: uint256 = self.notice[msg.sender]
    amount: uint256 = word & (2**128 - 1)
    assert amount > 0, "metering: no withdrawal requested"
    assert block.timestamp >= word >> 128, "metering: notice period not over"
    amount = min(amount, self.escrow[msg.sender])
    self.notice[msg.sender] = 0
    self.escrow[msg.sender] -= amount
    self.total_held -= amount
    log Withdrawn(account=msg.sender, amount_wei=amount)
    send(msg.sender, amount)
    self._check_held()
    return amount


@external
def withdraw_credit() -> uint256:
    """
    @dev Pays out the caller's credit from roaming sessions at its premises.
    @return uint256 The amount paid [wei].
    """
    amount: uint256 = self.credit[msg.sender]
    assert amount > 0, "metering: no credit"
    self.credit[msg.sender] = 0
    self.total_held -= amount
    log Withdrawn(account=msg.sender, amount_wei=amount)
    send(msg.sender, amount)
    self._check_held()
    return amount


@view
@external
def available_escrow(owner: address) -> uint256:
    """
    @dev The escrow not under a withdrawal notice [wei]: what a charge point may rely on.
    """
    return self.escrow[owner] - min(self.notice[owner] & (2**128 - 1), self.escrow[owner])


# -- roaming settlement ------------------------------------------------------------------------------------
@external
def settle_session(
    ev: address,
    meter: address,
    start: uint256,
    ev_r: uint256,
    ev_vs: uint256,
    first_interval: uint256,
    energy_wh: DynArray[uint256, MAX_SESSION_INTERVALS],
    meter_r: uint256,
    meter_vs: uint256,
) -> uint256:
    """
    @dev Bills a roaming session to the EV's owner and credits the host (the meter's owner). The EV signed
         SessionStart(ev, meter, start); the meter signed SessionReading(session, first_interval, energy_wh).
    @return uint256 The cost [wei].
    """
    payer: address = self.ev_owner[ev]
    assert payer != empty(address), "metering: EV not registered"
    info: uint256 = self.meter_info[meter]
    assert info != 0, "metering: meter not registered"
    session: bytes32 = eip712._hash_typed_data_v4(keccak256(abi_encode(SESSION_START_TYPEHASH, ev, meter, start)))
    assert ecdsa._try_recover_r_vs(session, ev_r, ev_vs) == ev, "metering: session not signed by the EV"
    n: uint256 = len(energy_wh)
    energies_hash: bytes32 = keccak256(slice(abi_encode(energy_wh), 64, 32 * n))
    reading: bytes32 = eip712._hash_typed_data_v4(
        keccak256(abi_encode(SESSION_READING_TYPEHASH, session, first_interval, energies_hash))
    )
    assert ecdsa._try_recover_r_vs(reading, meter_r, meter_vs) == meter, "metering: reading not signed by the meter"
    assert n > 0, "metering: interval count out of range"
    # the reading begins in the start's interval: with billed_until, one signed start settles at most once
    assert first_interval == start // INTERVAL_S, "metering: reading does not begin at the session's start"
    assert first_interval >= self.billed_until[meter], "metering: intervals already billed"
    end: uint256 = first_interval + n
    assert end * INTERVAL_S <= block.timestamp, "metering: session not over"

    community: uint256 = (info >> 160) & (2**32 - 1)
    total_wh: uint256 = 0
    cost: uint256 = 0  # [wei * 1000]
    version: uint256 = 0
    next_from: uint256 = 0  # the start of the version after `version`; 0 before the first lookup
    for i: uint256 in range(MAX_SESSION_INTERVALS):
        if i == n:
            break
        e: uint256 = energy_wh[i]
        assert e <= MAX_INTERVAL_WH, "metering: interval energy out of range"
        t: uint256 = (first_interval + i) * INTERVAL_S
        if next_from == 0 or t >= next_from:
            version, next_from = self._version_at(community, t)
        hour: uint256 = (t % 86400) // 3600
        # one price word read per four hours of the session (warm after the first read)
        cost += e * ((self.tariff_words[community][version][hour // 4] >> (64 * (hour % 4))) & MASK64)
        total_wh += e
    cost //= 1000

    assert self.escrow[payer] >= cost, "metering: escrow too low"
    host: address = convert(info & MASK160, address)
    self.billed_until[meter] = end
    self.escrow[payer] -= cost
    self.credit[host] += cost  # escrow became credit: `total_held` is unchanged
    log SessionSettled(
        session=session, payer=payer, host=host, ev=ev, meter=meter, first_interval=first_interval,
        intervals=n, energy_wh=total_wh, cost_wei=cost,
    )
    return cost


# -- views -------------------------------------------------------------------------------------------------
@view
@external
def meter(meter: address) -> (address, uint256, uint256):
    """
    @dev A meter's owner, community and premises (owner empty: not registered).
    """
    info: uint256 = self.meter_info[meter]
    return convert(info & MASK160, address), (info >> 160) & (2**32 - 1), info >> 192


@view
@external
def price_at(community: uint256, t: uint256) -> uint256:
    """
    @dev The price in force at time `t` [wei/kWh] (reverts if no tariff is).
    """
    version: uint256 = 0
    next_from: uint256 = 0
    version, next_from = self._version_at(community, t)
    hour: uint256 = (t % 86400) // 3600
    return (self.tariff_words[community][version][hour // 4] >> (64 * (hour % 4))) & MASK64


@view
@external
def withdrawal_notice(owner: address) -> (uint256, uint256):
    """
    @dev The announced withdrawal: amount [wei] and when it becomes possible [s].
    """
    word: uint256 = self.notice[owner]
    return word & (2**128 - 1), word >> 128


# -- internals ---------------------------------------------------------------------------------------------
@view
@internal
def _reading_digest(meter: address, interval_start: uint256, active_wh: uint256, reactive_varh: uint256) -> bytes32:
    return eip712._hash_typed_data_v4(
        keccak256(abi_encode(READING_TYPEHASH, meter, interval_start, active_wh, reactive_varh))
    )


@view
@internal
def _version_at(community: uint256, t: uint256) -> (uint256, uint256):
    """
    @dev The tariff version in force at `t` and the start of the next version (max_value when none).
    """
    count: uint256 = self.tariff_count[community]
    for k: uint256 in range(256):  # newest first: a session is almost always under the newest version
        if k == count:
            break
        v: uint256 = count - 1 - k
        if self.tariff_from[community][v] <= t:
            if v + 1 == count:
                return v, max_value(uint256)
            return v, self.tariff_from[community][v + 1]
    raise "metering: no tariff in force"


@view
@internal
def _check_owner():
    assert msg.sender == ownable.owner, "metering: caller is not the owner"


@view
@internal
def _check_held():
    assert self.balance >= self.total_held, "metering: balance below escrow and credit"
