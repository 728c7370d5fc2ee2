"""`gridchain dashboard` as a command: it serves without any keystore password (it decrypts nothing), and each
bad input exits 2 with one line naming the option or config key."""

from __future__ import annotations

import socket

import httpx
import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from tests.support.processes import kill, read_banner, start, stop

pytestmark = pytest.mark.integration


def variant(town, name: str, text: str):
    path = town.config.parent / name
    path.write_text(text)
    return path


def test_it_serves_with_no_password_anywhere(town, monkeypatch):
    """No keystore password in the environment or in a file: a read-only dashboard needs none."""
    text = town.config.read_text().replace('password_file = "secrets/keystore-password"', 'password_file = "nope"')
    config = variant(town, "no-password.toml", text)
    p = start("dashboard", "--listen", "127.0.0.1:0", "--json", config=config)
    try:
        banner = read_banner(p)
        assert banner["service"] == "dashboard" and set(banner["contracts"]) == {"coordinator"}
        assert httpx.get(banner["url"] + "/health").json()["ok"] is True
        assert httpx.get(banner["url"] + "/community").status_code == 200
        _, err = stop(p)
        assert err.strip().endswith("dashboard stopped")
    finally:
        kill(p)


def refused(*args) -> str:
    """`gridchain dashboard ARGS` run in this process: it must exit 2 with one line on stderr; the line."""
    r = CliRunner().invoke(app, ["dashboard", *map(str, args)])
    assert r.exit_code == 2 and r.stdout == "" and r.stderr.count("\n") == 1, (r.exit_code, r.output)
    return r.stderr.strip()


def test_a_listen_address_in_use_is_refused_naming_the_option(town):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        error = refused("--listen", f"127.0.0.1:{port}", "--config", town.config)
    assert error == f"error: --listen: cannot listen on 127.0.0.1:{port}: Address already in use"


@pytest.mark.parametrize(
    "args, edit, error",
    [
        (["--listen", "8709"], None, "error: --listen: '8709' is not host:port (e.g. 127.0.0.1:8700)"),
        ([], ("poll_s = 0.3", "poll_s = 0"), "error: dashboard.poll_s: 0 is outside 0.2..3600.0"),
        ([], ("poll_s = 0.3", "pol_s = 1"), "error: dashboard.pol_s: unknown option (this section knows: "),
        ([], ('listen = "127.0.0.1:8709"', 'listen = "here"'), "error: dashboard.listen: 'here' is not host:port"),
        ([], ('rpc_url = "http', 'rpc_url = "http://127.0.0.1:9" #'), "error: network.rpc_url: cannot reach"),
    ],
)
def test_bad_input_exits_2_with_one_line(town, args, edit, error):
    config = town.config
    if edit is not None:
        assert edit[0] in config.read_text()
        config = variant(town, "bad.toml", config.read_text().replace(edit[0], edit[1], 1))
    assert refused(*args, "--config", config).startswith(error)


def test_a_missing_config_is_refused(tmp_path):
    assert refused("--config", tmp_path / "nowhere.toml").startswith("error: --config: ")
