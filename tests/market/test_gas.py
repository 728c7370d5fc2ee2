"""The call market's gas-report section on small sizes: the figures, the targets' verdicts, the books."""

from __future__ import annotations

from rich.console import Console

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.market import gas


def test_a_book_is_fixed_by_its_seed_and_split_half_and_half():
    book = gas.make_book(50)
    assert book == gas.make_book(50) and book != gas.make_book(50, seed=gas.BOOK_SEED + 1)
    assert sum(o.side == 0 for o in book) == 25 and {o.zone for o in book} == {0, 1}


def test_the_section_on_small_sizes():
    report = gas.measure_market(lambda: BoaGateway(accounts=gas.TRADERS + 1), sizes=(16, 40), baseline_sizes=(10,))
    m, base = report["market"], report["market_baseline"]
    assert m["commit_plus_reveal"] == m["commit"] + m["reveal"] <= 60_000
    # an interval's first commit and reveal write their ring words from zero: 17,100 gas more each, at least
    assert m["commit_first_lap"] - m["commit"] >= 17_000 and m["reveal_first_lap"] - m["reveal"] >= 17_000
    assert set(m["clear"]) == {"10", "16", "40"} and m["max_orders_in_one_clear"] == 40
    assert m["clear"]["40"]["per_order"] < m["clear"]["16"]["per_order"]  # the fixed part spreads
    b = base["sizes"]["10"]
    # at n = 10 the baseline's sorting has little to do, and the clear's fixed part is spread over few orders
    assert b["clear"] > 4 * m["clear"]["10"]["gas"] and b["submit_mean"] > 3 * m["commit_plus_reveal"]
    assert base["ratios"]["10"]["clear"] > 4 and base["note"] is None
    targets = gas.targets(report | {"market": m | {"clear": m["clear"] | {"1000": {"per_order": 3_000}}}})
    assert targets["market_commit_plus_reveal"]["met"] and targets["market_orders_in_one_clear"]["met"] is False
    assert targets["market_clear_per_order_at_1000"]["met"] is False
    assert targets["market_baseline_ratio_clear"]["n"] == 10
    console = Console(record=True, width=120)
    gas.show(report, console, "prague, embedded chain")
    assert "lemlab" in console.export_text()


def test_without_the_baseline_folder_the_section_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(gas.gas_before, "BASELINE_DIR", tmp_path)
    report = gas.measure_market(lambda: BoaGateway(accounts=gas.TRADERS + 1), sizes=(16,), baseline_sizes=(10,))
    assert report["market_baseline"]["sizes"] == {} and "skipped" in report["market_baseline"]["note"]
    assert "market_baseline_ratio_clear" not in gas.targets(report)
