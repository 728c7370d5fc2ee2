"""The pilot the market's faults fall on, apart from the coordinator's (tests/faults/pilot.py) so that its clock
can be warped: its own `gridchain node --state` (1 s blocks), `init`, `deploy metering` and `deploy v2v`, three
charge points (CP1..CP3, each with its meter and its EV, registered to the host and the EV owner), the EV owner's
escrow and a tariff, provider p1 and consumer EVs admitted to the V2V market; then the OCPP central system and
the V2V provider as daemons (each killable: tests/faults/harness.py).

The clock: the tariff takes effect at the next interval boundary, then the chain's clock is warped WARP_S ahead,
so that every roaming session (a simulated 15 minutes each, on its charge point's meter one after another) starts
after the tariff, before the chain's now, and is over (settleable) as soon as its charge point stops."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from gridchain.crypto.keystore import new_key, write_keystore
from tests.faults.harness import Daemon, pilot_node
from tests.support.pilot import SCRYPT_N, edit_toml
from tests.support.processes import gridchain, rpc

CHARGE_POINTS = ("CP1", "CP2", "CP3")
CONSUMERS = tuple(f"c{i}" for i in range(1, 9))  # c1 from init, c2..c8 added: a partial trade holds one
PROVIDER, RESERVE_WEI_PER_KWH = "p1", 150 * 10**12
PRICE_WEI_PER_KWH = 100 * 10**12
ESCROW_WEI = 10**18  # the EV owner's: every session's maximum stays reserved until it settles
MAX_COST_WEI = 5 * 10**15  # each session's signed maximum: init's metering.min_reservation_wei
SESSION_S = 900  # simulated: one interval from a boundary
SPACING_S = 1800  # between two sessions' starts on one meter (the contract bills each interval once)
WARP_S = 20 * 3600  # room for 40 sessions per charge point, all within a reservation's life (a day and more)


@dataclass
class MarketPilot:
    folder: Path
    config: Path
    daemons: dict[str, Daemon]
    node_url: str
    tariff_from: int  # [unix s] the tariff's start: the first session's
    evs: dict[str, str]  # V2V EV name -> address
    v2v_address: str
    metering_address: str
    next_session: int = 0  # sessions k = 0, 1, ... start at tariff_from + k * SPACING_S on each meter

    def chain_now(self) -> int:
        return int(rpc(self.node_url, "eth_getBlockByNumber", ["latest", False])["timestamp"], 16)

    def warp(self, seconds: int) -> None:
        """Move the chain's clock `seconds` ahead (anvil keeps the offset for the blocks it mines next)."""
        rpc(self.node_url, "evm_increaseTime", [seconds])
        rpc(self.node_url, "evm_mine")

    def session_starts(self) -> int:
        """The next free session slot, the same on every meter; claimed by the caller through `next_session`."""
        latest = self.tariff_from + self.next_session * SPACING_S
        assert latest + SPACING_S <= self.chain_now(), "no session slot left before the chain's now: a larger WARP_S"
        return self.next_session

    def cli(self, *args: object) -> tuple[int, str, str]:
        return cli(self.config, *args)

    def stop(self) -> None:
        for daemon in reversed(self.daemons.values()):
            daemon.stop()


def cli(config: Path, *args: object) -> tuple[int, str, str]:
    """`gridchain ARGS` in this process (no interpreter start: for the many short commands of the setup and the
    checks); exit code, stdout, stderr."""
    from gridchain.cli import app

    r = CliRunner().invoke(app, [str(a) for a in args], env={"GRIDCHAIN_CONFIG": str(config)})
    return r.exit_code, r.stdout, r.stderr + (repr(r.exception) if r.exit_code not in (0, 2) else "")


def cli_json(config: Path, *args: object) -> dict:
    code, out, err = cli(config, *args, "--json")
    assert code == 0, (args, code, out, err[-2000:])
    return json.loads(out)


def _keystores(folder: Path) -> None:
    """Meters cp2, cp3, EVs ev2, ev3 and consumers c2..c8 beside init's cp1, ev1 and c1 (before `deploy v2v`,
    which funds every EV of the folder)."""
    password = (folder / "secrets/keystore-password").read_text().strip()
    for name in ("meters/cp2", "meters/cp3", "evs/ev2", "evs/ev3", *(f"evs/{c}" for c in CONSUMERS[1:])):
        write_keystore(folder / f"{name}.json", new_key(), password, SCRYPT_N)


def _register(config: Path) -> tuple[int, dict[str, str]]:
    """Meters, EVs, escrow and tariff; V2V admissions. The tariff's start, and the V2V EVs' addresses."""
    for k, _ in enumerate(CHARGE_POINTS, 1):
        cli_json(config, "metering", "register-meter", "--meter", f"cp{k}", "--owner", "host")
        cli_json(config, "metering", "register-ev", "--ev", f"ev{k}", "--owner", "ev_owner")
    cli_json(config, "metering", "deposit", "--amount-wei", ESCROW_WEI)
    tariff = cli_json(config, "metering", "tariff", "--prices-wei-per-kwh", PRICE_WEI_PER_KWH)
    evs = {ev: cli_json(config, "v2v", "register", "--ev", ev)["address"] for ev in (PROVIDER, *CONSUMERS)}
    return tariff["effective_from"], evs


def start_market_pilot(folder: Path) -> MarketPilot:
    """Node, deployment, registrations, the warp, then the central system and the provider; the daemons already
    started are stopped here on failure, else by the caller (`MarketPilot.stop`)."""
    config, logs, base, node = pilot_node(folder)
    daemons = {"node": node}
    pilot = None
    try:
        url = daemons["node"].start()["url"]
        init = ["init", config.parent, "--members", 0, "--light-keystores", "--port-base", base, "--rpc-url", url]
        assert gridchain(*init).returncode == 0
        charge_points = ", ".join(f'{cp} = "cp{k}"' for k, cp in enumerate(CHARGE_POINTS, 1))
        edit_toml(config, "ocpp.charge_points", "{ " + charge_points + " }")
        _keystores(config.parent)
        metering = cli_json(config, "deploy", "metering")["contracts"]["metering"]["address"]
        v2v = cli_json(config, "deploy", "v2v")["contracts"]["v2v"]["address"]
        pilot = MarketPilot(folder, config, daemons, url, *_register(config), v2v, metering)
        pilot.warp(pilot.tariff_from + WARP_S - pilot.chain_now())
        daemons["central"] = Daemon("central", ("ocpp", "serve"), config, logs)
        daemons["central"].start()
        provider = ("v2v", "provider", "serve", "--ev", PROVIDER, "--rate-wei-per-kwh", str(RESERVE_WEI_PER_KWH))
        daemons["provider"] = Daemon("provider", (*provider, "--step-pm", "1000"), config, logs)
        daemons["provider"].start()
        return pilot
    except BaseException:
        for daemon in reversed(daemons.values()):
            daemon.stop()
        raise
