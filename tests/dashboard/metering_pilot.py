"""A small metering pilot for the dashboard's metering page: `gridchain init` on anvil, the contract deployed and its
meter, EV, tariff and escrow set up by the operator's and the EV owner's commands; a roaming session at the
host's charge point (the EV's signed start reserved by the host, the meter's signed readings and session reading)
handed over as the central system's sessions file, then `gridchain metering anchor` (the readings' archive in
the deployment's store) and `settle`, as a user would; a second session reserved and not yet settled. The
indexer is stepped to the head. The dashboard then reads it as a user's would."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.cli import app
from gridchain.config.accounts import account_key
from gridchain.config.file import load_config
from gridchain.config.store import config_store
from gridchain.index.indexer import Indexer, Target, abi_events
from gridchain.index.tables import SCHEMA
from gridchain.metering import model as m
from gridchain.metering.cli.config import device_key, ocpp
from gridchain.metering.client import MeteringClient, SignedSession
from gridchain.metering.parties import SmartMeter, sign_session_start
from gridchain.metering.service import reading_json, signed_session_json
from tests.index.harness import catch_up
from tests.support.pilot import init_pilot

PRICES = tuple((100 + 10 * h) * 10**12 for h in range(24))  # [wei/kWh] a price of its own each hour (UTC)
ENERGY_WH = (1_850, 1_850, 1_850, 920)  # the session's four intervals
HOUSEHOLD_WH = (300, 410)  # two more readings of the charge point's meter that day, after the session
MAX_COST_WEI = 20 * 10**15
DEPOSIT_WEI = 50 * 10**15


def gridchain_cli(config: Path, *args: object) -> dict:
    """A gridchain command in-process with --json; its JSON."""
    r = CliRunner().invoke(app, [*map(str, args), "--config", str(config), "--json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


class MeteringPilot:
    """The pilot's folder (`config`), the contract's client and what the pilot did (for the tests to compare)."""

    def __init__(self, node, folder: Path) -> None:
        self.url = node.url
        self.config = init_pilot(folder, 0, rpc_url=node.url, edits={"dashboard.poll_s": "0.3"})
        r = CliRunner().invoke(app, ["deploy", "metering", "--config", str(self.config)])
        assert r.exit_code == 0, r.output
        record = json.loads((self.config.parent / "deployment.json").read_text())["contracts"]["metering"]
        self.address, self.start_block = record["address"], record["block"]
        config = load_config(self.config)
        self.host_key, self.gateway_key = (account_key(config, name, 31337) for name in ("host", "gateway"))
        self.chain = RpcGateway(node.url, [self.host_key])
        self.host = self.chain.accounts[0].lower()
        # 01:00 UTC of a new day: the session and the day's readings stay within the day
        now = self.chain.now()
        self.chain.advance_time((now // m.PERIOD_S + 1) * m.PERIOD_S + 3600 - 300 - now)
        self.meter = gridchain_cli(self.config, "metering", "register-meter", "--meter", "cp1", "--owner", "host")
        self.ev = gridchain_cli(self.config, "metering", "register-ev", "--ev", "ev1", "--owner", "ev_owner")
        tariff = gridchain_cli(self.config, "metering", "tariff", "--prices-wei-per-kwh", ",".join(map(str, PRICES)))
        self.t0 = tariff["effective_from"]
        gridchain_cli(self.config, "metering", "deposit", "--amount-wei", DEPOSIT_WEI)
        self.client = MeteringClient(self.chain, self.address)
        self.domain = self.client.domain()
        self.smart_meter = SmartMeter(device_key(config, "meter", "cp1"), self.domain)
        self.ev_key = device_key(config, "ev", "ev1")
        self.readings = self._roam(config)
        self.store = config_store(config)
        self.store.migrate(SCHEMA)
        events = abi_events(self.client.artifact)
        target = Target("metering", self.address, self.client.artifact, events, self.start_block)
        self.indexer = Indexer(self.store, self.chain, [target])
        catch_up(self.indexer)

    def _roam(self, config) -> list[dict]:
        """The session at t0 (reserved, charged, read), the day anchored and the session settled; then a second
        session reserved and left open. The readings as the sessions file holds them."""
        start, signature = sign_session_start(self.ev_key, self.domain, self.meter["meter"], self.t0, MAX_COST_WEI)
        session, _ = self.client.reserve(self.host, start, signature)
        times = [self.t0 + i * m.INTERVAL_S for i in range(len(ENERGY_WH) + len(HOUSEHOLD_WH))]
        signed = [self.smart_meter.sign_reading(t, wh) for t, wh in zip(times, ENERGY_WH + HOUSEHOLD_WH, strict=True)]
        reading = m.SessionReading(session, self.t0 // m.INTERVAL_S, ENERGY_WH)
        entry = SignedSession(start, signature, reading, self.smart_meter.sign_session(reading))
        readings = [reading_json(s) for s in signed]
        sessions = {"sessions": [{"transaction_id": 1, **signed_session_json(entry)}], "readings": readings}
        ocpp(config).sessions_file.write_text(json.dumps(sessions))
        now = self.chain.now()
        self.chain.advance_time((self.t0 // m.PERIOD_S + 1) * m.PERIOD_S + 60 - now)  # the day is over
        self.anchored = gridchain_cli(self.config, "metering", "anchor")
        self.settled = gridchain_cli(self.config, "metering", "settle", "--transaction", 1)
        later = (self.chain.now() // m.INTERVAL_S + 1) * m.INTERVAL_S
        start2, signature2 = sign_session_start(self.ev_key, self.domain, self.meter["meter"], later, MAX_COST_WEI)
        # `settle` sent a transaction as the host: a fresh gateway reads the host's nonce afresh
        self.chain = RpcGateway(self.url, [self.host_key])
        self.client = MeteringClient(self.chain, self.address)
        self.open_session, _ = self.client.reserve(self.host, start2, signature2)
        return readings

    def close(self) -> None:
        self.store.close()
