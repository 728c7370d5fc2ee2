"""Gas of the notes pools (contracts/trade_notes.vy): registering an epoch key, depositing and redeeming, in ETH
and in the coin.

On fresh pools (an ETH pool and a coin pool, one issuer: a development account): `register_epoch_key` stores one
RSA-2048 key as a CREATE2 data contract; `deposit_*_first_of_epoch` is the epoch's first deposit (its count goes
from zero), `deposit_*_later` the steady state; `redeem_*_first_of_epoch` and `redeem_*_later` a relayer's
redemption of a note of the day before to a fresh address that has never held anything (for ETH the 25,000
new-account charge), its fee to the relayer. The coin depositor's allowance is limited (decremented at each
deposit). `deploy_escrow_pool` and `redeem_escrow_*`: a coin pool whose notes pay into the fresh address's coin
balance in a trade escrow (a balance word that goes from zero: one note per fresh address). Every figure is a
receipt's gasUsed under the gateway's hardfork.
"""

from __future__ import annotations

from collections.abc import Callable

from eth_utils import keccak
from rich.console import Console
from rich.table import Table

from gridchain.chain.compiler import compile_contract
from gridchain.chain.gateway import Gateway
from gridchain.crypto import blind
from gridchain.crypto.keys import address_of, sign_digest
from gridchain.escrow.client import EscrowClient
from gridchain.escrow.notes.client import NotesClient
from gridchain.escrow.notes.model import EPOCH_SECONDS, ETH, ZERO
from gridchain.experiments.gas_report import GasReportConfig

ACCOUNTS = 3  # deployer and issuer, depositor, relayer
DENOM_WEI = 10**16
DENOM_COIN = 10**6
FEE = 10**3


def fresh_key(n: int) -> bytes:
    return keccak(text=f"gridchain notes gas fresh key {n}")


def measure_functions(gateway: Gateway, key: blind.PrivateKey | None = None) -> dict[str, int]:
    deployer, depositor, relayer = gateway.accounts[:ACCOUNTS]
    key = key or blind.PrivateKey.generate()
    coin = compile_contract("energy_coin")
    coin_at = gateway.deploy(coin, ["gridchain energy coin", "GEC"], deployer).contract_address
    assert coin_at is not None
    eth_pool, eth_deploy = NotesClient.deploy(gateway, deployer, ETH, DENOM_WEI, deployer)
    coin_pool, coin_deploy = NotesClient.deploy(gateway, deployer, coin_at, DENOM_COIN, deployer)
    metering_at = gateway.deploy(compile_contract("metering"), [0], deployer).contract_address
    escrow, _ = EscrowClient.deploy(gateway, deployer, str(metering_at), coin_at)
    escrow_pool, escrow_deploy = NotesClient.deploy(gateway, deployer, coin_at, DENOM_COIN, deployer, escrow.address)
    gateway.transact(coin, coin_at, "mint", [depositor, 100 * DENOM_COIN], deployer)
    gas = {
        "deploy_eth_pool": eth_deploy.gas_used,
        "deploy_coin_pool": coin_deploy.gas_used,
        "deploy_escrow_pool": escrow_deploy.gas_used,
    }
    epoch = gateway.now() // EPOCH_SECONDS
    gas["register_epoch_key"] = eth_pool.register_epoch_key(deployer, epoch, key.public).gas_used
    for pool in (coin_pool, escrow_pool):
        gateway.transact(coin, coin_at, "approve", [pool.address, 50 * DENOM_COIN], depositor)
        pool.register_epoch_key(deployer, epoch, key.public)
    count = iter(range(1000))
    pools = (("eth", eth_pool), ("coin", coin_pool), ("escrow", escrow_pool))
    notes: dict[str, list[bytes]] = {"eth": [], "coin": [], "escrow": []}
    for name, pool in pools[:2]:
        for label in ("first_of_epoch", "later", "later", "later"):
            n = next(count)
            receipt = pool.deposit(depositor, epoch, keccak(text=f"blinded {n}"))  # the issuer's part is off chain
            gas.setdefault(f"deposit_{name}_{label}", receipt.gas_used)
            notes[name].append(fresh_key(n))
    for _ in range(2):  # an escrow pool's deposits are a coin pool's
        n = next(count)
        escrow_pool.deposit(depositor, epoch, keccak(text=f"blinded {n}"))
        notes["escrow"].append(fresh_key(n))
    gateway.advance_time(EPOCH_SECONDS - gateway.now() % EPOCH_SECONDS + 60)
    for name, pool in pools:
        for label, fresh in zip(("first_of_epoch", "later"), notes[name], strict=False):
            token = key.power(pool.note_message(epoch, address_of(fresh)))
            consent = sign_digest(fresh, pool.redemption_hash(epoch, FEE, ZERO))
            receipt = pool.redeem(relayer, epoch, address_of(fresh), FEE, ZERO, token, consent)
            gas[f"redeem_{name}_{label}"] = receipt.gas_used
    return gas


# -- the gas report's section (gridchain.experiments.gas_report) -------------------------------------------------
def steps(config: GasReportConfig) -> int:
    return 1


def measure(config: GasReportConfig, gateway: Callable[[], Gateway], progress: Callable[[str], None]) -> dict:
    gas = measure_functions(gateway())
    progress("trade notes")
    return {"notes": gas}


def targets(report: dict) -> dict[str, dict]:
    """None yet: the issue sets no target for the notes."""
    return {}


def show(report: dict, console: Console, where: str) -> None:
    """Print this section's part of the report (`where`: hardfork and chain)."""
    table = Table(title=f"Trade notes ({where})")
    for col in ("function", "gas"):
        table.add_column(col, justify="right")
    for name, gas in report["notes"].items():
        table.add_row(name, f"{gas:,}")
    console.print(table)
