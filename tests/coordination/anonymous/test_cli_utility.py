"""`gridchain utility serve` from gridchain.toml: as a process against anvil mining every second (init -> deploy ->
serve: the epoch keys and the capacities go on chain by themselves, the admin API, SIGTERM), and its bad input,
each a one-line error naming the config key."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_utils import keccak
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.crypto.blind import epoch_of
from tests.support.pilot import init_pilot
from tests.support.processes import free_ports, read_banner, start, stop

runner = CliRunner()


def make_pilot(folder: Path, rpc_url: str = "http://127.0.0.1:9") -> Path:
    """`gridchain init` (two ESUs, light keystores) with the utility on any free port; returns the config."""
    return init_pilot(folder, 2, free_ports(), rpc_url, {"utility.listen": '"127.0.0.1:0"'})


def edit(config: Path, old: str, new: str) -> None:
    text = config.read_text()
    assert old in text, old
    config.write_text(text.replace(old, new))


def serve(config: Path):
    return runner.invoke(app, ["utility", "serve", "--config", str(config)])


def test_init_writes_the_utility_s_sections_and_a_private_admin_token(tmp_path):
    config = make_pilot(tmp_path / "p")
    text = config.read_text()
    assert "[utility]" in text and 'admin_token_file = "secrets/utility-admin-token"' in text
    assert "post_ahead_slots = 2" in text and "[community.capacity]" in text and 'source = "constant"' in text
    token = tmp_path / "p/secrets/utility-admin-token"
    assert len(token.read_text().strip()) == 48 and token.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "old, new, error",
    [
        (
            'listen = "127.0.0.1:0"',
            'listen = "nowhere"',
            "utility.listen: 'nowhere' is not host:port (e.g. 127.0.0.1:8700)",
        ),
        ("post_ahead_slots = 2", "post_ahead_slots = -1", "utility.post_ahead_slots: -1 is outside 0..1000"),
        ("post_ahead_slots = 2", "post_ahead_slot = 2", "utility.post_ahead_slot: unknown option (this section"),
        (
            'admin_token_file = "secrets/utility-admin-token"',
            'admin_token_file = "nope"',
            "utility.admin_token_file: cannot read",
        ),
        ('members = "members.txt"', 'members = "none.txt"', "community.members: cannot read"),
        ("[utility]", "[utilities]", "utility: "),
        ('rpc_url = "http://127.0.0.1:9"', 'rpc_url = "127.0.0.1:9"', "network.rpc_url: '127.0.0.1:9' is not an http"),
        (
            'rpc_url = "http://127.0.0.1:9"',
            'rpc_url = "http://127.0.0.1:9"',
            "network.rpc_url: cannot reach an EVM node",
        ),
    ],
)
def test_bad_config_is_one_line_naming_the_key(tmp_path, old, new, error):
    config = make_pilot(tmp_path / "p")
    edit(config, old, new)
    r = serve(config)
    assert r.exit_code == 2 and r.stderr.startswith(f"error: {error}") and r.stderr.count("\n") == 1, r.stderr


def test_a_short_admin_token_and_a_port_in_use(tmp_path):
    config = make_pilot(tmp_path / "p")
    (tmp_path / "p/secrets/utility-admin-token").write_text("short\n")
    r = serve(config)
    assert r.stderr == "error: utility.admin_token_file: the admin token must be at least 16 characters, no spaces\n"
    (tmp_path / "p/secrets/utility-admin-token").write_text("x" * 24 + "\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        edit(config, 'listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{port}"')
        r = serve(config)
    assert r.exit_code == 2
    assert r.stderr == f"error: utility.listen: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    r = runner.invoke(app, ["utility", "serve", "--config", str(tmp_path / "missing.toml")])
    assert r.exit_code == 2 and r.stderr.startswith("error: --config: ") and "does not exist" in r.stderr


# ---- against a node --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node():
    from gridchain.chain.anvil import start_anvil

    with start_anvil(block_time=1) as n:
        yield n


@pytest.fixture(scope="module")
def deployed(tmp_path_factory, node):
    """A pilot on the node, its coordinator deployed by `gridchain deploy` (once for this module)."""
    config = make_pilot(tmp_path_factory.mktemp("deployed") / "p", node.url)
    r = runner.invoke(app, ["deploy", "coordinator", "--config", str(config)])
    assert r.exit_code == 0, r.output
    return config


@pytest.fixture
def pilot(deployed, tmp_path):
    """A copy of the deployed pilot's folder, free to edit."""
    shutil.copytree(deployed.parent, tmp_path / "p")
    return tmp_path / "p/gridchain.toml"


@pytest.mark.integration
@pytest.mark.parametrize(
    "old, new, error",
    [
        ('source = "constant"', 'source = "wind"', "community.capacity.source: 'wind' is not one of constant, csv"),
        ("\ncapacity_w = 50000 ", "\ncapacity_kw = 50 ", "community.capacity.capacity_w: is required"),
        ("\ncapacity_w = 50000 ", "\ncapacity_w = 50000\ncolour = 1 ", "community.capacity.colour: unknown option"),
        ('source = "constant"', 'source = "csv"\nfile = "cap.csv"', "community.capacity.file (cap.csv:2): '10:00"),
        ('record = "deployment.json"', 'record = "other.json"', "deployment.coordinator: not deployed"),
        ('owner = "keys/owner.json"', 'owner = "keys/keeper.json"', "accounts.owner: 0x"),
        ('issuer = "keys/issuer.json"', 'issuer = "keys/nobody.json"', "accounts.issuer: "),
    ],
)
def test_bad_capacity_or_deployment_is_one_line(pilot, old, new, error):
    (pilot.parent / "cap.csv").write_text("utc_time,capacity_w\n10:00,5\n")
    edit(pilot, old, new)
    r = serve(pilot)
    assert r.exit_code == 2 and r.stderr.startswith(f"error: {error}") and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.integration
def test_no_capacity_section(pilot):
    text = pilot.read_text()
    pilot.write_text(text[: text.index("[community.capacity]")])
    r = serve(pilot)
    assert r.exit_code == 2 and r.stderr.startswith("error: community.capacity: ") and "source" in r.stderr


@pytest.mark.integration
def test_utility_serve_puts_keys_and_capacities_on_chain_by_itself(pilot, node):
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.coordination.client import CoordinatorClient

    edit(pilot, "\ncapacity_w = 50000 ", "\ncapacity_w = 42000 ")  # not the deployed 50000: it must be posted
    record = json.loads((pilot.parent / "deployment.json").read_text())
    client = CoordinatorClient(RpcGateway(node.url, []), record["contracts"]["coordinator"]["address"])
    p = start("utility", "serve", "--config", str(pilot), "--json")
    try:
        banner = read_banner(p)
        members = 2 + 1  # init's ESUs and charge point CP1's bridge wallet
        assert banner["service"] == "utility" and banner["pid"] == p.pid and banner["members"] == members
        assert banner["coordinator"] == client.address and banner["post_ahead_slots"] == 2
        deadline, today = time.monotonic() + 60, epoch_of(int(time.time()))
        first, length = client.slot_clock()
        while time.monotonic() < deadline:
            current = (client.gateway.now() - first) // length
            keys = [any(client.epoch_key(e)) for e in (today, today + 1)]
            capacities = [client.capacity_in_force(s) for s in range(current, current + 3)]
            if all(keys) and capacities == [42_000] * 3:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"keys {keys}, capacities {capacities} after 60 s")
        logged = [json.loads(p.stdout.readline()) for _ in range(3)]
        assert sorted(d["action"] for d in logged) == ["post_capacity", "register_epoch_key", "register_epoch_key"]
        post = next(d for d in logged if d["action"] == "post_capacity")
        assert post["capacity_w"] == 42_000 and post["was_w"] == 50_000 and post["slot"] >= current - 1
        admin_api(banner["url"], pilot)
        health = httpx.get(banner["url"] + "/health", timeout=10).json()
        assert health["ok"] and health["duty"]["alive"] and health["duty"]["transactions"] == 3
        assert health["duty"]["last_error"] is None and health["node"]["ok"] and health["failed"] == []
        metrics = httpx.get(banner["url"] + "/metrics", timeout=10).text
        assert "gridchain_utility_transactions_total 3.0" in metrics
        assert 'gridchain_loop_alive{loop="utility-duty"} 1.0' in metrics
        assert 'gridchain_http_requests_total{method="GET",route="/health",status="200"} 1.0' in metrics
    finally:
        _, err = stop(p)
    assert err.endswith("utility stopped\n")


def admin_api(url: str, config: Path) -> None:
    token = (config.parent / "secrets/utility-admin-token").read_text().strip()
    newcomer = Account.create().address
    denied = httpx.put(f"{url}/members/{newcomer}", timeout=10)
    assert denied.status_code == 401
    added = httpx.put(f"{url}/members/{newcomer}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert added.status_code == 201
    assert newcomer in (config.parent / "members.txt").read_text()


# ---- SIGKILL and restart ----------------------------------------------------------------------------------


@pytest.fixture
def own_pilot(node, tmp_path):
    """A pilot with a coordinator of its own (the epoch keys on chain are this pilot's issuer's alone), the
    utility listening where the ESUs' wallets look for it."""
    config = init_pilot(tmp_path / "p", 2, free_ports(), node.url)  # utility.listen: esu.utility_url's port
    r = runner.invoke(app, ["deploy", "coordinator", "--config", str(config)])
    assert r.exit_code == 0, r.output
    return config


def identity_key(config: Path, wallet: str) -> bytes:
    from gridchain.config.accounts import password
    from gridchain.config.file import load_config
    from gridchain.crypto.keystore import read_keystore

    key = read_keystore(config.parent / f"wallets/{wallet}/identity.json", password(load_config(config)), "w")
    return bytes.fromhex(key[2:])


@pytest.mark.integration
def test_a_sigkilled_utility_comes_back_with_its_keys_quotas_and_members(own_pilot, node):
    """Tokens before the kill (the ESU command for esu01, 3 of 4 for esu02 through its token wallet), SIGKILL,
    restart: the same epoch keys (the ones on chain: the loop finds nothing to register and no mismatch), the
    members from the store (not the file), esu02 gets exactly the 1 token left and it verifies, esu01 none."""
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.config.file import load_config
    from gridchain.config.record import load_record
    from gridchain.coordination.anonymous.parties.issuer import IssuanceRefused, TokenWallet
    from gridchain.coordination.anonymous.service.issuance import IssuanceClient
    from gridchain.coordination.client import CoordinatorClient
    from gridchain.crypto import blind
    from tests.support.processes import done, json_lines, kill, wait_until

    address = load_record(load_config(own_pilot), 31337).entry("coordinator")["address"]
    client = CoordinatorClient(RpcGateway(node.url, []), address)
    config = ["--config", str(own_pilot)]
    p = start("utility", "serve", *config, "--json")
    try:
        banner = read_banner(p)
        assert banner["members_seeded"] and banner["members"] == 3 and banner["store"].startswith("sqlite:///")
        today = epoch_of(client.gateway.now())
        wait_until(lambda: all(any(client.epoch_key(e)) for e in (today, today + 1)), 60, "both keys on chain")
        out, _ = done(start("esu", "tokens", "--wallet", "esu01", *config, "--json"))
        assert json.loads(out)["epochs"][0] == {"epoch": today, "obtained": 4, "held": 4, "note": ""}
        issuance = IssuanceClient(banner["url"])
        esu02 = TokenWallet(identity_key(own_pilot, "esu02"), banner["issuer"], issuance)
        modulus = issuance.modulus(address, today)
        esu02.obtain(31337, address, today, modulus, client.epoch_key(today), 3)
        (own_pilot.parent / "members.txt").write_text("# emptied by hand: the store holds the members now\n")
    finally:
        kill(p)  # SIGKILL: no shutdown of any kind
    assert p.returncode == -9

    p = start("utility", "serve", *config, "--json")
    try:
        banner = read_banner(p)
        assert not banner["members_seeded"] and banner["members"] == 3
        assert issuance.modulus(address, today) == modulus and keccak(modulus) == client.epoch_key(today)
        with pytest.raises(IssuanceRefused) as e:
            esu02.obtain(31337, address, today, modulus, client.epoch_key(today), 2)
        assert e.value.status == 429 and e.value.reason == f"2 tokens asked, 1 of 4 left for epoch {today}"
        esu02.obtain(31337, address, today, modulus, client.epoch_key(today), 1)
        tokens = esu02.unused[(address, today)]
        assert len(tokens) == 4
        public = blind.PublicKey.from_bytes(modulus)
        for t in tokens:
            assert blind.verify(public, blind.fdh(blind.token_seed(31337, address, today, t.address)), t.token)
        esu01 = TokenWallet(identity_key(own_pilot, "esu01"), banner["issuer"], issuance)
        with pytest.raises(IssuanceRefused, match="0 of 4 left"):
            esu01.obtain(31337, address, today, modulus, client.epoch_key(today), 1)

        def two_steps() -> dict | None:
            duty = httpx.get(banner["url"] + "/health", timeout=10).json()["duty"]
            return duty if duty["steps"] >= 2 else None

        state = wait_until(two_steps, 30, "two steps of the utility's loop")
        assert state["alive"] and state["last_error"] is None and state["transactions"] == 0
        issuance.close()
    finally:
        out, err = stop(p)
    assert not [d for d in json_lines(out) if d.get("action") == "register_epoch_key"]
    assert "the members file differs from the store" in err
