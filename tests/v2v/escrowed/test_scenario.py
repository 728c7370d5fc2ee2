"""`gridchain v2v escrow-demo` end to end on the embedded chain (and on anvil, integration): each auction's lowest
valid rate wins and its offer is what the escrow opened (in B the lowest was sold elsewhere first: the escrow
refuses it, the next opens); every hostile bid refused with its reason; only the winners' intervals locked, a
losing offer refused by the escrow after its deadline; vouchers per metered interval and the claim (A), the
arbiter's and consumer's split (B); money conserved, recomputed from the escrow's events
and balances; 80-column lines; bad input exits 2 naming the option."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.cli import app
from gridchain.escrow.model import ETH
from gridchain.v2v.escrowed import scenarios
from gridchain.v2v.model import cost

runner = CliRunner()
REASONS = {
    "forged": "refused: offer not signed by the meter's owner",
    "over": "refused: price above the ceiling",
    "skewed": "refused: terms.first_interval is not the request's",
    "late": "refused: late: after the bid deadline",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("v2v")
    r = runner.invoke(app, ["v2v", "escrow-demo", "--seed", "5", "--json", "--out", str(out)])
    assert r.exit_code == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["files"] == [str(out / "v2v_escrow_p4_coin_s5.json"), str(out / "v2v_escrow_p4_coin_s5.png")]
    assert json.loads((out / "v2v_escrow_p4_coin_s5.json").read_text()) == {k: v for k, v in s.items() if k != "files"}
    assert (out / "v2v_escrow_p4_coin_s5.png").stat().st_size > 10_000  # the bids per auction, drawn
    return s


def check_summary(s: dict) -> None:
    config = s["config"]
    ceiling = scenarios.CEILING[config["token"]]
    assert [a["auction"] for a in s["auctions"]] == ["A", "B"] and s["conservation"]["ok"] is True
    for a in s["auctions"]:
        bids = {b["provider"]: b for b in a["bids"]}
        assert len(bids) == config["providers"] + 4
        for name, b in bids.items():
            flaw = name.split(" (")[1][:-1] if " (" in name else None
            if flaw:
                assert b["result"] == REASONS[flaw], (name, b)
            elif b["rate_wei_per_kwh"] > ceiling:
                assert b["result"].startswith("no bid")
            else:
                assert b["result"] in ("won", "lost", "open refused: energy already locked")
        valid = {n: b["rate_wei_per_kwh"] for n, b in bids.items() if b["result"] in ("won", "lost")}
        assert a["winner"] == min(valid, key=valid.get) and bids[a["winner"]]["result"] == "won"
        assert a["rate_wei_per_kwh"] == valid[a["winner"]] and a["losers"] == len(valid) - 1
        skipped = [n for n, b in bids.items() if b["result"].startswith("open refused")]
        if a["resold"]:  # the lowest valid offer was sold elsewhere first: its open refused, the next one opened
            assert skipped == [a["resold"]["by"]] and [x["offer"] for x in a["skipped"]] == skipped
            assert bids[skipped[0]]["rate_wei_per_kwh"] <= a["rate_wei_per_kwh"]
            assert a["resold"]["paid"] == a["resold"]["amount"] and a["resold"]["refunded"] == 0
        else:
            assert skipped == [] and a["skipped"] == []
        assert a["meter"] == bids[a["winner"]]["meter"]
        assert a["amount"] == cost(a["rate_wei_per_kwh"], a["request"]["energy_wh"])
        assert a["winner_locked"] is True and a["losers_locked"] is False
        assert a["paid"] + a["refunded"] == a["amount"] and a["gas"]["open"] > 0
        if a["losers"]:
            assert a["lapsed"]["reason"] == "trade_escrow: deadline passed"
    A, B = s["auctions"]
    assert A["signed"] == "consumer (voucher)" and A["vouchers"] == sorted(A["vouchers"]) and len(A["vouchers"]) == 4
    energy = A["request"]["energy_wh"]
    delivered = 0
    for v, wh in zip(A["vouchers"], A["metered_wh"], strict=True):
        delivered += wh
        assert v == A["amount"] * min(delivered, energy) // energy
    assert A["paid"] == A["vouchers"][-1] and A["gas"]["claim"] > 0
    assert A["resold"] is None and B["resold"] is not None
    assert B["signed"] == "arbiter+consumer" and 0 < B["paid"] < B["amount"]
    assert B["paid"] == B["amount"] * B["metered_wh"][0] // energy and B["gas"]["resolve"] > 0
    assert len({A["buyer"], B["buyer"], A["seller"], B["seller"]}) == 4  # fresh per auction
    c = s["conservation"]
    escrowed = A["amount"] + B["amount"] + B["resold"]["amount"]
    assert c["escrowed"] == escrowed == c["paid"] + c["refunded"] and c["held_after"] == [0, 0]


def test_the_demo_settles_both_auctions_through_the_escrow(demo):
    check_summary(demo)


def test_the_escrow_opened_only_the_winners_offers_on_eth():
    gateway = BoaGateway(accounts=1)
    s = scenarios.run(gateway, scenarios.DemoConfig(seed=2, providers=3, token="ETH"))
    check_summary(s)
    escrow = s["contracts"]["escrow"]
    from gridchain.chain.compiler import compile_contract

    artifact = compile_contract("trade_escrow")
    opened = gateway.events(artifact, escrow, "Opened")
    A, B = s["auctions"]
    assert ["0x" + bytes(e.args["trade"]).hex() for e in opened] == [
        A["trade_id"],
        B["resold"]["trade_id"],
        B["trade_id"],
    ]  # only the winners' offers, and the trade B's first choice sold elsewhere
    assert all(e.args["token"].lower() == ETH for e in opened)
    assert gateway.balance(escrow) == 0
    for a in s["auctions"]:  # gas is free here: the balances moved by exactly paid and refunded
        assert gateway.balance(a["seller"]) == scenarios.GAS_WEI + a["paid"]
        assert gateway.balance(a["buyer"]) == scenarios.GAS_WEI + a["refunded"] + (
            a["lapsed"]["amount"] if a["lapsed"] else 0
        ) + sum(x["amount"] for x in a["skipped"])  # the refused opens' deposits stayed in the consumer's wallet


@pytest.mark.parametrize(("seed", "providers", "token"), [(1, 3, "coin"), (7, 12, "ETH"), (11, 6, "coin")])
def test_other_seeds_and_sizes_settle_too(seed, providers, token):
    check_summary(scenarios.run(BoaGateway(accounts=1), scenarios.DemoConfig(seed, providers, token=token)))


def test_the_demo_reads_at_80_columns(tmp_path):
    r = runner.invoke(app, ["v2v", "escrow-demo", "--seed", "5", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(map(len, lines[:-2])) <= 80 and lines[-1].startswith("wrote ")  # a long temporary folder's name
    assert any("refused: offer not signed by the meter's owner" in line for line in lines)
    assert lines[-3].endswith("conserved")


@pytest.mark.parametrize(
    ("args", "option"),
    [(["--token", "btc"], "--token"), (["--providers", "2"], "--providers"), (["--rpc-url", "ftp://x"], "--rpc-url")],
)
def test_bad_input_exits_2_naming_the_option(args, option):
    r = runner.invoke(app, ["v2v", "escrow-demo", *args])
    assert r.exit_code == 2 and r.stderr.startswith(f"error: {option}") and len(r.stderr.splitlines()) == 1


def test_an_unwritable_out_folder_is_bad_input(tmp_path):
    (tmp_path / "file").write_text("")
    r = runner.invoke(app, ["v2v", "escrow-demo", "--out", str(tmp_path / "file" / "sub")])
    assert r.exit_code == 2 and r.stderr.startswith("error: --out")


@pytest.mark.integration
@pytest.mark.parametrize("token", ["coin", "ETH"])
def test_the_demo_on_anvil_settles_as_on_the_embedded_chain(token, tmp_path):
    """Over JSON-RPC (anvil, Osaka): the fresh keys funded by the relayer, the node's clock moved; the same bids,
    winners and money as on the embedded chain (the coin measured from its Transfer logs, ETH from balances plus
    the fee the claiming seller paid)."""
    from gridchain.chain.anvil import start_anvil

    args = ["v2v", "escrow-demo", "--seed", "5", "--token", token, "--json", "--out", str(tmp_path)]
    embedded = runner.invoke(app, args)
    assert embedded.exit_code == 0, embedded.stderr
    with start_anvil(hardfork="osaka", accounts=1) as node:
        r = runner.invoke(app, [*args, "--rpc-url", node.url])
    assert r.exit_code == 0, r.stderr
    a, b = json.loads(embedded.stdout), json.loads(r.stdout)
    check_summary(b)
    assert (a["chain"], b["chain"]) == ("embedded", "rpc") and b["conservation"] == a["conservation"]
    keep = ("bids", "winner", "amount", "paid", "refunded", "vouchers", "metered_wh", "lapsed", "skipped")
    assert [{k: x.get(k) for k in keep} for x in b["auctions"]] == [{k: x.get(k) for k in keep} for x in a["auctions"]]
    for x, y in zip(a["auctions"], b["auctions"], strict=True):
        assert all(abs(x["gas"][k] - y["gas"][k]) <= 3 * 4 * 12 for k in x["gas"]), (x["gas"], y["gas"])
