"""The committed result of a PETCON auction: entries in integers, budget balance kept, one digest per result."""

from __future__ import annotations

import numpy as np
import pytest
from eth_abi import decode

from gridchain.market.petcon import model, result


@pytest.fixture(scope="module")
def auction():
    m = model.paper_market(np.random.default_rng(3), buyers=4, sellers=5)
    run = model.run_auction(m, damping=model.DAMPING)
    assert run.outcome == "converged"
    return m, run


def _parties(n: int, base: int) -> list[tuple[str, str]]:
    return [(f"0x{base + i:040x}", f"0x{base + 100 + i:040x}") for i in range(n)]


def _result(record, round_=7):
    return result.result_of(record, 1, round_, 1_900_000, 8, _parties(4, 0x10), _parties(5, 0x40))


def test_entries_round_money_in_favour_of_budget_balance(auction):
    m, run = auction
    record = result.record_of(m, run)
    r = _result(record)
    buyers = [e for e in r.entries if e.role == result.BUYER]
    sellers = [e for e in r.entries if e.role == result.SELLER]
    assert [e.amount_micro for e in buyers] == [int(np.ceil(x * 1e6)) for x in model.payments(run.b_usd)]
    assert [e.amount_micro for e in sellers] == [int(np.floor(x * 1e6)) for x in model.rewards(m, run.s_usd_per_kwh)]
    assert model.budget_surplus(m, run.b_usd, run.s_usd_per_kwh) >= 0
    assert sum(e.amount_micro for e in buyers) >= sum(e.amount_micro for e in sellers)
    # energy: buyers take c at the pole, sellers discharge c / rho
    assert [e.energy_wh for e in buyers] == [round(1000 * x) for x in run.final.c_kwh.sum(axis=1)]
    assert [e.energy_wh for e in sellers] == [round(1000 * x / m.rho) for x in run.final.c_kwh.sum(axis=0)]


def test_encoding_decodes_to_the_fields(auction):
    r = _result(result.record_of(*auction))
    lot, round_, first, n, record, entries = decode(
        ["uint256", "uint256", "uint256", "uint256", "bytes32", result.ENTRY_TYPE], r.encoded()
    )
    assert (lot, round_, first, n, record) == (1, 7, 1_900_000, 8, r.record_hash)
    assert [tuple(x) for x in entries] == [(e.pseudonym.lower(), e.pole.lower(), *e.as_tuple()[2:]) for e in r.entries]


def test_digest_changes_with_any_field_and_with_the_record(auction):
    record = result.record_of(*auction)
    base = _result(record).digest()
    assert _result(record, round_=8).digest() != base
    tampered = dict(record, c_kwh=[[x * 1.0000001 for x in row] for row in record["c_kwh"]])
    assert _result(tampered).digest() != base
    assert result.canonical_json(record) == result.canonical_json(dict(reversed(list(record.items()))))


def test_shape_mismatch_names_the_field(auction):
    record = result.record_of(*auction)
    with pytest.raises(ValueError, match="c_kwh: shape"):
        result.entries_of(record, _parties(3, 0x10), _parties(5, 0x40))
