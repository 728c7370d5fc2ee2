"""Gas of PETCON's escrow (contracts/petcon_escrow.vy): escrowing, settling an entry on 8 meter readings, withdrawing.

A hotspot with 8 charging poles (meters registered in a fresh metering contract, yesterday's 96 readings of each
signed and anchored as a Merkle root: proofs of 7 hashes), a 2-of-3 committee that attests one auction's result of
4 buyers and 4 sellers over 8 intervals (2 hours), and a fresh coin. The house opens the round (`open_round`), the
buyers escrow (`escrow_first` the first party, `escrow` a second, `escrow_again` a top-up), the utility funds the
house (`fund`); then anyone settles the
first buyer alone (`settle_1_entry`: the round's entry word and the pole's word are new), the other three buyers
in one call and the four sellers in another (`settle_3_buyers`, `settle_4_sellers`), and `settle_per_entry` is
those two calls' gas over their 7 entries; a buyer withdraws its change (`withdraw`) and the house its takings
(`withdraw_house`). Every figure is a receipt's gasUsed under the report's hardfork. `settle_lot` settles a whole
result of the paper's size (benchmarks/bench_petcon_escrow.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from gridchain.chain.gateway import Gateway
from gridchain.coin import UNIT, CoinClient
from gridchain.committee import CommitteeClient, kind_of
from gridchain.crypto.keys import address_of, sign_digest
from gridchain.experiments.gas_report import GasReportConfig
from gridchain.market.petcon import result
from gridchain.market.petcon.escrow.client import EscrowClient, signed_reading
from gridchain.market.petcon.escrow.model import Reading
from gridchain.metering import INTERVAL_S, PERIOD_S, MeteringClient, merkle_proof, merkle_root
from gridchain.metering import Reading as MeterReading

BUYERS = SELLERS = 4
INTERVALS = 8
ROUND = 1
LOT = 1
PENALTY_BPS = 2_000
SETTLE_S = 3 * PERIOD_S
TWO_THIRDS = 2
ENERGY_WH = 4_000  # [Wh] each entry's energy: 500 Wh an interval (2 kW)


def _key(label: str, i: int) -> bytes:
    return keccak(text=f"gridchain petcon escrow gas {label} {i}")


def _anchor_yesterday(metering: MeteringClient, gateway: str, pole_key: bytes, day: int) -> dict[int, Reading]:
    """Sign a pole's 96 readings of `day` (500 Wh from 10:00 for 2 hours), anchor their root; the readings by
    interval, as `settle` takes them."""
    pole = address_of(pole_key)
    readings = [
        MeterReading(pole, day * PERIOD_S + i * INTERVAL_S, 500 if 40 <= i < 40 + INTERVALS else 0, 0)
        for i in range(PERIOD_S // INTERVAL_S)
    ]
    leaves = [metering.digest(r) for r in readings]
    metering.anchor_root(gateway, pole, day, merkle_root(leaves), len(leaves))
    return {
        r.interval_start // INTERVAL_S: signed_reading(
            r.active_wh, r.reactive_varh, sign_digest(pole_key, leaf), merkle_proof(leaves, i)
        )
        for i, (r, leaf) in enumerate(zip(readings, leaves, strict=True))
    }


@dataclass
class Scene:
    """A hotspot on fresh contracts: the escrow, the coin, one auction's attested result and its poles' anchored
    readings (by pole and interval), the accounts that send transactions."""

    escrow: EscrowClient
    coin: CoinClient
    result: result.Result
    readings_by_pole: dict[str, dict[int, Reading]]
    utility: str
    house: str
    buyers: list[str]
    deploy_gas: int

    def readings(self, indices: Sequence[int]) -> list[Reading]:
        r = self.result
        return [
            self.readings_by_pole[r.entries[i].pole][r.first_interval + t] for i in indices for t in range(INTERVALS)
        ]


def hotspot(gateway: Gateway, buyers: int, sellers: int) -> Scene:
    """Deploy coin, metering, a 2-of-3 committee and the escrow; register and anchor a pole per PHEV; mint to and
    approve for the buyers (the gateway's accounts after utility, meters' gateway and house); attest a result of
    `buyers` buyers and `sellers` sellers over 8 intervals. Nobody has escrowed yet."""
    utility, meter_gateway, house, *buyer_accounts = gateway.accounts[: 3 + buyers]
    coin, _ = CoinClient.deploy(gateway, utility)
    metering, _ = MeteringClient.deploy(gateway, utility, 0)
    members = [_key("member", i) for i in range(3)]
    committee, _ = CommitteeClient.deploy(gateway, utility, [address_of(k) for k in members], TWO_THIRDS)
    escrow, deploy = EscrowClient.deploy(
        gateway, utility, coin.address, metering.address, committee.address, LOT, house, PENALTY_BPS, SETTLE_S
    )
    metering.set_gateway(utility, meter_gateway)
    poles = [_key("pole", i) for i in range(buyers + sellers)]
    day = gateway.now() // PERIOD_S - 1
    by_pole = {}
    for i, k in enumerate(poles):
        metering.register_meter(utility, address_of(k), utility, 1, i)
        metering.assign_gateway(utility, address_of(k), meter_gateway)
        by_pole[address_of(k)] = _anchor_yesterday(metering, meter_gateway, k, day)
    for b in [*buyer_accounts, utility]:
        coin.mint(utility, b, 100 * UNIT)
        coin.approve(b, escrow.address, 100 * UNIT)
    seller_keys = [address_of(_key("seller", i)) for i in range(sellers)]
    entries = [
        result.Entry(p, address_of(poles[i]), result.BUYER, ENERGY_WH, 2 * UNIT) for i, p in enumerate(buyer_accounts)
    ]
    entries += [
        result.Entry(p, address_of(poles[buyers + i]), result.SELLER, ENERGY_WH, UNIT + UNIT // 2)
        for i, p in enumerate(seller_keys)
    ]
    r = result.Result(LOT, ROUND, day * 96 + 40, INTERVALS, keccak(text="record"), tuple(entries))
    kind = kind_of(result.KIND)
    signatures = [committee.sign(k, kind, ROUND, r.digest()) for k in members[:2]]
    committee.attest(utility, kind, ROUND, r.digest(), signatures)
    return Scene(escrow, coin, r, by_pole, utility, house, buyer_accounts, deploy.gas_used)


def measure_functions(gateway: Gateway) -> dict[str, int]:
    return run_scene(gateway)[0]


def run_scene(gateway: Gateway) -> tuple[dict[str, int], EscrowClient]:
    """The module docstring's scene: its gas, and the escrow as it leaves it."""
    sc = hotspot(gateway, BUYERS, SELLERS)
    escrow, utility, buyers = sc.escrow, sc.utility, sc.buyers
    gas = {"deploy": sc.deploy_gas}
    gas["open_round"] = escrow.open_round(sc.house, ROUND).gas_used
    gas["escrow_first"] = escrow.escrow(buyers[0], ROUND, 3 * UNIT).gas_used
    gas["escrow"] = escrow.escrow(buyers[1], ROUND, 3 * UNIT).gas_used
    gas["escrow_again"] = escrow.escrow(buyers[0], ROUND, UNIT).gas_used
    for b in buyers[2:]:
        escrow.escrow(b, ROUND, 3 * UNIT)
    gas["fund"] = escrow.fund(utility, 10 * UNIT).gas_used
    r = sc.result
    gas["settle_1_entry"] = escrow.settle(utility, r, [0], sc.readings([0])).gas_used
    gas["settle_3_buyers"] = escrow.settle(utility, r, [1, 2, 3], sc.readings([1, 2, 3])).gas_used
    gas["settle_4_sellers"] = escrow.settle(utility, r, [4, 5, 6, 7], sc.readings([4, 5, 6, 7])).gas_used
    gas["settle_per_entry"] = round((gas["settle_3_buyers"] + gas["settle_4_sellers"]) / 7)
    gas["withdraw"] = escrow.withdraw(buyers[0], ROUND).gas_used
    gas["withdraw_house"] = escrow.withdraw_house(sc.house, escrow.house()).gas_used
    assert sc.coin.balance_of(escrow.address) == escrow.total_held()
    return gas, escrow


def settle_lot(gateway: Gateway, buyers: int, sellers: int, batch: int) -> dict:
    """A whole auction's result settled `batch` entries a call (buyers first, so that their payments fund the
    sellers): each call's gas and the gas per entry. The gateway needs 3 + `buyers` accounts."""
    sc = hotspot(gateway, buyers, sellers)
    sc.escrow.open_round(sc.house, ROUND)
    for b in sc.buyers:
        sc.escrow.escrow(b, ROUND, 3 * UNIT)
    n = buyers + sellers
    calls = [
        sc.escrow.settle(
            sc.utility, sc.result, list(range(i, min(i + batch, n))), sc.readings(range(i, min(i + batch, n)))
        ).gas_used
        for i in range(0, n, batch)
    ]
    assert sc.escrow.entries_settled(ROUND) == 2**n - 1
    return {"entries": n, "batch": batch, "calls": calls, "per_entry": round(sum(calls) / n)}


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def steps(config: GasReportConfig) -> int:
    return 1


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    gas = measure_functions(gateway())
    progress("petcon escrow")
    return {"petcon_escrow": gas}


def targets(report: dict) -> dict[str, dict]:
    return {}


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    table = Table(title=f"PETCON escrow, entries settled on 8 readings each ({where})")
    for col in ("function", "gas"):
        table.add_column(col, justify="right")
    for name, gas in report["petcon_escrow"].items():
        table.add_row(name, f"{gas:,}")
    console.print(table)
