"""`gridchain data grants|accesses|alerts` on the month (open_monitoring stood in by the month's clients and
store): --json is the view's rows, the tables fit 80 columns and say so when empty, and a --household that is
neither an address nor a config account is refused naming the option."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.config.file import load_config
from gridchain.errors import InputError
from gridchain.monitoring import view
from gridchain.monitoring.cli import data
from gridchain.monitoring.cli.chain import Deployment
from gridchain.monitoring.scenarios import _key
from tests.support.pilot import write_pilot

runner = CliRunner()
COMMANDS = ("grants", "accesses", "alerts")


@pytest.fixture(scope="module")
def pilot(month, tmp_path_factory):
    """A config whose account `household0` is the month's household 0 (its keystore) and `stranger` another."""
    folder = tmp_path_factory.mktemp("pilot")
    path = write_pilot(folder, accounts={"household0": "0x" + _key(0, "household 0").hex(), "stranger": None})
    return path


@pytest.fixture
def cli(month, pilot, monkeypatch):
    """`gridchain data ...` with open_monitoring answering the month's clients and store."""

    def opened(config, accounts):
        assert accounts == []  # the household's view signs nothing
        return Deployment(config, None, month.consent, month.log, month.store, 0)

    monkeypatch.setattr(data, "open_monitoring", opened)

    def run(*args: str):
        return runner.invoke(app, ["data", *args, "--config", str(pilot)])

    return run


def widths(text: str) -> list[int]:
    return [len(line) for line in text.splitlines()]


@pytest.mark.parametrize("command", COMMANDS)
def test_json_is_the_views_rows_and_a_name_is_its_account(cli, month, command):
    h = month.households[0]
    by_name = cli(command, "--household", "household0", "--json")
    assert by_name.exit_code == 0, by_name.stderr
    out = json.loads(by_name.stdout)
    assert out["household"] == h
    expected = {
        "grants": lambda: view.grants(month.consent, h, 0),
        "accesses": lambda: view.accesses(month.store, h, view.attested_roots(month.log)),
        "alerts": lambda: view.alerts(month.store, h, month.consent, 0),
    }[command]()
    assert out[command] == expected and expected != []
    by_address = cli(command, "--household", h.lower(), "--json")
    assert json.loads(by_address.stdout) == out


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("i", range(4))
def test_tables_fit_80_columns(cli, month, command, i):
    r = cli(command, "--household", month.households[i])
    assert r.exit_code == 0, r.stderr
    assert max(widths(r.stdout)) <= 80 and len(r.stdout.splitlines()) >= 3
    assert month.households[i][:6] + ".." + month.households[i][-4:] not in r.stdout.splitlines()[0]  # whole there


def test_tables_show_what_the_household_must_see(cli, month):
    grants = cli("grants", "--household", "household0").stdout
    assert "research" in grants and "revoked" in grants and "3 grants: 2 active, 0 expired, 1 revoked" in grants
    accesses = cli("accesses", "--household", month.households[3]).stdout.splitlines()
    (withheld,) = [seq for b, h, seq in month.result.injected if b.how == "withhold"]
    row = next(line for line in accesses if line.split()[0] == str(withheld))
    assert row.endswith("NONE") and "billing" in row
    assert "in no attested batch" in accesses[-1]
    alerts = cli("alerts", "--household", month.households[1]).stdout
    for kind in ("not granted", "another purpose", "after expiry"):
        assert kind in alerts
    assert "after revocation" not in alerts  # household 0's


@pytest.mark.parametrize("command", COMMANDS)
def test_a_household_with_nothing_is_told_so(cli, month, command):
    r = cli(command, "--household", "stranger")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and lines[1].endswith(".") and max(widths(r.stdout)) <= 80
    assert json.loads(cli(command, "--household", "stranger", "--json").stdout)[command] == []


@pytest.mark.parametrize("bad", ["0x12", "0xZZ", "nobody", "", "household0 ", "0x" + "g" * 40])
def test_a_bad_household_names_the_option(cli, bad):
    r = cli("grants", "--household", bad)
    if bad.strip() == "household0":
        assert r.exit_code == 0  # surrounding blanks are not part of a name
        return
    assert r.exit_code == 2 and "error: --household: " in r.stderr


@settings(max_examples=60, deadline=None)
@given(text=st.one_of(st.text(max_size=60), st.from_regex(r"0x[0-9a-fA-F]{0,44}", fullmatch=True)))
def test_any_household_text_is_an_address_or_refused_naming_the_option(pilot, text):
    config = load_config(pilot)
    try:
        address = data.household_of(config, text)
    except InputError as e:
        assert e.field == "--household"
        return
    assert address.startswith("0x") and len(address) == 42


@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "kind": st.text(max_size=40),
                "seq": st.one_of(st.none(), st.integers(0, 10**12)),
                "grantee": st.one_of(st.none(), st.text(max_size=50)),
                "time": st.one_of(st.none(), st.just("2030-01-02T01:00:00Z")),
                "source": st.sampled_from(["monitor", "chain", "monitor+chain"]),
                "state": st.text(max_size=30),
                "detail": st.text(alphabet=st.characters(blacklist_categories=("Cc", "Zl", "Zp")), max_size=200),
            }
        ),
        max_size=5,
    )
)
@settings(max_examples=40, deadline=None)
def test_alert_tables_fit_80_columns_whatever_they_hold(rows):
    assert all(len(line) <= 80 for line in data.alerts_table(rows, "0x" + "ab" * 20, "x" * 100))


def test_help_gives_an_example():
    for command in COMMANDS:
        r = runner.invoke(app, ["data", command, "--help"])
        assert r.exit_code == 0 and "Example: gridchain data " + command in " ".join(r.stdout.split())


@pytest.mark.integration
def test_end_to_end_on_anvil(tmp_path):
    """`gridchain deploy` both contracts from [monitoring], two honest days of the month on them writing the
    deployment's store, then `gridchain data` through open_monitoring: the household's 3 grants, its accesses all
    attested, no alert (said in a sentence)."""
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.monitoring.cli.chain import open_monitoring, read_config
    from gridchain.monitoring.consent_client import ConsentClient
    from gridchain.monitoring.log_client import AccessLogClient
    from gridchain.monitoring.scenarios import MonthConfig, node_addresses, run_month

    config = MonthConfig(days=3, breaches=False)
    nodes = ", ".join(f'"{a}"' for a in node_addresses(config))
    accounts = {"owner": None, "household0": "0x" + _key(0, "household 0").hex()}
    with start_anvil(accounts=3) as node:
        path = write_pilot(tmp_path, node.url, accounts=accounts, extra=f"\n[monitoring]\nnodes = [{nodes}]\nm = 2\n")
        for target in ("access_log", "data_access"):
            r = runner.invoke(app, ["deploy", target, "--config", str(path)])
            assert r.exit_code == 0, r.stderr
        d = open_monitoring(read_config(path), [])
        gateway = RpcGateway(node.url, node.keys)
        deployed = (AccessLogClient(gateway, d.log.address), ConsentClient(gateway, d.consent.address))
        month = run_month(gateway, config, store=d.store, deployed=deployed)  # the month's keys sign
        assert month.alerts == [] and month.accesses > 0
        d.store.store.close()
        out = {}
        for command in COMMANDS:
            r = runner.invoke(app, ["data", command, "--household", "household0", "--json", "--config", str(path)])
            assert r.exit_code == 0, r.stderr
            out[command] = json.loads(r.stdout)[command]
            table = runner.invoke(app, ["data", command, "--household", "household0", "--config", str(path)])
            assert table.exit_code == 0 and max(widths(table.stdout)) <= 80
        assert sorted(g["purpose_text"] for g in out["grants"]) == ["billing", "flexibility", "research"]
        assert out["accesses"] and all(a["attested"] for a in out["accesses"]) and out["alerts"] == []
        assert "No alert" in table.stdout
