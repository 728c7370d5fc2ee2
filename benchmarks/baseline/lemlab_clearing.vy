# pragma version ~=0.4.3
"""
@title Baseline: a faithful port of lemlab's on-chain market clearing (TUM, ClearingExAnte.sol)
@custom:contract-name lemlab_clearing
@license GPL-3.0-only (a port of GPL-3.0 code: tum-ewk/lemlab is licensed under the GNU GPL v3)
@notice For gas comparison only (benchmarks/bench_market_baseline.py). Source: github.com/tum-ewk/lemlab,
        Truffle/contracts/ClearingExAnte.sol, Sorting.sol and LemLib.sol at commit
        e1c7ee02740a14c4e207e1c1d98b23e012fda41f (2021-10-18, the last commit touching the contracts; the folder
        was later removed). It is the blockchain implementation of the LEM evaluated in Zade, Feroce, Guridi,
        Lumpp, Tzscheutschler, "Evaluating the added value of blockchains to local energy markets", IET Smart
        Grid 5(4), 2022, doi:10.1049/stg2.12058.
        What is ported (the path `market_clearing` -> `single_clearing` takes with the flags lemlab's
        simulations use: no supplier bids, no shuffle, not verbose, simulation_test false):
        - submission: `pushOfferOrBid` appends the whole offer_bid struct (ten fields, one storage word each
          as in Solidity, where short strings take one word) to the temporary (and/or permanent) list;
        - clearing of each delivery period: getFilteredOffersBids_memory (two passes over the stored list,
          copying the positions of that period with energy > 0), aggregate_identical_positions (insertion
          sort by price then quality ascending, then positions of one user with equal price and quality
          summed), insertionSortOffersBidsPrice_Quality (offers by price ascending, bids by price
          descending, ties by quality descending) with lemlab's insertion sort (getInsertionSortIndices_
          two_keys: compare with the first, then the last, then scan from the front), merge_offers_bids_
          memory (cumulated energies, pairs walked while both sides last, a pair kept if offer price <= bid
          price, traded energy = difference of the cumulated energies), addTypesQuality_share, and
          calc_market_clearing_prices: uniform price = (offer price + bid price) // 2 of the LAST kept pair
          (pay-as-clear; gridchain's rule 0 has the same formula), discriminative price per pair;
        - each kept pair pushed to market_results_total (fifteen words each).
        Deviations, each one cheaper than the original (so the port's gas is a lower bound on lemlab's):
        - id_user and type_position are strings in lemlab; here an address and a number (same one storage
          word each, no keccak for comparisons: compareStrings becomes ==).
        - lemlab calls Sorting and LemLib as separate deployed contracts (ABI-encoding whole struct arrays
          on every call); here internal functions.
        - add_pos allocates a new index array on every insertion; here the index array is shifted in place
          (same comparisons, same result). getEnergyCumulated re-sums 0..i for every i (O(n^2)); here a
          running sum (same values).
        - in memory a position is one word, price << 192 | quality << 184 | energy << 64 | its index in
          the stored list, instead of a whole struct (Vyper allocates every memory array at its bound, and
          copies of struct arrays at MAX_SIDE would cost millions of gas in memory expansion alone); the
          whole struct is still read from storage once, as lemlab copies it, and user and number are read
          back (warm) from storage where lemlab reads them from its memory copy. Hence price < 2**64,
          quality < 2**8, energy < 2**120 per position (lemlab: uint256), checked at the clearing.
        - Vyper has no recursion; none is needed (insertion sort).
        - not ported (not on the clearing path gridchain compares with): user/meter registries and their
          filter, settlement and balance updates (update_balances false), supplier bids, shuffling,
          verbose logging. clear_temp_data only resets lengths (Solidity's delete zeroes every word).
        lemlab has no access control on pushOfferOrBid and no zones or grid fees: an order's zone is not
        seen here. Invariant: each delivery period's kept pairs trade sum(qty) <= min(offered, bid energy),
        asserted after the merge.
"""

MAX_STORED: constant(uint256) = 8192  # positions one list may hold
MAX_SIDE: constant(uint256) = 512  # positions of one side in one delivery period
MAX_PAIRS: constant(uint256) = 2 * MAX_SIDE
MAX_RESULTS: constant(uint256) = 65536
PRICE_SHIFT: constant(uint256) = 192
QUALITY_SHIFT: constant(uint256) = 184
QTY_SHIFT: constant(uint256) = 64
INDEX_MASK: constant(uint256) = 2**64 - 1
QTY_MASK: constant(uint256) = 2**120 - 1


struct OfferBid:
    id_user: address
    qty_energy: uint256
    price_energy: uint256
    quality_energy: uint256
    premium_preference_quality: uint256
    type_position: uint256
    number_position: uint256
    status_position: uint256
    t_submission: uint256
    ts_delivery: uint256


struct MarketResultTotal:
    id_user_offer: address
    price_energy_offer: uint256
    number_position_offer: uint256
    ts_delivery: uint256
    id_user_bid: address
    price_energy_bid: uint256
    number_position_bid: uint256
    price_energy_market_uniform: uint256
    price_energy_market_discriminative: uint256
    qty_energy_traded: uint256
    share_quality_NA: uint256
    share_quality_local: uint256
    share_quality_green: uint256
    share_quality_green_local: uint256
    t_cleared: uint256


offers: public(DynArray[OfferBid, MAX_STORED])
bids: public(DynArray[OfferBid, MAX_STORED])
temp_offers: public(DynArray[OfferBid, MAX_STORED])
temp_bids: public(DynArray[OfferBid, MAX_STORED])
market_results_total: public(DynArray[MarketResultTotal, MAX_RESULTS])


@external
def push_offer_or_bid(ob: OfferBid, is_offer: bool, temp: bool, permanent: bool):
    """
    @notice lemlab's pushOfferOrBid: store a position in the temporary and/or permanent list.
    @param ob The position (user, energy, price, quality, ..., delivery period).
    @param is_offer True for an offer (sell), false for a bid (buy).
    @param temp Append to the temporary list (the one the clearing reads).
    @param permanent Append to the permanent list.
    """
    if is_offer:
        if temp:
            self.temp_offers.append(ob)
        if permanent:
            self.offers.append(ob)
    else:
        if temp:
            self.temp_bids.append(ob)
        if permanent:
            self.bids.append(ob)


@external
def clear_temp_data():
    """
    @notice lemlab's clearTempData: forget the temporary positions and the results.
    """
    self.temp_offers = []
    self.temp_bids = []
    self.market_results_total = []


@external
@view
def results_count() -> uint256:
    """
    @notice How many matched pairs market_results_total holds.
    @return The number of pairs.
    """
    return len(self.market_results_total)


@external
def market_clearing(
    n_clearings: uint256,
    t_clearing_first: uint256,
    uniform_pricing: bool,
    discriminative_pricing: bool,
    clearing_interval: uint256,
    t_clearing_start: uint256,
):
    """
    @notice lemlab's market_clearing: clear n_clearings delivery periods one after the other.
    @param n_clearings How many delivery periods.
    @param t_clearing_first The first delivery period (ts_delivery).
    @param uniform_pricing Compute the uniform (pay-as-clear) price.
    @param discriminative_pricing Compute each pair's own price.
    @param clearing_interval Seconds between delivery periods.
    @param t_clearing_start Stored as t_cleared in each result.
    """
    for i: uint256 in range(n_clearings, bound=96):
        self._single_clearing(
            t_clearing_first + clearing_interval * i, uniform_pricing, discriminative_pricing, t_clearing_start
        )


@internal
def _single_clearing(t_clearing_current: uint256, uniform_pricing: bool, discriminative_pricing: bool, t_cleared: uint256):
    offers: DynArray[uint256, MAX_SIDE] = self._aggregate_identical_positions(self._filtered(True, t_clearing_current), True)
    bids: DynArray[uint256, MAX_SIDE] = self._aggregate_identical_positions(self._filtered(False, t_clearing_current), False)
    if len(offers) == 0 or len(bids) == 0:
        return
    offers = self._sort_price_quality(offers, True, False)
    bids = self._sort_price_quality(bids, False, False)
    self._merge_and_store(offers, bids, uniform_pricing, discriminative_pricing, t_clearing_current, t_cleared)


@internal
@view
def _stored(is_offer: bool, i: uint256) -> OfferBid:
    if is_offer:
        return self.temp_offers[i]
    return self.temp_bids[i]


@internal
@view
def _user(is_offer: bool, position: uint256) -> address:
    if is_offer:
        return self.temp_offers[position & INDEX_MASK].id_user
    return self.temp_bids[position & INDEX_MASK].id_user


@internal
@view
def _number(is_offer: bool, position: uint256) -> uint256:
    if is_offer:
        return self.temp_offers[position & INDEX_MASK].number_position
    return self.temp_bids[position & INDEX_MASK].number_position


@internal
@view
def _counts(is_offer: bool, i: uint256, t: uint256) -> bool:
    # the first pass's test: reads ts_delivery, and qty_energy only if the period matches
    if is_offer:
        return self.temp_offers[i].ts_delivery == t and self.temp_offers[i].qty_energy > 0
    return self.temp_bids[i].ts_delivery == t and self.temp_bids[i].qty_energy > 0


@internal
@view
def _filtered(is_offer: bool, t: uint256) -> DynArray[uint256, MAX_SIDE]:
    # getFilteredOffersBids_memory: count (reading two fields), then copy (reading the whole struct)
    n: uint256 = len(self.temp_bids)
    if is_offer:
        n = len(self.temp_offers)
    count: uint256 = 0
    for i: uint256 in range(n, bound=MAX_STORED):
        if self._counts(is_offer, i, t):
            count += 1
    assert count <= MAX_SIDE, "lemlab: too many positions"
    out: DynArray[uint256, MAX_SIDE] = []
    for i: uint256 in range(n, bound=MAX_STORED):
        ob: OfferBid = self._stored(is_offer, i)
        if ob.ts_delivery == t and ob.qty_energy > 0:
            assert ob.price_energy < 2**64 and ob.quality_energy < 2**8, "lemlab: price or quality out of range"
            assert ob.qty_energy <= QTY_MASK, "lemlab: energy out of range"
            out.append(
                (ob.price_energy << PRICE_SHIFT) | (ob.quality_energy << QUALITY_SHIFT) | (ob.qty_energy << QTY_SHIFT) | i
            )
    return out


@internal
@pure
def _compare_two_keys(one: uint256, two: uint256, asc_first: bool, asc_second: bool) -> bool:
    # LemLib.compare_two_keys on (price, quality): does `one` come before `two` (ties: true)?
    one_first: uint256 = one >> PRICE_SHIFT
    two_first: uint256 = two >> PRICE_SHIFT
    if one_first != two_first:
        if asc_first:
            return two_first > one_first
        return two_first < one_first
    one_second: uint256 = (one >> QUALITY_SHIFT) & 255
    two_second: uint256 = (two >> QUALITY_SHIFT) & 255
    if two_second == one_second:
        return True
    if asc_second:
        return two_second > one_second
    return two_second < one_second


@internal
@pure
def _insertion_indices(arr: DynArray[uint256, MAX_SIDE], asc_first: bool, asc_second: bool) -> DynArray[uint256, MAX_SIDE]:
    # Sorting.getInsertionSortIndices_two_keys; LemLib.add_pos (a new array one longer) becomes a shift in place
    idx: DynArray[uint256, MAX_SIDE] = [0]
    for i: uint256 in range(1, MAX_SIDE):
        if i >= len(arr):
            break
        go_on: bool = True
        at: uint256 = max_value(uint256)  # where i goes, if not appended
        head: uint256 = arr[idx[0]]
        tail: uint256 = arr[idx[len(idx) - 1]]
        if self._compare_two_keys(arr[i], head, asc_first, asc_second):
            at = 0
            go_on = False
        elif self._compare_two_keys(tail, arr[i], asc_first, asc_second):
            idx.append(i)
            go_on = False
        if (
            go_on
            and self._compare_two_keys(head, arr[i], asc_first, asc_second)
            and self._compare_two_keys(arr[i], tail, asc_first, asc_second)
        ):
            for z: uint256 in range(MAX_SIDE):
                if self._compare_two_keys(arr[i], arr[idx[z]], asc_first, asc_second):
                    at = z
                    break
        if at != max_value(uint256):
            idx.append(0)
            for s: uint256 in range(len(idx) - 1 - at, bound=MAX_SIDE):
                k: uint256 = len(idx) - 1 - s
                idx[k] = idx[k - 1]
            idx[at] = i
    return idx


@internal
@pure
def _sort_price_quality(arr: DynArray[uint256, MAX_SIDE], asc_price: bool, asc_quality: bool) -> DynArray[uint256, MAX_SIDE]:
    # Sorting.insertionSortOffersBidsPrice_Quality (simulation_test false), then LemLib.reorderArr_OfferBid
    if len(arr) == 0:
        return arr
    idx: DynArray[uint256, MAX_SIDE] = self._insertion_indices(arr, asc_price, asc_quality)
    out: DynArray[uint256, MAX_SIDE] = []
    for k: uint256 in idx:
        out.append(arr[k])
    return out


@internal
@view
def _same_position(is_offer: bool, a: uint256, b: uint256) -> bool:
    # same user, price and quality (lemlab compares the user ids as strings)
    if (a >> QUALITY_SHIFT) != (b >> QUALITY_SHIFT):
        return False
    return self._user(is_offer, a) == self._user(is_offer, b)


@internal
@view
def _aggregate_identical_positions(arr: DynArray[uint256, MAX_SIDE], is_offer: bool) -> DynArray[uint256, MAX_SIDE]:
    # Sorting.aggregate_identical_positions: sort by price and quality ascending, then sum a user's equal positions
    if len(arr) < 2:
        return arr
    s: DynArray[uint256, MAX_SIDE] = self._sort_price_quality(arr, True, True)
    count: uint256 = len(s)
    for i: uint256 in range(1, MAX_SIDE):
        if i >= len(s):
            break
        if self._same_position(is_offer, s[i], s[i - 1]):
            count -= 1
    if count == len(s):
        return s
    out: DynArray[uint256, MAX_SIDE] = [s[0]]
    for i: uint256 in range(1, MAX_SIDE):
        if i >= len(s):
            break
        if self._same_position(is_offer, s[i], s[i - 1]):
            last: uint256 = out[len(out) - 1]
            total: uint256 = ((last >> QTY_SHIFT) & QTY_MASK) + ((s[i] >> QTY_SHIFT) & QTY_MASK)
            assert total <= QTY_MASK, "lemlab: energy out of range"
            out[len(out) - 1] = (last & ~(QTY_MASK << QTY_SHIFT)) | (total << QTY_SHIFT)
        else:
            out.append(s[i])
    return out


@internal
@pure
def _cumulated(arr: DynArray[uint256, MAX_SIDE]) -> DynArray[uint256, MAX_SIDE]:
    # LemLib.getEnergyCumulated (a running sum in place of re-summing 0..i)
    out: DynArray[uint256, MAX_SIDE] = []
    total: uint256 = 0
    for position: uint256 in arr:
        total += (position >> QTY_SHIFT) & QTY_MASK
        out.append(total)
    return out


@internal
def _merge_and_store(
    offers: DynArray[uint256, MAX_SIDE],
    bids: DynArray[uint256, MAX_SIDE],
    uniform_pricing: bool,
    discriminative_pricing: bool,
    ts_delivery: uint256,
    t_cleared: uint256,
):
    # merge_offers_bids_memory, addTypesQuality_share, calc_market_clearing_prices, then the results pushed
    cum_off: DynArray[uint256, MAX_SIDE] = self._cumulated(offers)
    cum_bid: DynArray[uint256, MAX_SIDE] = self._cumulated(bids)
    pair_off: DynArray[uint256, MAX_PAIRS] = []
    pair_bid: DynArray[uint256, MAX_PAIRS] = []
    cum_final: DynArray[uint256, MAX_PAIRS] = []
    i: uint256 = 0
    j: uint256 = 0
    for _: uint256 in range(MAX_PAIRS):
        if i >= len(cum_off) or j >= len(cum_bid):
            break
        energy: uint256 = min(cum_off[i], cum_bid[j])
        pi: uint256 = i
        pj: uint256 = j
        if cum_off[i] == cum_bid[j]:
            i += 1
            j += 1
        elif cum_off[i] < cum_bid[j]:
            i += 1
        else:
            j += 1
        if offers[pi] >> PRICE_SHIFT <= bids[pj] >> PRICE_SHIFT:
            pair_off.append(offers[pi])
            pair_bid.append(bids[pj])
            cum_final.append(energy)
    z: uint256 = len(cum_final)
    if z == 0:
        return
    # the walk pairs prefixes of both sides: traded energy never exceeds either side's total
    assert cum_final[z - 1] <= cum_off[len(cum_off) - 1] and cum_final[z - 1] <= cum_bid[len(cum_bid) - 1]
    shares: uint256[4] = self._quality_shares(pair_off, cum_final)
    uniform: uint256 = 0
    if uniform_pricing:
        uniform = ((pair_off[z - 1] >> PRICE_SHIFT) + (pair_bid[z - 1] >> PRICE_SHIFT)) // 2
    previous: uint256 = 0
    for k: uint256 in range(MAX_PAIRS):
        if k >= z:
            break
        o: uint256 = pair_off[k]
        b: uint256 = pair_bid[k]
        discriminative: uint256 = 0
        if discriminative_pricing:
            discriminative = ((o >> PRICE_SHIFT) + (b >> PRICE_SHIFT)) // 2
        self.market_results_total.append(
            MarketResultTotal(
                id_user_offer=self._user(True, o),
                price_energy_offer=o >> PRICE_SHIFT,
                number_position_offer=self._number(True, o),
                ts_delivery=ts_delivery,
                id_user_bid=self._user(False, b),
                price_energy_bid=b >> PRICE_SHIFT,
                number_position_bid=self._number(False, b),
                price_energy_market_uniform=uniform,
                price_energy_market_discriminative=discriminative,
                qty_energy_traded=cum_final[k] - previous,
                share_quality_NA=shares[0],
                share_quality_local=shares[1],
                share_quality_green=shares[2],
                share_quality_green_local=shares[3],
                t_cleared=t_cleared,
            )
        )
        previous = cum_final[k]


@internal
@pure
def _quality_shares(pair_off: DynArray[uint256, MAX_PAIRS], cum_final: DynArray[uint256, MAX_PAIRS]) -> uint256[4]:
    # addTypesQuality_share: per cent of the traded energy by the offer's quality (0 NA, 1 local, 2 green, 3 both)
    by_quality: uint256[4] = empty(uint256[4])
    previous: uint256 = 0
    for k: uint256 in range(MAX_PAIRS):
        if k >= len(cum_final):
            break
        quality: uint256 = (pair_off[k] >> QUALITY_SHIFT) & 255
        if quality < 4:
            by_quality[quality] += cum_final[k] - previous
        previous = cum_final[k]
    total: uint256 = cum_final[len(cum_final) - 1]
    return [
        by_quality[0] * 100 // total,
        by_quality[1] * 100 // total,
        by_quality[2] * 100 // total,
        by_quality[3] * 100 // total,
    ]
