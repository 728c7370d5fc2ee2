"""The audit refuses a result naming a pseudonym or a pole twice, even when it is otherwise consistent (entries as
the record gives them, digest right): the escrow pays one entry per pseudonym and one per pole's interval."""

from __future__ import annotations

import numpy as np
import pytest

from gridchain.market.petcon import model
from gridchain.market.petcon.audit import audit, document_of
from gridchain.market.petcon.result import record_of, result_of


def _document(buyers: list, sellers: list) -> dict:
    m = model.paper_market(np.random.default_rng(1), buyers=3, sellers=3)
    record = record_of(m, model.run_auction(m, damping=model.DAMPING))
    return document_of(result_of(record, 1, 4, 1_900_000, 4, buyers, sellers), record, buyers, sellers)


BUYERS = [(f"0x{0x10 + i:040x}", f"0x{0x90 + i:040x}") for i in range(3)]
SELLERS = [(f"0x{0x20 + j:040x}", f"0x{0xA0 + j:040x}") for j in range(3)]


def test_distinct_parties_pass():
    assert audit(_document(BUYERS, SELLERS)) == []


@pytest.mark.parametrize(
    ("buyers", "sellers", "violations"),
    [
        # a buyer's pseudonym again as a seller's (in another case: the check ignores case)
        (
            BUYERS,
            [(BUYERS[1][0].upper().replace("0X", "0x"), SELLERS[0][1]), *SELLERS[1:]],
            [f"entries[3].pseudonym: {BUYERS[1][0]} is also entries[1]'s"],
        ),
        # two buyers on one pole
        (
            [BUYERS[0], (BUYERS[1][0], BUYERS[0][1]), BUYERS[2]],
            SELLERS,
            [f"entries[1].pole: {BUYERS[0][1]} is also entries[0]'s"],
        ),
        # one pair twice: both
        (
            [BUYERS[0], BUYERS[1], BUYERS[1]],
            SELLERS,
            [
                f"entries[2].pseudonym: {BUYERS[1][0]} is also entries[1]'s",
                f"entries[2].pole: {BUYERS[1][1]} is also entries[1]'s",
            ],
        ),
    ],
)
def test_a_pseudonym_or_pole_twice_is_a_violation(buyers, sellers, violations):
    doc = _document(buyers, sellers)
    found = audit(doc)
    assert [v.lower() for v in found] == [v.lower() for v in violations]
