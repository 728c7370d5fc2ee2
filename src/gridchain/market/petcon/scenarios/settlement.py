"""The settlement of `gridchain petcon demo`: the auction's attested result paid in energy coins through PETCON's
escrow (contracts/petcon_escrow.vy) on what the charging poles' meters recorded.

Before the auction the hotspot is deployed (`open_hotspot`): the energy coin, the metering contract with each
PHEV's pole registered as a meter (a buyer's pole is a charging pole, whose one register is its import meter; a
seller's a discharging pole, whose one register is its export meter: metering.vy has one active-energy register
per meter) and the escrow, whose house is the first LAG; that LAG opens the auction's round. After the auction,
the coin's treasury mints and each buyer escrows its maximum due (`escrow_buyers`): its payment A plus one
micro-coin, the most settlement can take (A taken / E and the penalty on E - taken, each rounded up, add up to
at most A + 1 when PENALTY_BPS <= 10,000). After the committee's attestation (`settle_all`): the chain's clock
passes the delivery day, each pole's meter signs a reading per 15-minute interval of the window and the meters'
gateway anchors each pole's day root (the window's readings only), the LAG funds the house if the sellers'
credits need more than the buyers pay, settles the buyers, then the sellers (batches of at most 128 readings),
every party withdraws, and so does the house. The contract ends holding nothing.

What the poles record (`deliveries`): each entry's energy spread evenly over the window, except that one buyer
(drawn from the seed) disconnects half-way and one seller delivers short (a share drawn from the seed), so the
penalty shows.

The fresh pseudonyms (and the LAG) send their own transactions; on a node their gas comes from a development
account (`party_gateway`). On a public chain this is the relayer pattern (a relayer submits the pseudonym's
signed permit and is paid in coins), not built here. The embedded chain charges no gas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gridchain.chain.gateway import Gateway, Receipt
from gridchain.coin import CoinClient
from gridchain.crypto.keys import Key, address_of, sign_digest
from gridchain.market.petcon.escrow.client import EscrowClient, signed_reading
from gridchain.market.petcon.escrow.model import MAX_READINGS, Reading, money
from gridchain.market.petcon.result import BUYER, SELLER, Entry, Result
from gridchain.metering import INTERVAL_S, PERIOD_S, MeteringClient, merkle_proof, merkle_root
from gridchain.metering import Reading as MeterReading

PENALTY_BPS = 2_000  # a fifth of the undelivered part's value (ours, not the paper's: docs/petcon-escrow.md)
SETTLE_S = 3 * PERIOD_S  # [s] a round's time from its opening to its close
GAS_WEI = 10**17  # [wei] each fresh account's gas money on a node
INTERVALS_A_DAY = PERIOD_S // INTERVAL_S
EVENING = 72  # the window's first interval of its day: 18:00 UTC


def window_start(now: int) -> int:
    """The delivery window's first 15-minute interval: 18:00 UTC of the day after `now` [unix s // 900]."""
    return (now // PERIOD_S + 1) * INTERVALS_A_DAY + EVENING


def spread(energy_wh: int, intervals: int) -> list[int]:
    """`energy_wh` over `intervals` in whole Wh, the remainder in the first intervals."""
    base, rest = divmod(energy_wh, intervals)
    return [base + (t < rest) for t in range(intervals)]


def deliveries(entries: Sequence[Entry], intervals: int, seed: int) -> tuple[list[list[int]], dict[str, Any]]:
    """What each entry's pole records per interval [Wh], and who fell short: one buyer disconnects half-way (it
    takes nothing after the window's first half), one seller delivers a share in [0.4, 0.8) of each interval's."""
    rng = np.random.default_rng([seed, 2])
    recorded = [spread(e.energy_wh, intervals) for e in entries]
    short: dict[str, Any] = {}
    buyers = [k for k, e in enumerate(entries) if e.role == BUYER and e.energy_wh > 0]
    sellers = [k for k, e in enumerate(entries) if e.role == SELLER and e.energy_wh > 0]
    if buyers:
        k = int(rng.choice(buyers))
        half = intervals // 2
        recorded[k] = recorded[k][:half] + [0] * (intervals - half)
        short["disconnected"] = k
    if sellers:
        k, share = int(rng.choice(sellers)), float(rng.uniform(0.4, 0.8))
        recorded[k] = [int(share * wh) for wh in recorded[k]]
        short |= {"short": k, "share": share}
    return recorded, short


def party_gateway(gateway: Gateway, keys: Sequence[Key], funder: str) -> Gateway:
    """A gateway that sends as the fresh accounts of `keys`: on a node, one signing with them, each given GAS_WEI
    by `funder` (the relayer pattern's stand-in); the embedded chain takes any sender and charges no gas."""
    if gateway.kind != "rpc":
        return gateway
    from gridchain.chain.rpc_gateway import RpcGateway

    for key in keys:
        gateway.transfer(funder, address_of(key), GAS_WEI)
    return RpcGateway(gateway.url, ["0x" + bytes(key).hex() for key in keys])


@dataclass
class Hotspot:
    """The deployed hotspot: the coin (its treasury `owner`), the metering contract (poles registered, `meters`
    their gateway), the escrow (house: the LAG), the clients the parties send through, and the gas spent."""

    coin: CoinClient
    metering: MeteringClient
    escrow: EscrowClient
    owner: str
    meters: str
    house: str
    pole_keys: dict[str, Key]  # pole address -> its meter's key
    parties: Gateway
    round: int
    opened_at: int = 0  # [s] when the LAG opened the round
    gas: dict[str, Any] = field(default_factory=dict)

    def pole_key(self, pole: str) -> Key:
        return next(k for a, k in self.pole_keys.items() if a.lower() == pole.lower())

    def as_party(self) -> tuple[CoinClient, EscrowClient]:
        """The coin and the escrow as the pseudonyms and the LAG reach them."""
        return CoinClient(self.parties, self.coin.address), EscrowClient(self.parties, self.escrow.address)


def open_hotspot(
    gateway: Gateway, committee: str, lag_key: Key, pole_keys: Sequence[Key], phev_keys: Sequence[Key], round: int
) -> Hotspot:
    """Deploy coin, metering (every pole a registered meter) and the escrow (lot 1, the LAG the house); the LAG
    opens `round`. Uses the gateway's first two accounts: the treasury and metering's owner, and the meters'
    gateway."""
    owner, meters = gateway.accounts[:2]
    coin, coin_deploy = CoinClient.deploy(gateway, owner)
    metering, metering_deploy = MeteringClient.deploy(gateway, owner, 0)
    house = address_of(lag_key)
    escrow, escrow_deploy = EscrowClient.deploy(
        gateway, owner, coin.address, metering.address, committee, 1, house, PENALTY_BPS, SETTLE_S
    )
    metering.set_gateway(owner, meters)
    poles = {address_of(k): k for k in pole_keys}
    for premises, pole in enumerate(poles):
        metering.register_meter(owner, pole, owner, 1, premises)
        metering.assign_gateway(owner, pole, meters)
    parties = party_gateway(gateway, [lag_key, *phev_keys], owner)
    hs = Hotspot(coin, metering, escrow, owner, meters, house, poles, parties, round)
    opened = hs.as_party()[1].open_round(house, round)
    hs.gas = {
        "deploy_coin": coin_deploy.gas_used,
        "deploy_metering": metering_deploy.gas_used,
        "deploy_escrow": escrow_deploy.gas_used,
        "open_round": opened.gas_used,
    }
    hs.opened_at = escrow.opened_at(round)
    return hs


def escrow_buyers(hs: Hotspot, entries: Sequence[Entry]) -> int:
    """The treasury mints each buyer its maximum due (payment + 1 micro-coin), which it approves and escrows.
    Returns the total escrowed [micro-coins]."""
    coin, escrow = hs.as_party()
    total = 0
    gas = []
    for e in entries:
        if e.role != BUYER:
            continue
        amount = e.amount_micro + 1
        hs.coin.mint(hs.owner, e.pseudonym, amount)
        coin.approve(e.pseudonym, escrow.address, amount)
        gas.append(escrow.escrow(e.pseudonym, hs.round, amount).gas_used)
        total += amount
    hs.gas["escrow"] = gas
    return total


def anchor_window(hs: Hotspot, entries: Sequence[Entry], first: int, recorded: list[list[int]]) -> list[list[Reading]]:
    """Each pole's meter signs its reading of every interval of the window; the meters' gateway anchors the
    day's root of them (the window lies in one day). Returns each entry's readings as `settle` takes them."""
    day = first // INTERVALS_A_DAY
    out = []
    for e, wh in zip(entries, recorded, strict=True):
        key = hs.pole_key(e.pole)
        readings = [MeterReading(e.pole, (first + t) * INTERVAL_S, x, 0) for t, x in enumerate(wh)]
        leaves = [hs.metering.digest(r) for r in readings]
        hs.metering.anchor_root(hs.meters, e.pole, day, merkle_root(leaves), len(leaves))
        out.append(
            [
                signed_reading(r.active_wh, 0, sign_digest(key, leaf), merkle_proof(leaves, i))
                for i, (r, leaf) in enumerate(zip(readings, leaves, strict=True))
            ]
        )
    return out


def _batches(indices: list[int], intervals: int) -> list[list[int]]:
    per_call = MAX_READINGS // intervals
    return [indices[i : i + per_call] for i in range(0, len(indices), per_call)]


def settle_all(hs: Hotspot, result: Result, recorded: list[list[int]]) -> dict[str, Any]:
    """Past the delivery day: anchor, fund the house if needed, settle buyers then sellers, everyone withdraws,
    the house last. Returns what each entry's settlement did (its event, by pseudonym), what each party and the
    house withdrew, what the house was funded and what the contract holds after."""
    gateway = hs.coin.gateway
    day_end = (result.first_interval // INTERVALS_A_DAY + 1) * PERIOD_S
    gateway.advance_time(max(0, day_end + 60 - gateway.now()))
    readings = anchor_window(hs, result.entries, result.first_interval, recorded)
    coin, escrow = hs.as_party()
    dues = [money(e, sum(wh), PENALTY_BPS) for e, wh in zip(result.entries, recorded, strict=True)]
    need = sum(credit for _, credit in dues) - sum(due for due, _ in dues)
    funded = max(0, need)
    if funded:
        hs.coin.mint(hs.owner, hs.house, funded)
        coin.approve(hs.house, escrow.address, funded)
        hs.gas["fund"] = escrow.fund(hs.house, funded).gas_used
    settled: list[Receipt] = []
    for role in (BUYER, SELLER):
        indices = [k for k, e in enumerate(result.entries) if e.role == role]
        for batch in _batches(indices, result.intervals):
            part = [r for k in batch for r in readings[k]]
            settled.append(escrow.settle(hs.house, result, batch, part))
    hs.gas["settle"] = [r.gas_used for r in settled]
    events = {e.args["pseudonym"].lower(): e.args for r in settled for e in r.named("EntrySettled")}
    withdrawn = {}
    for e in result.entries:
        if escrow.escrowed(hs.round, e.pseudonym):
            withdrawn[e.pseudonym] = escrow.withdraw(e.pseudonym, hs.round).named("Withdrawn")[0].args["amount"]
    house = escrow.house()
    if house:
        escrow.withdraw_house(hs.house, house)
    return {
        "events": events,
        "withdrawn": withdrawn,
        "funded": funded,
        "house_withdrawn": house,
        "held_after": hs.coin.balance_of(escrow.address),
        "total_held_after": escrow.total_held(),
    }


def rows_of(entries: Sequence[Entry], recorded: list[list[int]], run: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per PHEV: role, allocated and recorded energy, what it paid or received, its penalty and what it
    withdrew [Wh, micro-coins]."""
    rows = []
    for e, wh in zip(entries, recorded, strict=True):
        ev = run["events"][e.pseudonym.lower()]
        taken = min(ev["recorded_wh"], e.energy_wh)
        full = money(e, taken, 0)  # the same entry without the penalty
        now = (ev["debited"] + ev["shortfall"], ev["credited"])
        penalty = (now[0] - full[0]) if e.role == BUYER else (full[1] - now[1] + now[0])
        rows.append(
            {
                "pseudonym": e.pseudonym,
                "pole": e.pole,
                "role": "buyer" if e.role == BUYER else "seller",
                "allocated_wh": e.energy_wh,
                "recorded_wh": sum(wh),
                "amount_micro": e.amount_micro,
                "paid_micro": ev["debited"],
                "received_micro": ev["credited"],
                "shortfall_micro": ev["shortfall"],
                "penalty_micro": penalty,
                "withdrawn_micro": run["withdrawn"].get(e.pseudonym, 0),
            }
        )
    return rows


def totals_of(rows: list[dict[str, Any]], escrowed: int, run: dict[str, Any]) -> dict[str, Any]:
    """Conservation: the buyers' escrows are their payments plus their refunds; the house takes what the buyers
    paid plus what it funded less what the sellers received; the contract ends with 0."""
    buyers = [r for r in rows if r["role"] == "buyer"]
    sellers = [r for r in rows if r["role"] == "seller"]
    paid = sum(r["paid_micro"] for r in buyers)
    refunded = sum(r["withdrawn_micro"] for r in buyers)
    received = sum(r["received_micro"] for r in sellers)
    return {
        "escrowed_micro": escrowed,
        "paid_micro": paid,
        "refunded_micro": refunded,
        "received_micro": received,
        "sellers_withdrawn_micro": sum(r["withdrawn_micro"] for r in sellers),
        "penalties_micro": sum(r["penalty_micro"] for r in rows),
        "funded_micro": run["funded"],
        "house_withdrawn_micro": run["house_withdrawn"],
        "held_after_micro": run["held_after"],
        "conserved": escrowed == paid + refunded
        and run["house_withdrawn"] == paid + run["funded"] - received
        and run["held_after"] == 0 == run["total_held_after"],
    }
