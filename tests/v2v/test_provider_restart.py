"""`v2v provider serve` SIGKILLed and restarted, between real processes (anvil mining every second, the CLI, the
pilot's SQLite store): killed holding receipts before it settled, it comes back with its session, the consumer's
later receipt is accepted on the same session and the trade settles once; killed right after it sent a settle
transaction (the test hook), it finds the settlement on chain at restart and sends nothing again."""

from __future__ import annotations

import json
import os
import signal

import pytest

from gridchain.chain.anvil import start_anvil
from gridchain.chain.rpc_gateway import RpcGateway
from gridchain.crypto.keystore import read_keystore
from gridchain.store.engine import open_store, sqlite_url
from gridchain.v2v.cli.provider import KILL_HOOK
from gridchain.v2v.client import V2VClient
from gridchain.v2v.parties import ConsumerEV
from gridchain.v2v.parties.provider_store import ProviderStore
from gridchain.v2v.service import ProviderClient, charge
from tests.support.processes import Processes, free_ports, json_lines, kill, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.pilot]  # real-time processes: `make pilot-test`

TWEI = 10**12
AMOUNT, MAX_RATE, RESERVE = 6_000, 300 * TWEI, 150 * TWEI  # [Wh], [wei/kWh], [wei/kWh]


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    node = start_anvil(block_time=1)
    folder = tmp_path_factory.mktemp("v2v-restart") / "pilot"
    p = Processes(folder / "gridchain.toml")
    try:
        init = ["init", folder, "--members", "0", "--light-keystores", "--rpc-url", node.url]
        assert p.run(*init, "--port-base", free_ports((10, 11))).returncode == 0
        address = p.json("deploy", "v2v")["contracts"]["v2v"]["address"]
        p.client = V2VClient(RpcGateway(node.url, []), address)
        p.evs = {ev: p.json("v2v", "register", "--ev", ev) for ev in ("p1", "c1")}
        password = (folder / "secrets/keystore-password").read_text().strip()
        p.consumer = ConsumerEV(p.client, read_keystore(folder / "evs/c1.json", password, "c1"))
        p.store = open_store(sqlite_url(folder / "state/gridchain.db"))
        p.provider_store = ProviderStore(p.store, p.evs["p1"]["address"])
        yield p
    finally:
        p.kill_all()
        if hasattr(p, "store"):
            p.store.close()
        node.stop()


def serve(pilot: Processes) -> dict:
    """Start p1 bidding its reserve at once; its first log line (what it restored)."""
    banner = pilot.start(
        "p1", "v2v", "provider", "serve", "--ev", "p1", "--rate-wei-per-kwh", RESERVE, "--step-pm", 1000
    )
    assert banner["store"].startswith("sqlite:///")
    restored = json.loads(pilot.daemons["p1"].stdout.readline())
    assert restored["action"] == "restored", restored
    return restored


def won_trade(pilot: Processes) -> bytes:
    """c1 opens an auction, p1 bids, c1 ends it: the access token."""
    args = ["--amount-wh", AMOUNT, "--max-rate-wei-per-kwh", MAX_RATE, "--duration-s", 4]
    opened = pilot.json("v2v", "auction", "open", "--ev", "c1", *args)
    wait_until(lambda: pilot.client.gateway.now() >= opened["closing_time"], 60, "bidding to close")
    ended = pilot.json("v2v", "auction", "end", "--ev", "c1")
    assert ended["winner"] == pilot.evs["p1"]["address"], ended
    return bytes.fromhex(ended["token"][2:])


def closes(pilot: Processes) -> list:
    c = pilot.client
    return c.gateway.events(c.artifact, c.address, "TradeClosed", 0)


def settlement(pilot: Processes, token: bytes):
    return pilot.provider_store.settlements().get(token)


def test_killed_holding_receipts_it_restarts_takes_the_next_receipt_and_settles_once(pilot):
    assert serve(pilot)["sessions"] == 0
    token = won_trade(pilot)
    http = ProviderClient(pilot.evs["p1"]["url"])
    hello = pilot.consumer.hello(token)
    pilot.consumer.check_proof(hello, http.hello(hello))
    for _ in range(2):  # 4 of 6 kWh delivered and receipted: it waits for the rest (the token's hour is young)
        http.receipt(pilot.consumer.receipt(token, http.deliver(token)))
    kill(pilot.daemons.pop("p1"))  # SIGKILL by PID
    assert closes(pilot) == [] and settlement(pilot, token) is None

    restored = serve(pilot)
    assert (restored["sessions"], restored["receipted_wh"]) == (1, 4_000)
    delivered = http.deliver(token)  # the same session, its secret kept
    assert delivered == AMOUNT and http.receipt(pilot.consumer.receipt(token, delivered)) == AMOUNT
    http.close()
    wait_until(lambda: settlement(pilot, token) and settlement(pilot, token).state == "settled", 30, "p1 to settle")
    log = json_lines(pilot.stop("p1")[0])
    [closed] = closes(pilot)
    assert closed.args["delivered_wh"] == AMOUNT and closed.args["provider"] == pilot.evs["p1"]["address"]
    assert [e["action"] for e in log if "settle" in e["action"]] == ["settled"]


def test_killed_right_after_sending_a_settlement_it_does_not_settle_twice(pilot, monkeypatch):
    before = len(closes(pilot))
    monkeypatch.setenv(KILL_HOOK, "after-settle-sent")
    serve(pilot)
    monkeypatch.delenv(KILL_HOOK)
    token = won_trade(pilot)
    http = ProviderClient(pilot.evs["p1"]["url"])
    charge(pilot.consumer, http, token, lambda _receipt: None)
    http.close()
    hooked = pilot.daemons.pop("p1")
    assert hooked.wait(30) == -signal.SIGKILL  # it killed itself once the settle transaction was sent
    assert len(closes(pilot)) == before + 1 and settlement(pilot, token).state == "sent"

    serve(pilot)
    wait_until(lambda: settlement(pilot, token).state != "sent", 30, "p1 to look the settlement up")
    log = json_lines(pilot.stop("p1")[0])
    assert len(closes(pilot)) == before + 1 and settlement(pilot, token).state == "settled"
    found = [e for e in log if "settle" in e["action"]]
    assert [e["action"] for e in found] == ["settlement found on chain"] and found[0]["delivered_wh"] == AMOUNT
    assert found[0]["by"] == "settle with its receipt" and found[0]["tx_hash"] == closes(pilot)[-1].tx_hash
    assert os.environ.get(KILL_HOOK) is None
