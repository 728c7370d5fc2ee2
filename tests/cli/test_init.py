"""`gridchain init`: a ready pilot folder in one step; bad options and an existing pilot refused."""

import json
import stat

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.config.accounts import account_address, account_key, key_settings
from gridchain.config.file import load_config
from gridchain.config.network import network_settings


def init(*args):
    return CliRunner().invoke(app, ["init", *args])


def test_init_writes_a_pilot_that_loads(tmp_path):
    folder = tmp_path / "pilot"
    result = init(str(folder), "--members", "2", "--light-keystores", "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    config = load_config(folder / "gridchain.toml")
    assert summary["config"] == str(folder / "gridchain.toml") and summary["members"] == 2
    assert network_settings(config).chain_id == 31337 and key_settings(config).dev_funding is True
    for name, address in summary["accounts"].items():
        assert account_address(config, name) == address
        assert stat.S_IMODE((folder / f"keys/{name}.json").stat().st_mode) == 0o600
    account_key(config, "owner", 31337)  # the password file opens the keystores
    assert stat.S_IMODE((folder / "secrets/keystore-password").stat().st_mode) == 0o600


def test_init_off_the_dev_chain_turns_dev_funding_off(tmp_path):
    result = init(str(tmp_path / "p"), "--members", "0", "--light-keystores", "--chain-id", "1337")
    assert result.exit_code == 0, result.stderr
    assert key_settings(load_config(tmp_path / "p/gridchain.toml")).dev_funding is False


def test_init_refuses_a_folder_with_a_pilot(tmp_path):
    (tmp_path / "gridchain.toml").write_text("# mine\n")
    result = init(str(tmp_path), "--members", "0")
    assert result.exit_code == 2
    assert (
        result.stderr == f"error: FOLDER: {str(tmp_path / 'gridchain.toml')!r} exists already: choose another folder\n"
    )
    assert (tmp_path / "gridchain.toml").read_text() == "# mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gridchain.toml"]  # nothing else written


@pytest.mark.parametrize(
    "args, error",
    [
        (["--members", "-1"], "--members: -1 is outside 0..1000"),
        (["--members", "1001"], "--members: 1001 is outside 0..1000"),
        (["--port-base", "1023"], "--port-base: 1023 is outside 1024..65519"),
        (["--port-base", "65520"], "--port-base: 65520 is outside 1024..65519"),
        (["--chain-id", "0"], "--chain-id: 0 is outside 1..9223372036854775807"),
        (["--rpc-url", "127.0.0.1:8545"], "--rpc-url: '127.0.0.1:8545' is not an http:// or https:// URL"),
    ],
)
def test_init_bad_options(tmp_path, args, error):
    result = init(str(tmp_path / "p"), *args)
    assert result.exit_code == 2 and result.stderr == f"error: {error}\n"
    assert not (tmp_path / "p").exists()


def test_init_folder_that_cannot_be_made(tmp_path):
    (tmp_path / "file").write_text("")
    result = init(str(tmp_path / "file/p"), "--members", "0")
    assert result.exit_code == 2
    assert result.stderr == f"error: FOLDER: cannot create {str(tmp_path / 'file/p')!r}: Not a directory\n"


def test_init_comments_share_a_column_per_section_within_100_columns(tmp_path):
    from gridchain.config.init import _split_comment

    assert init(str(tmp_path / "p"), "--members", "0", "--light-keystores").exit_code == 0
    lines = (tmp_path / "p/gridchain.toml").read_text().splitlines()
    assert max(map(len, lines)) <= 100
    columns: dict[str, dict[str, int]] = {}  # section -> key -> its comment's column
    section = ""
    for line in lines:
        code, comment = _split_comment(line)
        section = code if code.startswith("[") else section
        if code and comment:
            columns.setdefault(section, {})[code.split(" = ")[0]] = line.index(comment)
    assert len(set(columns["[accounts]"].values())) == 1  # ev_owner's long key moves the whole section's column
    for name in ("[network]", "[ocpp]"):
        assert len(set(columns[name].values())) == 1, (name, columns[name])
    for name in ("[utility]", "[relayer]", "[keys]"):  # admin_token_file, password_*: too long to share it
        short = [column for key, column in columns[name].items() if len(key) < 12]
        assert set(short) == {30}, (name, columns[name])  # listen = ... among them


def test_align_comments_falls_back_and_ignores_hashes_in_strings():
    from gridchain.config.init import align_comments

    text = '[a]\nk = "x # not a comment" # one\nlonger_key = 1 # two\n[b]\nv = 1 # ' + "c" * 95 + "\n"
    assert align_comments(text, column=20, width=100) == (
        '[a]\nk = "x # not a comment" # one\nlonger_key = 1          # two\n[b]\n# ' + "c" * 95 + "\nv = 1\n"
    )
