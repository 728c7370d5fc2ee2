"""The metering and ocpp commands without a node: what `init` writes for them, and every bad input refused with
one line naming the option or config key (exit 2)."""

from __future__ import annotations

import json
import re
import tomllib

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.config.file import load_config
from gridchain.metering import model as m
from gridchain.metering.cli.bill import _table
from gridchain.metering.cli.config import metering, ocpp
from tests.support.pilot import init_pilot
from tests.support.processes import free_port

runner = CliRunner()


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    unreachable = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    return init_pilot(tmp_path_factory.mktemp("pilot") / "p", 0, rpc_url=unreachable)


def test_init_writes_the_metering_parties_and_sections(pilot):
    data = tomllib.loads(pilot.read_text())
    assert {"ev_owner", "host", "gateway"} <= set(data["accounts"])
    for name in ("keys/ev_owner.json", "keys/host.json", "keys/gateway.json", "meters/cp1.json", "evs/ev1.json"):
        assert (pilot.parent / name).stat().st_size > 0, name
    config = load_config(pilot)
    assert metering(config).notice_s == 2 * 86400 and metering(config).meters_dir == pilot.parent / "meters"
    o = ocpp(config)
    assert o.host == "127.0.0.1" and 8700 < o.port and o.charge_points == {"CP1": "cp1"}


def _edit(pilot, tmp_path, old: str, new: str):
    """A copy of the pilot's config (beside it, so its paths hold) with one line changed."""
    text = pilot.read_text()
    assert re.search(old, text, re.M), old
    edited = pilot.parent / f"edited-{tmp_path.name}.toml"
    edited.write_text(re.sub(old, new, text, count=1, flags=re.M))
    return str(edited)


def _error(args) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    return r.stderr.strip()


CP = ["ocpp", "charge-point", "--id", "CP1", "--ev", "ev1"]
BAD = [
    (["metering", "register-meter", "--meter", "nope"], "error: --meter: no keystore"),
    (["metering", "register-meter", "--meter", "cp1", "--premises", "-1"], "error: --premises: -1 is outside"),
    (["metering", "register-meter", "--meter", "cp1", "--owner", "bob"], "error: accounts.bob: is not configured"),
    (["metering", "register-meter", "--meter", "cp1"], "error: network.rpc_url: cannot reach an EVM node"),
    (["metering", "register-ev", "--ev", "ev9"], "error: --ev: no keystore"),
    (["metering", "register-ev", "--ev", "../x"], "error: --ev: '../x' is not a valid ev name"),
    (["metering", "tariff", "--prices-wei-per-kwh", "1,2"], "error: --prices-wei-per-kwh: '1,2' is not 1 or 24"),
    (["metering", "tariff", "--prices-wei-per-kwh", str(2**64)], "error: --prices-wei-per-kwh: 18446744073709551616"),
    (["metering", "tariff", "--prices-wei-per-kwh", "5", "--from", "1000"], "error: --from: 1000 is not a multiple"),
    (["metering", "deposit", "--amount-wei", "0"], "error: --amount-wei: 0 is outside 1.."),
    (["metering", "withdraw", "--credit", "--amount-wei", "5"], "error: --amount-wei: not with --credit"),
    (["metering", "withdraw", "--amount-wei", "-5"], "error: --amount-wei: -5 is outside 1.."),
    (["metering", "settle", "--transaction", "1"], "error: ocpp.sessions: "),
    (["metering", "anchor"], "error: ocpp.sessions: "),
    (["metering", "bill", "--party", "bob"], "error: --party: is not configured"),
    (["metering", "bill", "--party", "0x12"], "error: --party: "),
    (["ocpp", "serve"], "error: network.rpc_url: cannot reach an EVM node"),
    (["ocpp", "charge-point", "--id", "CP9", "--ev", "ev1", "--max-cost-wei", "1"], "error: --id: 'CP9' is not in"),
    ([*CP, "--max-cost-wei", "0"], "error: --max-cost-wei: 0 is outside"),
    ([*CP, "--max-cost-wei", "1", "--power-w", "0"], "error: --power-w: 0 is outside"),
    ([*CP, "--max-cost-wei", "1", "--duration-s", "0"], "error: --duration-s: 0 is outside"),
    (["ocpp", "charge-point", "--id", "CP1", "--ev", "ev9", "--max-cost-wei", "1"], "error: deployment.metering: not"),
]


@pytest.mark.parametrize(("args", "expected"), BAD, ids=[" ".join(a[:2]) + f" {i}" for i, (a, _) in enumerate(BAD)])
def test_bad_input_is_one_line_naming_the_option(pilot, args, expected):
    assert _error([*args, "--config", str(pilot)]).startswith(expected)


def test_a_missing_config_names_the_option(tmp_path):
    for args in (["metering", "deposit", "--amount-wei", "1"], ["ocpp", "serve"], ["metering", "bill", "--party", "x"]):
        assert _error([*args, "--config", str(tmp_path / "none.toml")]).startswith("error: --config: ")


BAD_CONFIG = [
    (
        r'^listen = "[^"]*"(?= *# the central system)',
        'listen = "nowhere"',
        "error: ocpp.listen: 'nowhere' is not host:port",
    ),
    (r"^heartbeat_interval_s = .*$", "heartbeat_interval_s = 0", "error: ocpp.heartbeat_interval_s: 0 is outside"),
    (r"^charge_points = .*$", 'charge_points = { "a/b" = "cp1" }', "error: ocpp.charge_points.a/b: a charge-point id"),
    (r"^charge_points = .*$", "charge_points = { CP1 = 3 }", "error: ocpp.charge_points.CP1: 3 is not a meter name"),
    (r"^heartbeat_interval_s = .*$", "heartbit_s = 3", "error: ocpp.heartbit_s: unknown option"),
    (r"^notice_s = .*$", "notice_s = -1", "error: metering.notice_s: -1 is outside 0..2592000"),
    (r"^min_reservation_wei = .*$", "min_reservation_wei = 0", "error: metering.min_reservation_wei: 0 is outside"),
]


@pytest.mark.parametrize(("old", "new", "expected"), BAD_CONFIG, ids=[e.split(":")[1] for *_, e in BAD_CONFIG])
def test_bad_config_is_one_line_naming_the_key(pilot, tmp_path, old, new, expected):
    config = _edit(pilot, tmp_path, old, new)
    args = ["ocpp", "charge-point", "--id", "CP1", "--ev", "ev1", "--max-cost-wei", "1", "--config", config]
    assert _error(args).startswith(expected)


def test_a_malformed_sessions_file_and_an_unknown_transaction(pilot):
    sessions = pilot.parent / "ocpp-sessions.json"
    sessions.write_text("[1, 2")
    try:
        assert _error(["metering", "settle", "--transaction", "1", "--config", str(pilot)]).startswith(
            "error: ocpp.sessions: cannot read"
        )
        assert _error(["metering", "anchor", "--config", str(pilot)]).startswith("error: ocpp.sessions: cannot read")
        sessions.write_text(json.dumps({"sessions": [], "readings": []}))
        assert _error(["metering", "settle", "--transaction", "7", "--config", str(pilot)]) == (
            "error: --transaction: 7 is no finished transaction (finished: none)"
        )
    finally:
        sessions.unlink()


def test_the_bill_fits_80_columns():
    t0 = 1_795_305_600
    wei = {"cost_wei": 10**21, "paid_wei": 10**21, "unpaid_wei": 0, "balance_wei": -(10**24)}
    line = {"session": "0x" + "ab" * 32, "role": "charged", "start": t0, "intervals": 96, "energy_wh": 96_000_000}
    totals = {"energy_wh": 96_000_000, "charged_wei": 10**21, "credited_wei": 10**21, "unpaid_wei": 10**21}
    tariff = {"effective_from": t0, "prices_wei_per_kwh": [m.MAX_PRICE] * 24}
    party = {"party": "0x" + "cd" * 20, "from": 0, "to": t0 + 86_400, "community": m.MAX_COMMUNITY}
    bill = {**party, "sessions": [line | wei], **totals, "tariff": tariff}
    lines = _table("ev_owner", bill)
    assert max(len(x) for x in lines) <= 80, "\n".join(lines)
