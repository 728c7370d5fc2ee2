"""A V2V trade between real processes, only through the CLI and the config: anvil mining every second, `gridchain
init`, `deploy v2v`, `v2v register` of three EVs, two `v2v provider serve` daemons, and a consumer that opens an
auction, ends it, takes the energy from the winner it finds at the URL announced on chain, settles and withdraws;
balances checked on chain; every daemon stopped by PID with SIGTERM (exit 0). And the bad inputs of these commands,
each a one-line error with exit code 2."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from gridchain.chain.anvil import start_anvil
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.cli import app
from gridchain.v2v.client import V2VClient
from tests.support.processes import Processes, free_ports, json_lines, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.pilot]  # real-time processes: `make pilot-test`

TWEI = 10**12
AMOUNT = 6_000  # [Wh]
MAX_RATE, P1_RESERVE, P2_RESERVE = 300 * TWEI, 150 * TWEI, 200 * TWEI


def bad_in_process(pilot: Processes, *args: str) -> str:
    """The one-line error of a command that must refuse its input, run through typer's runner in this process
    (no interpreter start: the quick cases)."""
    r = CliRunner().invoke(app, list(args), env={"GRIDCHAIN_CONFIG": str(pilot.config)})
    assert r.exit_code == 2 and r.stdout == "" and r.stderr.count("\n") == 1, (r.exit_code, r.stdout, r.stderr)
    return r.stderr.strip()


def serve(pilot: Processes, ev: str, reserve: int) -> dict:
    """Start `v2v provider serve` for `ev` bidding down to `reserve`; its banner."""
    args = ["--ev", ev, "--rate-wei-per-kwh", str(reserve), "--step-pm", "200"]
    banner = pilot.start(ev, "v2v", "provider", "serve", *args)
    assert banner["ev"] == ev and banner["pid"] == pilot.daemons[ev].pid
    return banner


def stop_provider(pilot: Processes, ev: str) -> list[dict]:
    """SIGTERM by PID (exit 0) with `stopped` as its last action; its JSON log lines."""
    lines = json_lines(pilot.stop(ev)[0])
    assert lines[-1]["action"] == "stopped"
    return lines


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    node = start_anvil(block_time=1)
    folder = tmp_path_factory.mktemp("v2v") / "pilot"
    p = Processes(folder / "gridchain.toml")
    p.folder = folder
    try:
        base = free_ports((10, 11))  # init puts the two providers at port_base + 10 and + 11
        init = ["init", folder, "--members", "0", "--light-keystores", "--rpc-url", node.url]
        assert p.run(*init, "--port-base", base).returncode == 0
        deployed = p.json("deploy", "v2v")
        p.address = deployed["contracts"]["v2v"]["address"]
        p.gateway = RpcGateway(node.url, [])
        p.client = V2VClient(p.gateway, p.address)
        p.evs = {ev: p.json("v2v", "register", "--ev", ev) for ev in ("p1", "p2", "c1")}
        yield p
    finally:
        p.kill_all()
        node.stop()


def auction(amount_wh: int, duration_s: int) -> list[str]:
    """The options of `v2v auction open` for `amount_wh` at most MAX_RATE, bidding open `duration_s`."""
    return ["--amount-wh", str(amount_wh), "--max-rate-wei-per-kwh", str(MAX_RATE), "--duration-s", str(duration_s)]


def test_register_announces_each_providers_url_on_chain(pilot):
    p1, p2, c1 = (pilot.evs[ev] for ev in ("p1", "p2", "c1"))
    assert p1["action"] == "admitted" and p1["url"].startswith("http://127.0.0.1:")
    assert pilot.client.announced(p1["address"]) == p1["url"] and pilot.client.announced(c1["address"]) == ""
    assert p2["url"] != p1["url"] and pilot.client.admitted_at(c1["address"]) > 0
    assert pilot.json("v2v", "register", "--ev", "p1")["action"] == "already admitted"  # idempotent


def test_a_trade_between_three_processes(pilot):
    p1, p2, c1 = (pilot.evs[ev]["address"] for ev in ("p1", "p2", "c1"))
    serve(pilot, "p1", P1_RESERVE)
    serve(pilot, "p2", P2_RESERVE)
    before = {a: pilot.gateway.balance(a) for a in (p1, p2, c1)}
    opened = pilot.json("v2v", "auction", "open", "--ev", "c1", *auction(AMOUNT, duration_s=12))
    assert opened["deposit_wei"] == MAX_RATE * AMOUNT // 1000
    early = pilot.bad("v2v", "auction", "end", "--ev", "c1")
    assert early.startswith("error: --ev: bidding is open until "), early
    wait_until(lambda: pilot.gateway.now() >= opened["closing_time"], 60, "bidding to close")

    listed = pilot.json("v2v", "auctions")["auctions"]
    assert len(listed) == 1 and listed[0]["state"] == "to end"
    bidders = {b["provider"] for b in listed[0]["bids"]}
    assert bidders == {p1, p2}, listed  # both daemons bid, p2 down to its reserve
    ended = pilot.json("v2v", "auction", "end", "--ev", "c1")
    assert ended["winner"] == p1 and P1_RESERVE <= ended["rate_wei_per_kwh"] < P2_RESERVE
    assert ended["url"] == pilot.evs["p1"]["url"]  # found on chain, no out-of-band help

    charged = pilot.json("v2v", "auction", "session", "--ev", "c1")
    assert charged["provider"] == p1 and charged["delivered_wh"] == charged["receipted_wh"] == AMOUNT
    assert charged["increments"] == AMOUNT // 2000
    wait_until(lambda: pilot.client.auction(c1).closing_time == 0, 30, "the provider to settle")
    settled = pilot.json("v2v", "auction", "settle", "--ev", "c1")
    price = ended["rate_wei_per_kwh"] * AMOUNT // 1000
    assert settled["settled_by"] == "already closed" and settled["delivered_wh"] == AMOUNT
    assert settled["to_provider_wei"] == price + MAX_RATE * AMOUNT // 1000  # price + collateral (= deposit)
    withdrawn = pilot.json("v2v", "auction", "withdraw", "--ev", "c1")
    assert withdrawn["withdrawn_wei"] == 0  # the consumer was paid by the settlement's push

    wait_until(lambda: pilot.client.pending_returns(p2) == 0, 30, "p2 to withdraw its collateral")
    after = {a: pilot.gateway.balance(a) for a in (p1, p2, c1)}
    gas = 10**16  # far above what these few transactions cost at anvil's fees
    assert 0 < after[p1] - before[p1] <= price and after[p1] - before[p1] > price - gas
    assert 0 < before[p2] - after[p2] < gas  # the loser lost only gas: its collateral came back
    assert price <= before[c1] - after[c1] < price + gas
    assert pilot.client.balance() == 0
    p1_log = stop_provider(pilot, "p1")
    p2_log = stop_provider(pilot, "p2")
    assert [e["action"] for e in p1_log if e["action"] in ("won", "settled")] == ["won", "settled"]
    assert any(e["action"] == "withdrew" for e in p2_log)
    auctions = pilot.json("v2v", "auctions", "--all")["auctions"]
    assert auctions[0]["state"] == "closed" and pilot.json("v2v", "auctions")["auctions"] == []


def test_a_winner_whose_service_does_not_answer_is_a_one_line_error(pilot):
    serve(pilot, "p1", P1_RESERVE)
    opened = pilot.json("v2v", "auction", "open", "--ev", "c1", *auction(2000, duration_s=4))
    wait_until(lambda: pilot.gateway.now() >= opened["closing_time"], 60, "bidding to close")
    stop_provider(pilot, "p1")  # the winner goes away before the consumer comes
    assert pilot.json("v2v", "auction", "end", "--ev", "c1")["winner"] == pilot.evs["p1"]["address"]
    error = pilot.bad("v2v", "auction", "session", "--ev", "c1", "--timeout-s", "2")
    url = pilot.evs["p1"]["url"]
    assert error.startswith(f"error: winner: the provider's service at {url} does not answer"), error


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("v2v", "register", "--ev", "zz"), "error: --ev: 'zz' is not an EV of this config (no "),
        (("v2v", "auction", "withdraw", "--ev", "../keys/owner"), "error: --ev: '../keys/owner' is not an EV of"),
        (("v2v", "auction", "end", "--ev", "p2"), "error: --ev: p2 has no open auction"),
        (("v2v", "auction", "settle", "--ev", "p2"), "error: --ev: p2 has no trade to settle"),
        (("v2v", "auction", "session", "--ev", "p2"), "error: --ev: p2's auction is not open (none to trade)"),
        (("v2v", "provider", "serve", "--ev", "c1"), "error: v2v.listen.c1: is not configured"),
        (("v2v", "provider", "serve", "--ev", "p1", "--step-pm", "0"), "error: --step-pm: 0 is outside 1..1000"),
        (
            ("v2v", "auction", "open", "--ev", "p2", "--amount-wh", "0", "--max-rate-wei-per-kwh", "1"),
            "error: --amount-wh: 0 is outside 1..",
        ),
    ],
)
def test_bad_inputs_are_one_line_errors(pilot, args, expected):
    assert bad_in_process(pilot, *args).startswith(expected)


def test_a_provider_whose_port_is_taken_is_a_one_line_error(pilot):
    host, port = pilot.evs["p2"]["url"].removeprefix("http://").split(":")
    with socket.socket() as s:
        s.bind((host, int(port)))
        s.listen(1)
        error = bad_in_process(pilot, "v2v", "provider", "serve", "--ev", "p2")
    assert error.startswith(f"error: v2v.listen.p2: cannot listen on {host}:{port}: "), error


def test_an_ev_not_admitted_cannot_open_an_auction(pilot):
    from gridchain.crypto.keystore import new_key, write_keystore

    password = (pilot.folder / "secrets/keystore-password").read_text().strip()
    write_keystore(pilot.folder / "evs/c9.json", new_key(), password, 2**14)
    error = bad_in_process(
        pilot, "v2v", "auction", "open", "--ev", "c9", "--amount-wh", "1", "--max-rate-wei-per-kwh", "1"
    )
    assert error.startswith("error: --ev: c9 (0x") and error.endswith(
        "is not admitted: run `gridchain v2v register --ev c9`"
    )
