"""What the V2V commands share: the config read once, the node connected, the contract checked, the EV's key."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import typer

from gridchain.config.file import Config
from gridchain.config.network import Network
from gridchain.config.record import DeploymentRecord
from gridchain.errors import ContractRevert, InputError, Refused
from gridchain.v2v.cli.config import V2VSettings
from gridchain.v2v.client import V2VClient

TWEI = 10**12
EV = typer.Option(..., "--ev", help="The EV's name: its keystore is <evs folder>/<name>.json (v2v.evs).")
JSON = typer.Option(False, "--json", help="Print the result as one JSON object.")
T = TypeVar("T")


@dataclass
class V2V:
    config: Config
    settings: V2VSettings
    network: Network
    record: DeploymentRecord
    client: V2VClient
    ev: str | None  # the EV's address (None: the command acts for no EV)
    key: str | None  # the EV's private key

    @property
    def deployed_block(self) -> int:
        return int(self.record.entry("v2v")["block"])


def open_v2v(config_file: Path | None, ev: str | None = None, accounts: tuple[str, ...] = ()) -> V2V:
    """Load the config, connect to its node (signing for `accounts` and EV `ev`) and find the checked contract."""
    from gridchain.config.file import config_path, load_config
    from gridchain.config.network import connect, network_settings
    from gridchain.config.record import checked_address, load_record
    from gridchain.v2v.cli.config import ev_key, v2v_settings

    config = load_config(config_path(config_file))
    settings = v2v_settings(config)
    keys = []
    if ev is not None:
        settings.keystore(ev)  # an unknown name fails before the node is asked anything
        keys = [ev_key(config, settings, ev, network_settings(config).chain_id)]
    network = connect(config, accounts, keys)
    record = load_record(config, network.settings.chain_id)
    address = checked_address(record, "v2v", network.gateway.code)
    from eth_account import Account

    client = V2VClient(network.gateway, address)
    address = Account.from_key(keys[0]).address if keys else None
    return V2V(config, settings, network, record, client, address, keys[0] if keys else None)


def admitted(v: V2V, name: str) -> str:
    """The EV's address, once it is checked that the organisation admitted it."""
    assert v.ev is not None
    if not v.client.admitted_at(v.ev):
        raise InputError("--ev", f"{name} ({v.ev}) is not admitted: run `gridchain v2v register --ev {name}`")
    return v.ev


@contextmanager
def refusals(field: str) -> Iterator[None]:
    """A transaction the chain refuses (or a refusal of the other EV) is bad input naming `field`."""
    try:
        yield
    except (Refused, ContractRevert) as e:
        raise InputError(field, e.reason) from None


def chain_call(field: str, fn: Callable[[], T]) -> T:
    with refusals(field):
        return fn()


def short(address: str | None) -> str:
    return "-" if not address else address[:6] + "…" + address[-4:]


def kwh(wh: int) -> str:
    return f"{wh / 1000:g}"


def twei(wei: int) -> str:
    return f"{wei / TWEI:g}"


def show(out: dict, as_json: bool) -> None:
    """One JSON object, or one `key  value` line per entry (short enough for 80 columns)."""
    if as_json:
        typer.echo(json.dumps(out))
        return
    width = max(len(k) for k in out)
    for key, value in out.items():
        text = "-" if value is None else str(value)
        line = f"{key:<{width}}  {text}"
        typer.echo(line if len(line) <= 80 else f"{key} {text}")  # a 66-character token fits unpadded


def consumer(v: V2V):
    """The consumer EV of the command (its key from the EV's keystore)."""
    from gridchain.v2v.parties import ConsumerEV

    return ConsumerEV(v.client, v.key)
