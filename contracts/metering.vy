# pragma version ~=0.4.3
"""
@title Smart metering for e-mobility: meter registry, anchored readings, ToU tariffs, roaming settlement
@custom:contract-name metering
@license MIT
@author gridchain
@notice Olivares-Rojas et al.: charging at someone else's premises billed to the EV's owner, not the host.
        The utility (owner) registers meters (the meter's signing key, its owner, community and premises),
        EVs (the EV's signing key and its owner), gateways and which gateway serves which meter, and each
        community's time-of-use tariff (24 hourly prices, UTC; a new version only from a future interval
        boundary, so a price in force is never rewritten; any version is found by binary search).

        Readings: a meter signs EIP-712 `Reading(meter, intervalStart, activeWh, reactiveVarh)` per 15-minute
        interval; the gateway assigned to the meter anchors one Merkle root per meter per day (`anchor_root`,
        once, after the day; version 0). A wrong root has one remedy: a root the meter itself signs,
        `DayRoot(meter, period, root, count, version)`, submitted by anyone (`anchor_signed_root`), replaces it
        if its version is above the one anchored; so neither a gateway nor a stranger can replace the meter's
        word, and an old signature cannot switch back. `verify_reading` proves one signed reading against the
        day's root (leaf: the reading's EIP-712 digest; sorted pairs as snekmate's `merkle_proof_verification`).

        Roaming: the EV signs `SessionStart(ev, meter, start, maxCostWei)` at a host's charge point; its digest
        is the session id. At admission the meter's owner (the host) `reserve`s maxCostWei of the EV owner's
        escrow for the session, once, from escrow not under a withdrawal notice (the start at most an interval
        ahead, a tariff in force at it: the session can be priced). The charge point's meter signs
        `SessionReading(session, firstInterval, energyWh[])`. Anyone may `settle_session` with both: each
        interval is priced at the tariff in force at its start; the host is credited min(cost, maxCostWei), paid
        from the reservation first, then from free escrow, up to what is there (never all-or-nothing: the
        unpaid rest is logged); what is left of the reservation returns to the escrow. A reservation not settled
        RESERVATION_S after its start returns to the escrow (`release`: anyone then, the host at any time).
        Each meter's 15-minute intervals are billed at most once, in any order: a bitmap per meter (256
        intervals a word) refuses a settlement that touches a billed interval, and a reading must begin in
        its start's interval, so a signed start settles at most once.
        Escrow leaves only after a notice (`request_withdrawal`, then `withdraw_escrow` after NOTICE), and
        never a reserved amount. Payouts carry all gas (contract wallets can withdraw) behind a reentrancy lock,
        state written before the transfer.

        Invariant: the contract's balance equals all free escrow plus all reservations plus all credit
        (`total_held`). Deposits and withdrawals move both sides by the same amount; reserving, releasing and
        settling move value between escrow, reservations and credit and leave the total alone. Each function
        that moves ether asserts `self.balance >= total_held` (>=: ether can be forced in); the stateful test
        checks the equality, and each account and reservation, after every step.
@dev Its interface and events, for the contracts that call it (the coming market and escrow):
     `interfaces/IMetering.vyi`. Python twin: `gridchain.core.metering` (the same rules, hashing and revert
     reasons).
"""

from snekmate.auth import ownable
from snekmate.utils import ecdsa
from snekmate.utils import eip712_domain_separator as eip712
from snekmate.utils import merkle_proof_verification as merkle
from interfaces import IMetering

implements: IMetering

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
SETTLE_WINDOW_S: constant(uint256) = 2 * 86400  # [s] after the longest session, for the host to settle
RESERVATION_S: constant(uint256) = MAX_SESSION_INTERVALS * INTERVAL_S + SETTLE_WINDOW_S  # [s] from the start
MASK64: constant(uint256) = 2**64 - 1
MASK160: constant(uint256) = 2**160 - 1
READING_TYPEHASH: constant(bytes32) = keccak256(
    "Reading(address meter,uint256 intervalStart,uint256 activeWh,uint256 reactiveVarh)"
)
DAY_ROOT_TYPEHASH: constant(bytes32) = keccak256(
    "DayRoot(address meter,uint256 period,bytes32 root,uint256 count,uint256 version)"
)
SESSION_START_TYPEHASH: constant(bytes32) = keccak256(
    "SessionStart(address ev,address meter,uint256 start,uint256 maxCostWei)"
)
SESSION_READING_TYPEHASH: constant(bytes32) = keccak256(
    "SessionReading(bytes32 session,uint256 firstInterval,uint256[] energyWh)"
)


NOTICE: public(immutable(uint256))  # [s] between a withdrawal request and the escrow leaving

meter_info: HashMap[address, uint256]  # owner (0-159) | community (160-191) | premises (192-255); 0: none
ev_owner: public(HashMap[address, address])
is_gateway: public(HashMap[address, bool])
gateway_of: public(HashMap[address, address])  # meter -> the one gateway that may anchor its days
root: public(HashMap[address, HashMap[uint256, bytes32]])  # meter -> period (day index) -> Merkle root
root_version: public(HashMap[address, HashMap[uint256, uint256]])  # 0: the gateway's; n > 0: meter-signed
tariff_count: public(HashMap[uint256, uint256])  # community -> versions
tariff_from: HashMap[uint256, HashMap[uint256, uint256]]  # community -> version -> effective from [s]
tariff_words: HashMap[uint256, HashMap[uint256, uint256[6]]]  # four 64-bit hourly prices a word
escrow: public(HashMap[address, uint256])  # [wei] EV owners' prepaid balance, free (not reserved)
notice: HashMap[address, uint256]  # amount [wei] (0-127) | available at [s] (128-255)
reserved: public(HashMap[bytes32, uint256])  # session -> [wei] held for it from its payer's escrow
credit: public(HashMap[address, uint256])  # [wei] hosts' earnings, withdrawable
billed: public(HashMap[address, HashMap[uint256, uint256]])  # meter -> word -> bit i: interval 256 word + i
total_held: public(uint256)  # [wei] all escrow, all reservations and all credit


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
    @dev Owner only: registers a meter by its signing key's address, once.
    @param meter The meter's signing key's address, not the zero address.
    @param owner Who is credited for the roaming sessions the meter meters (the host), not the zero address.
    @param community The meter's community (whose tariff prices its sessions), below 2**32.
    @param premises The premises' number, below 2**64.
    """
    self._check_owner()
    assert meter != empty(address), "metering: meter is the zero address"
    assert owner != empty(address), "metering: owner is the zero address"
    assert community <= MAX_COMMUNITY, "metering: community out of range"
    assert premises <= MAX_PREMISES, "metering: premises out of range"
    assert self.meter_info[meter] == 0, "metering: meter already registered"
    self.meter_info[meter] = convert(owner, uint256) | (community << 160) | (premises << 192)
    log IMetering.MeterRegistered(meter=meter, owner=owner, community=community, premises=premises)


@external
def register_ev(ev: address, owner: address):
    """
    @dev Owner only: registers an EV by its signing key's address, once.
    @param ev The EV's signing key's address, not the zero address.
    @param owner Whose escrow pays the EV's roaming sessions, not the zero address.
    """
    self._check_owner()
    assert ev != empty(address), "metering: ev is the zero address"
    assert owner != empty(address), "metering: owner is the zero address"
    assert self.ev_owner[ev] == empty(address), "metering: EV already registered"
    self.ev_owner[ev] = owner
    log IMetering.EVRegistered(ev=ev, owner=owner)


@external
def set_gateway(gateway: address, allowed: bool):
    """
    @dev Allows or stops an account (a meter data concentrator) to anchor readings of the meters assigned to
         it: stopping a bad gateway takes one call, whatever it serves.
    @param gateway The gateway's account, not the zero address.
    @param allowed True to allow, False to stop.
    """
    self._check_owner()
    assert gateway != empty(address), "metering: gateway is the zero address"
    self.is_gateway[gateway] = allowed
    log IMetering.GatewaySet(gateway=gateway, allowed=allowed)


@external
def assign_gateway(meter: address, gateway: address):
    """
    @dev Owner only: names the one gateway that may anchor `meter`'s days.
    @param meter A registered meter.
    @param gateway Its gateway (the zero address: none).
    """
    self._check_owner()
    assert self.meter_info[meter] != 0, "metering: meter not registered"
    self.gateway_of[meter] = gateway
    log IMetering.GatewayAssigned(meter=meter, gateway=gateway)


@external
def set_tariff(community: uint256, effective_from: uint256, prices: uint256[24]):
    """
    @dev Adds a tariff version for `community` from `effective_from` (a future interval boundary, after the
         last version's start).
    @param community The community, below 2**32.
    @param effective_from When the version starts [s]: a future interval boundary, after the last version's.
    @param prices `prices[h]` [wei/kWh], below 2**64, applies to intervals starting in UTC hour h.
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
    log IMetering.TariffSet(community=community, version=count, effective_from=effective_from, prices_wei_per_kwh=prices)


# -- readings ----------------------------------------------------------------------------------------------
@external
def anchor_root(meter: address, period: uint256, root: bytes32, count: uint256):
    """
    @dev Anchors the Merkle root of `count` signed readings of `meter` in day `period` (once, after the day), by
         the gateway assigned to the meter.
    @param meter A registered meter whose gateway is the caller.
    @param period The day (unix time // 86400), over.
    @param root The Merkle root of the day's signed readings (leaves: their EIP-712 digests), not empty.
    @param count How many readings it holds, 1 .. 96.
    """
    assert self.is_gateway[msg.sender], "metering: caller is not a gateway"
    assert self.meter_info[meter] != 0, "metering: meter not registered"
    assert self.gateway_of[meter] == msg.sender, "metering: caller is not the meter's gateway"
    self._check_root(period, root, count)
    assert self.root[meter][period] == empty(bytes32), "metering: period already anchored"
    self.root[meter][period] = root
    log IMetering.RootAnchored(meter=meter, period=period, root=root, count=count, version=0)


@external
def anchor_signed_root(
    meter: address, period: uint256, root: bytes32, count: uint256, version: uint256, r: uint256, vs: uint256
):
    """
    @dev Anchors a day's root that the meter itself signed (EIP-712 DayRoot, EIP-2098 r, vs); anyone may
         submit it. It replaces the gateway's root or an older meter-signed one: `version` must be above the
         anchored root's (the gateway's is 0), so a stale signature cannot switch back.
    @param meter A registered meter, the signer.
    @param period The day (unix time // 86400), over.
    @param root The Merkle root, not empty.
    @param count How many readings it holds, 1 .. 96.
    @param version Above the version anchored for the day.
    @param r The meter's EIP-712 DayRoot signature: r.
    @param vs The signature's s with the parity of y in its top bit (EIP-2098).
    """
    assert self.meter_info[meter] != 0, "metering: meter not registered"
    self._check_root(period, root, count)
    assert version > self.root_version[meter][period], "metering: root version not newer"
    digest: bytes32 = eip712._hash_typed_data_v4(
        keccak256(abi_encode(DAY_ROOT_TYPEHASH, meter, period, root, count, version))
    )
    assert ecdsa._try_recover_r_vs(digest, r, vs) == meter, "metering: root not signed by the meter"
    self.root[meter][period] = root
    self.root_version[meter][period] = version
    log IMetering.RootAnchored(meter=meter, period=period, root=root, count=count, version=version)


@view
@external
def reading_digest(meter: address, interval_start: uint256, active_wh: uint256, reactive_varh: uint256) -> bytes32:
    """
    @dev The EIP-712 digest of Reading(meter, intervalStart, activeWh, reactiveVarh).
    @param meter The meter.
    @param interval_start The start of the reading's 15-minute interval [s].
    @param active_wh Active energy in the interval [Wh].
    @param reactive_varh Reactive energy in the interval [varh].
    @return The digest: the Merkle leaf, and what the meter signs.
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
    @param meter The meter.
    @param interval_start The start of the reading's 15-minute interval [s].
    @param active_wh Active energy in the interval [Wh].
    @param reactive_varh Reactive energy in the interval [varh].
    @param r The meter's EIP-712 Reading signature: r.
    @param vs The signature's s with the parity of y in its top bit (EIP-2098).
    @param proof The sibling hashes from the leaf to the root (sorted pairs), at most 32.
    @return True iff signed and proved; False otherwise (also when no root is anchored).
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
@nonreentrant
def deposit():
    """
    @dev Adds `msg.value` to the caller's escrow, from which its EVs' roaming sessions are paid.
    """
    assert msg.value > 0, "metering: nothing to deposit"
    self.escrow[msg.sender] += msg.value
    self.total_held += msg.value
    log IMetering.Deposited(owner=msg.sender, amount_wei=msg.value)
    self._check_held()


@external
@nonreentrant
def request_withdrawal(amount_wei: uint256):
    """
    @dev Announces a withdrawal of `amount_wei` from the caller's free escrow (reservations are not), possible
         after NOTICE; a new request replaces the last one. Sessions settled meanwhile are paid first.
    @param amount_wei The amount [wei], 1 .. the caller's free escrow.
    """
    assert amount_wei > 0, "metering: amount is 0"
    assert amount_wei <= self.escrow[msg.sender], "metering: amount exceeds the escrow"
    available_at: uint256 = block.timestamp + NOTICE
    self.notice[msg.sender] = amount_wei | (available_at << 128)
    log IMetering.WithdrawalRequested(owner=msg.sender, amount_wei=amount_wei, available_at=available_at)


@external
@nonreentrant
def withdraw_escrow() -> uint256:
    """
    @dev Pays out the caller's announced withdrawal (at most its free escrow now), once the notice is over.
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
    log IMetering.Withdrawn(account=msg.sender, amount_wei=amount)
    self._pay(msg.sender, amount)
    return amount


@external
@nonreentrant
def withdraw_credit() -> uint256:
    """
    @dev Pays out the caller's credit from roaming sessions at its premises.
    @return uint256 The amount paid [wei].
    """
    amount: uint256 = self.credit[msg.sender]
    assert amount > 0, "metering: no credit"
    self.credit[msg.sender] = 0
    self.total_held -= amount
    log IMetering.Withdrawn(account=msg.sender, amount_wei=amount)
    self._pay(msg.sender, amount)
    return amount


@view
@external
def available_escrow(owner: address) -> uint256:
    """
    @dev The free escrow not under a withdrawal notice: what a reservation may take.
    @param owner The EV owner.
    @return The amount [wei].
    """
    return self._available(owner)


# -- roaming settlement ------------------------------------------------------------------------------------
@external
@nonreentrant
def reserve(
    ev: address, meter: address, start: uint256, max_cost_wei: uint256, ev_r: uint256, ev_vs: uint256
) -> bytes32:
    """
    @dev At admission, the meter's owner (the host) reserves the session's signed `max_cost_wei` of the EV
         owner's escrow not under a withdrawal notice, once per session, so the session can be settled up to
         it. The EV signed SessionStart(ev, meter, start, max_cost_wei).
    @param ev A registered EV, the signer.
    @param meter A registered meter whose owner is the caller.
    @param start The session's start [s], at most an interval ahead, a tariff in force at it.
    @param max_cost_wei The most the session may cost [wei], above 0, at most the payer's available escrow.
    @param ev_r The EV's SessionStart signature: r.
    @param ev_vs The signature's s with the parity of y in its top bit (EIP-2098).
    @return bytes32 The session id.
    """
    payer: address = self.ev_owner[ev]
    assert payer != empty(address), "metering: EV not registered"
    info: uint256 = self.meter_info[meter]
    assert info != 0, "metering: meter not registered"
    assert msg.sender == convert(info & MASK160, address), "metering: caller is not the meter's owner"
    session: bytes32 = self._session_id(ev, meter, start, max_cost_wei)
    assert ecdsa._try_recover_r_vs(session, ev_r, ev_vs) == ev, "metering: session not signed by the EV"
    assert max_cost_wei > 0, "metering: max cost is zero"
    # at the plug, not later: the lock lasts at most RESERVATION_S (and one interval of clock skew) from now
    assert start <= block.timestamp + INTERVAL_S, "metering: start too far ahead"
    assert not self._expired(start), "metering: reservation would be expired"
    assert self.reserved[session] == 0, "metering: session already reserved"
    interval: uint256 = start // INTERVAL_S
    assert (self.billed[meter][interval // 256] >> (interval % 256)) & 1 == 0, "metering: start interval already billed"
    # a tariff is in force at the start, so at every later interval: the session can be priced
    self._version_at((info >> 160) & (2**32 - 1), start)
    assert max_cost_wei <= self._available(payer), "metering: escrow too low"
    self.escrow[payer] -= max_cost_wei
    self.reserved[session] = max_cost_wei  # escrow became a reservation: `total_held` is unchanged
    log IMetering.Reserved(
        session=session, payer=payer, meter=meter, ev=ev, start=start, amount_wei=max_cost_wei,
        expires_at=start + RESERVATION_S,
    )
    return session


@external
@nonreentrant
def release(ev: address, meter: address, start: uint256, max_cost_wei: uint256) -> uint256:
    """
    @dev Returns a session's unsettled reservation to its payer's escrow: anyone may once RESERVATION_S have
         passed since the start; the meter's owner (who gives up its guarantee) at any time.
    @param ev The session's EV.
    @param meter The session's meter.
    @param start The session's start [s].
    @param max_cost_wei The session's signed maximum cost [wei].
    @return uint256 The amount returned [wei].
    """
    session: bytes32 = self._session_id(ev, meter, start, max_cost_wei)
    amount: uint256 = self.reserved[session]
    assert amount > 0, "metering: no reservation"
    if msg.sender != convert(self.meter_info[meter] & MASK160, address):
        assert self._expired(start), "metering: reservation not expired"
    payer: address = self.ev_owner[ev]
    self.reserved[session] = 0
    self.escrow[payer] += amount
    log IMetering.Released(session=session, payer=payer, amount_wei=amount)
    return amount


@external
@nonreentrant
def settle_session(
    ev: address,
    meter: address,
    start: uint256,
    max_cost_wei: uint256,
    ev_r: uint256,
    ev_vs: uint256,
    first_interval: uint256,
    energy_wh: DynArray[uint256, MAX_SESSION_INTERVALS],
    meter_r: uint256,
    meter_vs: uint256,
) -> uint256:
    """
    @dev Bills a roaming session to the EV's owner and credits the host (the meter's owner). The EV signed
         SessionStart(ev, meter, start, max_cost_wei); the meter signed SessionReading(session, first_interval,
         energy_wh). The host gets min(cost, max_cost_wei), from the session's reservation first, then from
         the payer's free escrow, up to what is there; the rest of the reservation returns to the escrow.
    @param ev A registered EV, the signer of the start.
    @param meter A registered meter, the signer of the reading.
    @param start The session's start [s].
    @param max_cost_wei The session's signed maximum cost [wei].
    @param ev_r The EV's SessionStart signature: r.
    @param ev_vs The signature's s with the parity of y in its top bit (EIP-2098).
    @param first_interval The index of the first 15-minute interval (start // 900).
    @param energy_wh The energy of each interval from the first [Wh], 1 .. 96 intervals, each at most 10**6.
    @param meter_r The meter's SessionReading signature: r.
    @param meter_vs The signature's s with the parity of y in its top bit (EIP-2098).
    @return uint256 What the host was credited [wei].
    """
    payer: address = self.ev_owner[ev]
    assert payer != empty(address), "metering: EV not registered"
    info: uint256 = self.meter_info[meter]
    assert info != 0, "metering: meter not registered"
    session: bytes32 = self._session_id(ev, meter, start, max_cost_wei)
    assert ecdsa._try_recover_r_vs(session, ev_r, ev_vs) == ev, "metering: session not signed by the EV"
    n: uint256 = len(energy_wh)
    energies_hash: bytes32 = keccak256(slice(abi_encode(energy_wh), 64, 32 * n))
    reading: bytes32 = eip712._hash_typed_data_v4(
        keccak256(abi_encode(SESSION_READING_TYPEHASH, session, first_interval, energies_hash))
    )
    assert ecdsa._try_recover_r_vs(reading, meter_r, meter_vs) == meter, "metering: reading not signed by the meter"
    assert n > 0, "metering: interval count out of range"
    # the reading begins in the start's interval: with the bitmap, one signed start settles at most once
    assert first_interval == start // INTERVAL_S, "metering: reading does not begin at the session's start"
    self._mark_billed(meter, first_interval, n)
    now_interval: uint256 = block.timestamp // INTERVAL_S  # first + n <= now_interval, without overflow:
    assert n <= now_interval and first_interval <= now_interval - n, "metering: session not over"

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

    held: uint256 = self.reserved[session]
    paid: uint256 = min(min(cost, max_cost_wei), held + self.escrow[payer])
    host: address = convert(info & MASK160, address)
    if held != 0:
        self.reserved[session] = 0
    # the reservation pays first, its rest returns; then free escrow: `total_held` is unchanged
    self.escrow[payer] = self.escrow[payer] + held - paid
    self.credit[host] += paid
    log IMetering.SessionSettled(
        session=session, payer=payer, host=host, ev=ev, meter=meter, first_interval=first_interval,
        intervals=n, energy_wh=total_wh, cost_wei=cost, paid_wei=paid,
    )
    return paid


# -- views -------------------------------------------------------------------------------------------------
@view
@external
def meter(meter: address) -> (address, uint256, uint256):
    """
    @dev A meter's registration.
    @param meter The meter.
    @return address Its owner (empty: not registered).
    @return uint256 Its community.
    @return uint256 Its premises.
    """
    info: uint256 = self.meter_info[meter]
    return convert(info & MASK160, address), (info >> 160) & (2**32 - 1), info >> 192


@view
@external
def session_id(ev: address, meter: address, start: uint256, max_cost_wei: uint256) -> bytes32:
    """
    @dev The session id: what the EV signs.
    @param ev The EV.
    @param meter The meter.
    @param start The session's start [s].
    @param max_cost_wei The session's maximum cost [wei].
    @return bytes32 The EIP-712 digest of SessionStart(ev, meter, start, maxCostWei).
    """
    return self._session_id(ev, meter, start, max_cost_wei)


@view
@external
def is_billed(meter: address, interval: uint256) -> bool:
    """
    @dev Whether a meter's interval is billed.
    @param meter The meter.
    @param interval The index of the 15-minute span (unix time // 900).
    @return bool True iff it is billed.
    """
    return (self.billed[meter][interval // 256] >> (interval % 256)) & 1 == 1


@view
@external
def price_at(community: uint256, t: uint256) -> uint256:
    """
    @dev The price in force at a time; reverts if no tariff is.
    @param community The community.
    @param t The time [s].
    @return uint256 The price [wei/kWh].
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
    @dev The announced withdrawal.
    @param owner The EV owner.
    @return uint256 Its amount [wei] (0: none).
    @return uint256 When it becomes possible [s].
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
def _session_id(ev: address, meter: address, start: uint256, max_cost_wei: uint256) -> bytes32:
    return eip712._hash_typed_data_v4(keccak256(abi_encode(SESSION_START_TYPEHASH, ev, meter, start, max_cost_wei)))


@view
@internal
def _check_root(period: uint256, root: bytes32, count: uint256):
    assert root != empty(bytes32), "metering: empty root"
    assert count > 0 and count <= READINGS_PER_PERIOD, "metering: count out of range"
    # (period + 1) * PERIOD_S <= now, without overflow
    assert period < block.timestamp // PERIOD_S, "metering: period not over"


@view
@internal
def _available(owner: address) -> uint256:
    return self.escrow[owner] - min(self.notice[owner] & (2**128 - 1), self.escrow[owner])


@view
@internal
def _expired(start: uint256) -> bool:
    """
    @dev True once RESERVATION_S have passed since `start` (without overflow for any start).
    """
    return block.timestamp >= start and block.timestamp - start >= RESERVATION_S


@internal
def _mark_billed(meter: address, first: uint256, n: uint256):
    """
    @dev Marks intervals [first, first + n) of `meter` billed (n <= 96: at most two words); reverts if any is.
    """
    word: uint256 = first // 256
    bit: uint256 = first % 256
    mask: uint256 = max_value(uint256) << bit  # bits bit .. 255, or only n of them:
    rest: uint256 = 0  # intervals that fall in the next word
    if bit + n <= 256:
        mask = ((1 << n) - 1) << bit
    else:
        rest = bit + n - 256
    bits: uint256 = self.billed[meter][word]
    assert bits & mask == 0, "metering: intervals already billed"
    if rest == 0:
        self.billed[meter][word] = bits | mask
        return
    next_mask: uint256 = (1 << rest) - 1
    next_bits: uint256 = self.billed[meter][word + 1]
    assert next_bits & next_mask == 0, "metering: intervals already billed"
    self.billed[meter][word] = bits | mask
    self.billed[meter][word + 1] = next_bits | next_mask


@internal
def _pay(to: address, amount: uint256):
    """
    @dev Sends `amount` with all gas (a contract wallet may need more than 2,300); callers hold the lock and
         have written their state already.
    """
    ok: bool = raw_call(to, b"", value=amount, revert_on_failure=False)
    assert ok, "metering: transfer failed"
    self._check_held()


@view
@internal
def _version_at(community: uint256, t: uint256) -> (uint256, uint256):
    """
    @dev The tariff version in force at `t` and the start of the next version (max_value when none): the
         newest first (a session is almost always under it), else a binary search over the versions' starts.
    """
    count: uint256 = self.tariff_count[community]
    assert count > 0, "metering: no tariff in force"
    if self.tariff_from[community][count - 1] <= t:
        return count - 1, max_value(uint256)
    # the last version starting at or before t: from[lo] <= t < from[hi], if version 0 has started
    assert self.tariff_from[community][0] <= t, "metering: no tariff in force"
    lo: uint256 = 0
    hi: uint256 = count - 1
    for _: uint256 in range(256):
        if hi - lo <= 1:
            break
        mid: uint256 = (lo + hi) // 2
        if self.tariff_from[community][mid] <= t:
            lo = mid
        else:
            hi = mid
    return lo, self.tariff_from[community][hi]


@view
@internal
def _check_owner():
    assert msg.sender == ownable.owner, "metering: caller is not the owner"


@view
@internal
def _check_held():
    assert self.balance >= self.total_held, "metering: balance below escrow, reservations and credit"
