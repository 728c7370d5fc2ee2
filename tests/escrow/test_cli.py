"""`gridchain escrow demo` on the embedded chain: exit 0, the summary's structure, every trade negotiated on the
board (its terms are what the escrow opened), every story settled as told, the double spends refused with the
contract's reasons, the conservation check true and recomputable from the trades, 80-column lines, the figure
written; the same over a running board (HTTP); bad input exits 2 with one line naming the option."""

from __future__ import annotations

import json

import pytest
from eth_utils import to_checksum_address
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.escrow.negotiation.model import CIPHERTEXT_SIZES, ENERGY_STEP_WH, TURNS, amount_of
from gridchain.escrow.negotiation.service.board import Board
from gridchain.escrow.negotiation.service.http import board_app
from gridchain.escrow.scenarios import GAS_WEI, NOTE_COIN, NOTE_FEE
from gridchain.net.server import LoopbackServer
from gridchain.store.engine import open_store, sqlite_url

runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("escrow")
    r = runner.invoke(app, ["escrow", "demo", "--meters", "2", "--seed", "7", "--json", "--out", str(out)])
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout), out


def test_the_demo_settles_every_story_and_conserves_money(demo):
    s, out = demo
    trades = {t["trade"]: t for t in s["trades"]}
    assert list(trades) == ["a", "b", "c", "c2", "d", "e", "f", "g"]
    assert len({t["buyer"] for t in s["trades"]} | {t["seller"] for t in s["trades"]}) == 16  # fresh per trade
    assert {k: t["signed"] for k, t in trades.items()} == {
        "a": "buyer+seller", "b": "seller+arbiter", "c": "buyer+seller", "c2": "buyer+seller",
        "d": "buyer+arbiter", "e": "buyer (voucher)", "f": "none (deadline)", "g": "buyer+seller",
    }  # fmt: skip
    full = {k for k, t in trades.items() if t["paid"] == t["amount"] and t["refunded"] == 0}
    assert {"a", "b", "c2", "g"} <= full and not {"c", "d", "f"} & full  # e: in full if the meter reached the energy
    assert trades["c"]["paid"] == 0 and trades["f"]["paid"] == 0 and trades["c"]["freed"] is True
    assert (trades["c2"]["meter"], trades["c2"]["first_interval"]) == (
        trades["c"]["meter"],
        trades["c"]["first_interval"],
    )
    d, e = trades["d"], trades["e"]
    assert 0 < d["paid"] < d["amount"] and d["paid"] == d["amount"] * d["metered_wh"] // d["energy_wh"]
    assert e["vouchers"] == sorted(e["vouchers"]) and e["paid"] == e["vouchers"][-1] and len(e["vouchers"]) == 8
    for t in s["trades"]:
        assert t["paid"] + t["refunded"] == t["amount"] and t["gas"]["open"] > 21_000 and t["gas"]["settle"] > 21_000
    c = s["conservation"]
    assert c["ok"] is True and c["held_after"] == [0, 0] and c["opened"] == 8 and c["credited"] == 0
    for token in ("ETH", "coin"):
        mine = [t for t in s["trades"] if t["token"] == token]
        assert c[token] == {
            "escrowed": sum(t["amount"] for t in mine),
            "paid": sum(t["paid"] for t in mine),
            "refunded": sum(t["refunded"] for t in mine),
        }
    reasons = [r["reason"] for r in s["refusals"]]
    assert reasons.count("trade_escrow: energy already locked") == 2
    assert "trade_escrow: trade used before" in reasons and "trade_escrow: deadline not reached" in reasons
    assert reasons.count("trade_escrow: trade not open") == 3
    assert (out / "escrow_demo_m2_s7.png").stat().st_size > 10_000 and s["files"][1].endswith(".png")
    assert json.loads((out / "escrow_demo_m2_s7.json").read_text())["conservation"]["ok"] is True


def test_every_trade_is_negotiated_and_opened_on_the_agreed_terms(demo):
    s, _ = demo
    n = s["negotiation"]
    assert n["board"] == "in-process" and n["listings"] == len(s["trades"]) == 8
    assert n["envelopes"] == n["board_held"] == TURNS * 8 and len(n["envelope_bytes"]) == 1
    assert n["envelope_bytes"][0] in CIPHERTEXT_SIZES
    prices = set()
    for t in s["trades"]:
        g = t["negotiation"]
        assert g["envelopes"] == TURNS and g["envelope_bytes"] == n["envelope_bytes"] and 2 <= g["rounds"] <= 8
        assert 0.8 * g["posted_per_kwh"] <= g["price_per_kwh"] <= 1.2 * g["posted_per_kwh"]  # inside the listing
        assert t["amount"] == amount_of(g["price_per_kwh"], t["energy_wh"]) and t["energy_wh"] % ENERGY_STEP_WH == 0
        prices.add(g["price_per_kwh"])
    assert len(prices) == 8  # each trade's own price, not the posted one


def test_g_buyer_is_paid_by_notes_alone(demo):
    """g's fresh buyer got nothing but its two notes (the gas note's ETH, the coin note into its escrow balance):
    no coin of its own before it opened, and after the release it took out exactly the note less the trade."""
    s, _ = demo
    g = next(t for t in s["trades"] if t["trade"] == "g")
    f = g["funded"]
    assert f["gas_note"] == GAS_WEI - f["gas_fee"] and f["gas_fee"] == GAS_WEI * NOTE_FEE // 10_000
    assert f["coin_note"] == NOTE_COIN - f["coin_fee"] and f["coin_fee"] == NOTE_COIN * NOTE_FEE // 10_000
    assert f["eth_after_notes"] == f["gas_note"] and f["coins_held"] == 0
    assert g["token"] == "coin" and f["change"] == f["coin_note"] - g["amount"] > 0
    assert f["gas_redeem_gas"] > 21_000 and f["coin_redeem_gas"] > f["gas_redeem_gas"]  # the escrow's deposit
    assert g["gas"]["open"] < 90_000  # from the escrow balance: no transferFrom


def test_the_demo_negotiates_on_a_running_board_over_http(tmp_path):
    """A served board (HTTP): the same stories, amounts and refusals as in-process; new keys and addresses (the
    board has seen nothing twice), every envelope held by the board."""
    store = open_store(sqlite_url(tmp_path / "board.db"))
    board = Board(store)
    args = ["escrow", "demo", "--meters", "1", "--json"]
    try:
        with LoopbackServer(board_app(board)) as server:
            runs = [runner.invoke(app, [*args, "--board-url", server.url, "--out", str(tmp_path / f"o{i}")])
                    for i in range(2)]  # fmt: skip
        local = runner.invoke(app, [*args, "--out", str(tmp_path / "local")])
        held = board.counts()
    finally:
        store.close()
    assert all(r.exit_code == 0 for r in [*runs, local]), [r.stderr[-400:] for r in [*runs, local]]
    (a, b), c = [json.loads(r.stdout) for r in runs], json.loads(local.stdout)
    keep = ("trade", "amount", "paid", "refunded", "signed", "energy_wh")
    assert [{k: t[k] for k in keep} for t in a["trades"]] == [{k: t[k] for k in keep} for t in c["trades"]]
    assert a["refusals"] == c["refusals"] and a["conservation"]["ok"] and b["conservation"]["ok"]
    assert a["negotiation"]["board"].startswith("http://127.0.0.1:") and "board_held" not in a["negotiation"]
    addresses = [{to_checksum_address(t[k]) for t in x["trades"] for k in ("buyer", "seller")} for x in (a, b, c)]
    assert all(len(x) == 16 for x in addresses) and not (addresses[0] & addresses[1] or addresses[0] & addresses[2])
    assert held["listings"] == 16 and held["envelopes"] == a["negotiation"]["envelopes"] * 2 == 2 * TURNS * 8


def test_the_tables_fit_80_columns(tmp_path):
    r = runner.invoke(app, ["escrow", "demo", "--meters", "1", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines if not line.startswith("wrote ")) <= 80
    assert lines[-3].endswith(": conserved")


@pytest.mark.parametrize(
    "args, option",
    [
        (["--meters", "0"], "--meters"),
        (["--meters", "7"], "--meters"),
        (["--seed", "-1"], "--seed"),
        (["--seed", str(2**32)], "--seed"),
        (["--rpc-url", "ftp://x"], "--rpc-url"),
        (["--rpc-url", "http://127.0.0.1:9"], "--rpc-url"),
        (["--board-url", "ftp://x"], "--board-url"),
        (["--board-url", "http://127.0.0.1:9"], "--board-url"),
    ],
)
def test_bad_input_exits_2_naming_the_option(tmp_path, args, option):
    r = runner.invoke(app, ["escrow", "demo", *args, "--out", str(tmp_path)])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"error: {option}") and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_an_unwritable_out_folder_is_bad_input(tmp_path):
    (tmp_path / "file").write_text("")
    r = runner.invoke(app, ["escrow", "demo", "--out", str(tmp_path / "file" / "sub")])
    assert r.exit_code == 2 and r.stderr.startswith("error: --out")


@pytest.mark.integration
def test_the_demo_on_anvil_settles_as_on_the_embedded_chain(tmp_path):
    """Over JSON-RPC (anvil, Osaka): fresh keys funded by the relayer, the node's clock moved; the same stories,
    money and refusals as on the embedded chain (gas agrees up to the signatures' bytes)."""
    from gridchain.chain.anvil import start_anvil

    args = ["escrow", "demo", "--json"]
    embedded = runner.invoke(app, [*args, "--out", str(tmp_path / "boa")])
    assert embedded.exit_code == 0, embedded.stderr
    with start_anvil(hardfork="osaka", accounts=1) as node:
        r = runner.invoke(app, [*args, "--rpc-url", node.url, "--out", str(tmp_path / "rpc")])
    assert r.exit_code == 0, r.stderr
    a, b = json.loads(embedded.stdout), json.loads(r.stdout)
    assert (a["chain"], b["chain"]) == ("embedded", "rpc") and b["conservation"]["ok"] is True
    keep = ("trade", "token", "amount", "signed", "paid", "refunded", "energy_wh")
    assert [{k: t[k] for k in keep} for t in b["trades"]] == [{k: t[k] for k in keep} for t in a["trades"]]
    assert b["refusals"] == a["refusals"] and b["conservation"] == a["conservation"]
    for x, y in zip(a["trades"], b["trades"], strict=True):
        assert all(abs(x["gas"][k] - y["gas"][k]) <= 3 * 4 * 12 for k in ("open", "settle")), (x["gas"], y["gas"])
