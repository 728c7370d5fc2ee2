"""`gridchain deploy coin` and `gridchain coin mint|balance|transfer` on anvil, and the amounts they take."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.coin.cli.commands import parse_coins
from gridchain.coin.model import MAX_UINT256, UNIT
from gridchain.errors import InputError
from tests.support.pilot import write_pilot

runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "micro"), [("1", UNIT), ("0.000001", 1), ("12.5", 12_500_000), ("3.250000", 3_250_000)]
)
def test_amounts_in_coins_become_micro_coins_exactly(text, micro):
    assert parse_coins("--amount", text) == micro


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0.0000001", "has more than 6 decimals"),
        ("0", "is not a positive amount"),
        ("-1", "is not a positive amount"),
        (str(MAX_UINT256 // UNIT + 1), "is not a positive amount"),
        ("ten", "is not a number of coins"),
        ("NaN", "more than 6 decimals"),
    ],
)
def test_bad_amounts_name_the_option(text, reason):
    with pytest.raises(InputError, match=f"^--amount: .*{reason}"):
        parse_coins("--amount", text)


def cli(config, *args):
    r = runner.invoke(app, [*args, "--config", str(config)])
    return r.exit_code, r.stdout, r.stderr


@pytest.mark.integration
def test_deploy_mint_transfer_balance_on_anvil(tmp_path):
    from gridchain.chain.anvil import start_anvil

    with start_anvil() as node:
        config = write_pilot(tmp_path, node.url, accounts={"owner": None, "host": None}, extra="")
        assert cli(config, "deploy", "coin")[0] == 0
        assert cli(config, "coin", "mint", "--to", "host", "--amount", "25.5", "--reference", "SEPA-1")[0] == 0
        code, _, err = cli(config, "coin", "mint", "--to", "host", "--amount", "1", "--reference", "SEPA-1")
        assert (code, err.strip()) == (2, "error: coin: energy_coin: reference already used")
        code, _, err = cli(config, "coin", "mint", "--to", "owner", "--amount", "1", "--account", "host")
        assert (code, err.strip()) == (2, "error: coin: erc20: access is denied")
        assert cli(config, "coin", "transfer", "--account", "host", "--to", "owner", "--amount", "3.25")[0] == 0
        code, _, err = cli(config, "coin", "transfer", "--account", "host", "--to", "owner", "--amount", "100")
        assert (code, err.strip()) == (2, "error: coin: erc20: transfer amount exceeds balance")
        code, out, _ = cli(config, "coin", "balance", "host", "--json")
        assert code == 0 and json.loads(out)["balance"] == 22_250_000 and json.loads(out)["total_supply"] == 25_500_000
        code, _, err = cli(config, "coin", "balance", "nobody")
        assert (code, err.strip()) == (2, "error: WHO: 'nobody' is neither an address nor an [accounts] name")
