"""The escrow's client and gas section on the embedded chain: the section's scene (deploy, escrow, fund, an attested
result settled on anchored readings, withdraw) runs through the clients and keeps the coins; the views read back."""

from __future__ import annotations

from io import StringIO

import pytest
from rich.console import Console

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.crypto.keys import address_of
from gridchain.market.petcon.escrow import gas
from gridchain.market.petcon.escrow.client import signed_reading


@pytest.fixture(scope="module")
def report():
    return gas.measure_functions(BoaGateway())


def test_the_section_measures_every_step(report):
    assert set(report) == {
        "deploy", "open_round", "escrow_first", "escrow", "escrow_again", "fund", "settle_1_entry", "settle_3_buyers",
        "settle_4_sellers", "settle_per_entry", "withdraw", "withdraw_house",
    }  # fmt: skip
    # a batch shares the call's fixed costs (the digest, the attestation, the round's entry word)
    assert report["settle_per_entry"] < report["settle_1_entry"]
    out = StringIO()
    gas.show({"petcon_escrow": report}, Console(file=out, width=120), "prague, embedded")
    assert "settle_per_entry" in out.getvalue()


def test_views_after_a_settlement():
    gateway = BoaGateway()
    _, escrow = gas.run_scene(gateway)
    utility, _, house, b0, b1, *_ = gateway.accounts
    assert escrow.is_open(gas.ROUND) and escrow.opened_at(gas.ROUND) > 0
    assert escrow.entries_settled(gas.ROUND) == 2**8 - 1
    assert escrow.is_settled(gas.ROUND, b1) and escrow.escrowed(gas.ROUND, b0) == 0
    assert escrow.escrowed(gas.ROUND, b1) == 1_000_000  # 3 coins less its 2
    assert escrow.house() == 0 and escrow.total_held() == 3 * 1_000_000 + 4 * 1_500_000  # 3 buyers' change, 4 credits
    day = gateway.now() // 86_400 - 1
    assert escrow.is_pole_settled(address_of(gas._key("pole", 0)), day * 96 + 40)
    assert not escrow.is_pole_settled(address_of(gas._key("pole", 0)), day * 96 + 48)


def test_signed_reading_is_compact():
    sig = bytes(range(64)) + bytes([28])
    r = signed_reading(5, 1, sig, [b"\x01" * 32])
    assert r.r == int.from_bytes(sig[:32], "big") and r.vs >> 255 == 1 and r.proof == (b"\x01" * 32,)
