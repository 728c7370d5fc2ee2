"""`gridchain escrow board serve` as a process: banner first (its URL), the board answers over HTTP and keeps what
it was given in the store across a restart, `board health` reads it, SIGTERM stops it (exit 0); bad input exits 2
naming the option; the board's schema is in `gridchain store`'s registry."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys

from typer.testing import CliRunner

from gridchain.cli import SCHEMAS, app
from gridchain.escrow.negotiation.model import ETH, Listing, TradeKey
from gridchain.escrow.negotiation.service.board import SCHEMA
from gridchain.escrow.negotiation.service.http import BoardClient

runner = CliRunner()
NOW = 1_800_000_000


def start(store_url: str) -> tuple[subprocess.Popen, str]:
    command = [sys.executable, "-m", "gridchain", "escrow", "board", "serve", "--port", "0", "--json"]
    process = subprocess.Popen([*command, "--store-url", store_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    line = process.stdout.readline()
    assert line, process.stderr.read()
    banner = json.loads(line)
    assert banner["service"] == "negotiation board" and banner["pid"] == process.pid
    return process, banner["url"]


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    return err


def test_the_board_serves_keeps_its_store_across_a_restart_and_stops_on_sigterm(tmp_path):
    url_of_store = f"sqlite:///{tmp_path / 'board.db'}"
    key = TradeKey.fresh(random.Random(3))
    listing = Listing(key.public, "c1", 1500, 100, 4, 10, 20, ETH, 2**39)
    process, url = start(url_of_store)
    try:
        client = BoardClient(url)
        assert client.post_offer(listing) == listing
        seq = client.post(key.public, bytes(632))
        client.close()
        r = runner.invoke(app, ["escrow", "board", "health", "--board-url", url])
        assert r.exit_code == 0, r.stderr
        health = json.loads(r.stdout)
        assert health["service"] == "negotiation-board" and health["ok"] is True
    finally:
        err = stop(process)
    assert "negotiation board stopped" in err and '"posted"' in err  # one JSON line per change
    process, url = start(url_of_store)
    try:
        client = BoardClient(url)
        assert client.offers("c1") == [listing] and client.fetch(key.public) == [(seq, bytes(632))]
        client.close()
    finally:
        stop(process)


def test_board_health_of_nothing_is_bad_input(tmp_path):
    r = runner.invoke(app, ["escrow", "board", "health", "--board-url", "http://127.0.0.1:9"])
    assert r.exit_code == 2 and r.stderr.startswith("error: --board-url"), r.stderr


def test_a_bad_store_url_or_port_exits_2_naming_the_option(tmp_path):
    r = runner.invoke(app, ["escrow", "board", "serve", "--store-url", "nosuch://x"])
    assert r.exit_code == 2 and r.stderr.startswith("error: --store-url"), r.stderr
    store = f"sqlite:///{tmp_path / 'b.db'}"
    r = runner.invoke(app, ["escrow", "board", "serve", "--store-url", store, "--port", "70000"])
    assert r.exit_code == 2 and r.stderr.startswith("error: --port"), r.stderr


def test_the_boards_schema_is_registered_for_gridchain_store():
    assert SCHEMA in SCHEMAS and [s.name for s in SCHEMAS].count("negotiation") == 1
