"""`gridchain esu ...` and `gridchain relayer serve` from gridchain.toml: bad inputs named in one line, and a
pilot run as processes on anvil with a moving clock (block_time=1): tokens, a request on time, one deliberately
late (refused, then re-signed for the next slot with the same token), status, allocations verified."""

from __future__ import annotations

import json
import socket
import time

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from tests.support.pilot import init_pilot
from tests.support.processes import done, free_ports, gridchain, json_lines, read_banner, start, stop

runner = CliRunner()
SLOT_S = 20
MARGIN_S = 4


def error(args: list[str]) -> str:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: "), r.stderr
    return r.stderr.removesuffix("\n")


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """A pilot whose node is nowhere (port 9): every error here comes before or at the connection."""
    return init_pilot(tmp_path_factory.mktemp("offline") / "p", rpc_url="http://127.0.0.1:9")


def test_esu_bad_inputs_are_one_line_naming_the_option(offline, tmp_path):
    c = ["--config", str(offline)]
    w = ["--wallet", "esu01"]
    req = ["esu", "request", *w, *c]
    assert error([*req, "--demand-kw", "0", "--soc-pct", "35", "--slots", "4"]) == (
        "error: --demand-kw: 0 is not a power above 0 kW (at least 0.001)"
    )
    assert error([*req, "--demand-kw", "7.4", "--soc-pct", "100", "--slots", "4"]) == (
        "error: --soc-pct: 100 is outside 0..99.9 %"
    )
    assert error([*req, "--demand-kw", "7.4", "--soc-pct", "35", "--slots", "0"]) == (
        "error: --slots: 0 is outside 1..4294967295"
    )
    assert error(["esu", "status", "--wallet", "../esu01", *c]) == (
        "error: --wallet: '../esu01' is not a wallet name (letters, digits, _ . -; at most 64)"
    )
    assert error(["esu", "status", "--wallet", "nobody", *c]).startswith("error: --wallet: no wallet 'nobody' in ")
    assert error(["esu", "init", *w, *c]).startswith("error: --wallet: wallet 'esu01' exists already")
    assert error(["esu", "status", *w, *c]).startswith(
        "error: network.rpc_url: cannot reach an EVM node at 'http://127.0.0.1:9'"
    )
    bad = offline.with_name("bad-esu.toml")  # beside it: its relative paths stay right
    bad.write_text(offline.read_text().replace('relayer_url = "http://', 'relayer_url = "ftp://'))
    assert error(["esu", "status", *w, "--config", str(bad)]).startswith("error: esu.relayer_url: 'ftp://127.0.0.1:")
    bad.write_text(offline.read_text().replace("[esu]", "[esu_]"))
    assert error(["esu", "status", *w, "--config", str(bad)]) == f"error: esu: {bad} has no [esu] section"
    assert error(["esu", "status", *w, "--config", str(tmp_path / "none.toml")]).startswith("error: --config: ")
    legacy = offline.parent / "wallets" / "esu01" / "wallet.json"  # a file-based wallet's state, spoiled
    legacy.write_text("{not json")
    try:
        assert error(["esu", "status", *w, *c]).startswith(f"error: --wallet: '{legacy}' is not a wallet state (")
    finally:
        legacy.unlink()


def test_relayer_bad_inputs_are_one_line_naming_the_option(offline, tmp_path):
    bad = offline.with_name("bad-relayer.toml")  # beside it: its relative paths stay right
    text = offline.read_text()

    def relayer_error(old: str, new: str) -> str:
        assert old in text
        bad.write_text(text.replace(old, new))
        return error(["relayer", "serve", "--config", str(bad)])

    assert relayer_error("batch = 20", "batch = 40") == "error: relayer.batch: 40 is outside 1..32"
    assert relayer_error("flush_margin_s = 5", "flush_margin_s = 0") == (
        "error: relayer.flush_margin_s: 0 is outside 1..3600"
    )
    assert relayer_error("flush_margin_s = 5", "receipt_timeout_s = 0") == (
        "error: relayer.receipt_timeout_s: 0 is outside 1..3600"
    )
    assert relayer_error("flush_margin_s = 5", "backoff_cap_s = 3601") == (
        "error: relayer.backoff_cap_s: 3601 is outside 1..3600"
    )
    assert relayer_error("flush_margin_s = 5", "confirmations = 0") == (
        "error: relayer.confirmations: 0 is outside 1..1000"
    )
    assert relayer_error('url = "sqlite:///state/gridchain.db"', 'url = "mysql://db/x"') == (
        "error: store.url: 'mysql' is not a supported database (one of sqlite, postgresql)"
    )
    assert relayer_error("batch = 20", "batch = 20\nintervall = 3").startswith(
        "error: relayer.intervall: unknown option (this section knows: "
    )
    assert relayer_error('listen = "127.0.0.1:', 'listen = "nohost').startswith("error: relayer.listen: 'nohost")
    assert relayer_error('"secrets/relayer-admin-token"', '"secrets/none"').startswith(
        "error: relayer.admin_token_file: cannot read "
    )
    (offline.parent / "secrets/short").write_text("short\n")
    assert relayer_error('"secrets/relayer-admin-token"', '"secrets/short"') == (
        "error: relayer.admin_token_file: the admin token must be at least 16 characters, no spaces"
    )
    assert relayer_error("[relayer]", "[relayer_]").endswith("has no [relayer] section")
    assert error(["relayer", "serve", "--config", str(offline)]).startswith(
        "error: network.rpc_url: cannot reach an EVM node at 'http://127.0.0.1:9'"
    )


class Chain:
    """The test's own view of the pilot's chain, and the utility's side (the issuance service in-process,
    epoch keys registered by the owner) until `gridchain utility serve` reads the config too."""

    def __init__(self, config):
        from gridchain.chain.rpc_gateway import RpcGateway
        from gridchain.config.accounts import account_key
        from gridchain.config.file import load_config
        from gridchain.config.record import load_record
        from gridchain.coordination.client import CoordinatorClient

        cfg = load_config(config)
        self.owner_key = account_key(cfg, "owner", 31337)
        self.issuer_key = account_key(cfg, "issuer", 31337)
        self.gateway = RpcGateway(cfg.data["network"]["rpc_url"], [self.owner_key])
        address = load_record(cfg, 31337).entry("coordinator")["address"]
        self.client = CoordinatorClient(self.gateway, address)
        self.members = [line for line in (config.parent / "members.txt").read_text().splitlines() if line[:2] == "0x"]

    def slot(self) -> int:
        return int(self.client.view("current_slot"))

    def wait_until(self, timestamp: int, deadline_s: float = 120) -> None:
        deadline = time.monotonic() + deadline_s
        while self.gateway.now() < timestamp:
            assert time.monotonic() < deadline, "the chain's clock stands still"
            time.sleep(0.2)

    def utility(self):
        """The utility's issuer for this community (its members from members.txt), both epoch keys on chain."""
        from gridchain.coordination.anonymous.parties.issuer import Issuer
        from gridchain.crypto.blind import epoch_of

        issuer = Issuer(bytes.fromhex(self.issuer_key[2:]), quota=4, lookahead_epochs=1)
        for member in self.members:
            issuer.admit(self.client.address, member)
        today = epoch_of(int(time.time()))
        for epoch in (today, today + 1):
            modulus = issuer.epoch_key(self.client.address, epoch).public.modulus_bytes
            self.client.register_epoch_key(self.gateway.accounts[0], epoch, modulus)
        return issuer


@pytest.mark.integration
@pytest.mark.pilot  # real-time processes over several slots: `make pilot-test`
def test_a_pilot_of_processes_requests_retries_a_late_one_and_verifies(tmp_path):
    from gridchain.chain.anvil import start_anvil
    from gridchain.coordination.anonymous.service.issuance import issuance_app
    from gridchain.coordination.parties.keeper import Keeper
    from gridchain.net.server import LoopbackServer

    with start_anvil(block_time=1, accounts=1) as node:
        base = free_ports()
        config = init_pilot(tmp_path / "pilot", 2, base, node.url, slot_length_s=SLOT_S, flush_margin_s=MARGIN_S)
        c = ["--config", str(config)]
        assert error(["relayer", "serve", *c]).startswith("error: deployment.coordinator: not deployed")
        deployed = gridchain("deploy", "all", *c, "--json")
        assert deployed.returncode == 0, deployed.stderr
        chain = Chain(config)
        issuer = chain.utility()
        assert error(["esu", "tokens", "--wallet", "esu01", *c]).startswith(
            f"error: esu.utility_url: cannot reach the utility at http://127.0.0.1:{base}"
        )
        with socket.socket() as taken:  # the relayer's port in use
            taken.bind(("127.0.0.1", base + 1))
            taken.listen(1)
            assert error(["relayer", "serve", *c]) == (
                f"error: relayer.listen: cannot listen on 127.0.0.1:{base + 1}: Address already in use"
            )
        wide = config.with_name("wide.toml")
        wide.write_text(config.read_text().replace(f"flush_margin_s = {MARGIN_S}", f"flush_margin_s = {SLOT_S}"))
        assert error(["relayer", "serve", "--config", str(wide)]) == (
            f"error: relayer.flush_margin_s: {SLOT_S} s is not less than the coordinator's slot length ({SLOT_S} s)"
        )
        relayer = start("relayer", "serve", *c, "--json")
        try:
            banner = read_banner(relayer)
            assert banner["service"] == "relayer" and banner["url"] == f"http://127.0.0.1:{base + 1}"
            assert banner["coordinator"] == chain.client.address and banner["flush_margin_s"] == MARGIN_S
            with LoopbackServer(issuance_app(issuer), base):
                _run_the_wallets(chain, config, c)
                stranger = runner.invoke(app, ["esu", "init", "--wallet", "newhouse", "--light-keystore", *c])
                assert stranger.exit_code == 0 and "identity 0x" in stranger.stdout
                assert error(["esu", "tokens", "--wallet", "newhouse", *c]).startswith(
                    "error: --wallet: the utility refused (403): identity: "
                )
            Keeper(chain.client, chain.gateway.accounts[0]).close_due()
            for wallet, slots in (("esu01", {chain.request_slot}), ("esu02", {chain.request_slot + 1})):
                out, _ = done(start("esu", "allocations", "--wallet", wallet, *c, "--json"))
                rows = json.loads(out)["allocations"]
                assert {r["slot"] for r in rows} == slots and all(r["verified"] for r in rows), rows
                assert json.loads(out)["ok"]
            table = runner.invoke(app, ["esu", "allocations", "--wallet", "esu01", *c])
            assert table.exit_code == 0 and max(len(line) for line in table.stdout.splitlines()) <= 80
            assert table.stdout.splitlines()[1].split()[-1] == "ok"
        finally:
            _, err = stop(relayer)
        logs = json_lines(err)
        relayed = [entry for entry in logs if entry["event"] == "relayed" and entry["status"] == "submitted"]
        assert sorted(entry["slot"] for entry in relayed) == [chain.request_slot, chain.request_slot + 1]


def _run_the_wallets(chain: Chain, config, c: list[str]) -> None:
    """tokens for both wallets; at a fresh slot s, esu01 asks on time and esu02 signs for s - 1 (a late clock),
    is refused, and is re-signed by `status` for s + 1 with the same token; both confirmed on chain."""
    for p in [start("esu", "tokens", "--wallet", w, *c, "--json") for w in ("esu01", "esu02")]:
        out, _ = done(p)
        today = json.loads(out)["epochs"][0]
        assert today["obtained"] == 4 and today["held"] == 4, out
    start_slot = chain.slot()
    chain.wait_until(chain.client.slot_end(max(start_slot, 1)))  # a fresh slot s >= 1: time to act in it
    s = chain.request_slot = chain.slot()
    on_time = start("esu", "request", "--wallet", "esu01", "--demand-kw", "7.4", "--soc-pct", "35", "--slots", "2", *c)
    late_args = ["--demand-kw", "3", "--soc-pct", "50", "--slots", "1", "--slot", str(s - 1)]
    late = start("esu", "request", "--wallet", "esu02", *late_args, *c)
    assert done(on_time)[0].endswith(f"slot {s}: queued at the relayer\n")
    out, _ = done(late)
    assert f"late: slot: slot {s - 1} is over (current {s})" in out.replace("\n  ", " ")
    chain.wait_until(chain.client.slot_end(s))
    first = [start("esu", "status", "--wallet", w, *c, "--json") for w in ("esu01", "esu02")]
    (one, _), (two, _) = (done(p) for p in first)
    [r1], [r2] = json.loads(one)["requests"], json.loads(two)["requests"]
    assert r1["status"] == "confirmed" and r1["slot"] == s and r1["arrival"] is not None, r1
    assert r2["status"] == "queued" and r2["slot"] == s + 1 and r2["slots_tried"] == [s - 1, s + 1], r2
    assert r2["note"] == f"missed slot {s - 1}: re-signed for slot {s + 1} with the same token and sent again"
    chain.wait_until(chain.client.slot_end(s + 1))
    out, _ = done(start("esu", "status", "--wallet", "esu02", *c))
    lines = out.splitlines()
    assert lines[0].split() == ["req", "slot", "status", "arrival", "note"]
    assert lines[1].split()[:3] == ["1", str(s + 1), "confirmed"], out
    assert max(len(line) for line in lines) <= 80
