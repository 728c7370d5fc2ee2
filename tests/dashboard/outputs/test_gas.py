"""The gas report's reader on the shapes the market's sections write: verdicts beside gas per size, a section's
words (`contract`, `note`), its parameters (`config`) and one row per call. Only gas is drawn; each of the others is
in a table; a value of the wrong kind is an error naming its field."""

from __future__ import annotations

import copy

import pytest

from gridchain.dashboard.outputs import gas
from gridchain.errors import InputError

SECTIONS = {
    "market": {
        "deploy": 2_548_832,
        "commit_plus_reveal": 59_952,
        "clear": {"50": {"gas": 288_889, "per_order": 5_778, "under_cap": True}},
        "max_orders_in_one_clear": 50,
    },
    "market_baseline": {
        "contract": "benchmarks/baseline/lemlab_clearing.vy",
        "sizes": {"50": {"submit_mean": 180_805, "clear": None, "under_cap": False, "pairs": 28}},
        "largest_measured_under_cap": None,
        "ratios": {"50": {"clear": 31.0, "total": 5.5}},
        "note": None,
    },
    "market_settlement": {
        "config": {"orders": 100, "traders": 10, "seed": 19},
        "deploy": 2_279_693,
        "units": 10,
        "calls": [{"units": 10, "gas": 1_081_178, "gas_per_unit": 108_118}],
    },
}


def doc(sections: dict) -> dict:
    return {"hardfork": "osaka", "chain": "anvil", "config": {"seed": 0}, "targets": {}, **sections}


def by_title(view: dict) -> dict[str, dict]:
    return {s["title"]: s for s in view["sections"]}


def rows(section: dict) -> dict[str, list[str]]:
    return {r[0]["text"]: [c["text"] for c in r[1:]] for r in section["table"]["rows"]}


def drawn(section: dict) -> list[str]:
    traces = section["chart"]["traces"] if section["chart"] else []
    return (
        [y for t in traces for y in t["y"]]
        if traces and traces[0].get("orientation") == "h"
        else [t["name"] for t in traces]
    )


def test_verdicts_words_parameters_and_calls_are_shown_and_only_gas_is_drawn():
    view = gas.view(doc(SECTIONS))
    s = by_title(view)
    sized = s["market: gas per slot size"]
    assert rows(sized)["50"] == ["288,889", "5,778", "✓ yes"]
    assert drawn(sized) == ["clear.gas", "clear.per_order"]  # the verdict is in the table only
    assert "max_orders_in_one_clear" in rows(s["market: gas per function"])
    assert drawn(s["market: gas per function"]) == ["deploy", "commit_plus_reveal"]
    base = s["market baseline: gas per slot size"]
    assert base["text"] == "contract: benchmarks/baseline/lemlab_clearing.vy"
    assert "ratios.clear" not in drawn(base) and "sizes.pairs" not in drawn(base)
    assert rows(base)["50"][:3] == ["180,805", "—", "✗ no"]
    settle = s["market settlement: gas per function"]
    assert rows(settle)["config.orders"] == ["100"] and rows(settle)["calls[1].gas_per_unit"] == ["108,118"]
    assert drawn(settle) == ["deploy", "calls[1].gas", "calls[1].gas_per_unit"]


@pytest.mark.parametrize(
    ("path", "value", "error"),
    [
        (("market", "clear", "50", "under_cap"), "yes", "market.clear.50.under_cap: is not a number"),
        (("market_settlement", "config", "orders"), "100", "market_settlement.config.orders: is not a number"),
        (("market_settlement", "calls", 0, "gas"), [1], "market_settlement.calls[0].gas: is not a number"),
        (("market_baseline", "contract"), 7, "market_baseline.contract: is not text"),
        (("market", "deploy"), "a lot", "market.deploy: is neither gas, gas per size nor notes"),
    ],
)
def test_a_value_of_the_wrong_kind_names_its_field(path, value, error):
    sections = copy.deepcopy(SECTIONS)
    node = sections
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(InputError) as raised:
        gas.view(doc(sections))
    assert str(raised.value) == error
