"""The notes gas section measures every function it names on the embedded chain (figures are the benchmark's,
benchmarks/bench_notes_gas.py; here only that each is a receipt's and the steady state costs less than the first)."""

from __future__ import annotations

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.escrow.notes.gas import ACCOUNTS, measure_functions
from tests.escrow.notes.keys import rsa


def test_measures_each_function_once_per_state():
    gas = measure_functions(BoaGateway(accounts=ACCOUNTS), rsa(0))
    for token in ("eth", "coin"):
        for fn in ("deposit", "redeem"):
            first, later = gas[f"{fn}_{token}_first_of_epoch"], gas[f"{fn}_{token}_later"]
            assert 21_000 < later < first, (fn, token, first, later)  # the epoch's first count is a zero word
    assert gas["register_epoch_key"] > 32_000  # a CREATE2 with 257 bytes of code
    first, later = gas["redeem_escrow_first_of_epoch"], gas["redeem_escrow_later"]
    assert 21_000 < later < first and later > gas["redeem_coin_later"]  # the escrow's deposit call and its word
