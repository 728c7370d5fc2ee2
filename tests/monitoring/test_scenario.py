"""The month on the embedded chain: honest access over a month is never alerted and never refused; with the
rogue processing node, every breach is alerted (false negatives 0) and nothing else is (false positives 0);
the contract logged a Breach for each breach it can judge."""

from __future__ import annotations

import pytest

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.monitoring.scenarios import BREACHES, MonthConfig, run_month


@pytest.fixture(scope="module")
def honest():
    return run_month(BoaGateway(accounts=3), MonthConfig(breaches=False))


@pytest.fixture(scope="module")
def rogue():
    return run_month(BoaGateway(accounts=3), MonthConfig(breaches=True))


def test_an_honest_month_has_no_alert_no_refusal_and_every_record_attested(honest):
    assert honest.alerts == []
    assert honest.refused == []
    assert honest.accesses > 200
    assert honest.records_attested == honest.accesses
    assert honest.batches == 29 and honest.batch_refusals == []
    assert all(wh > 0 for wh in honest.billed_wh.values())


def test_every_breach_is_alerted_and_nothing_else(rogue):
    detected, missed, false = rogue.matches()
    assert missed == [] and false == []
    assert len(detected) == len(BREACHES)
    out = rogue.as_json()
    assert out["false_positives"] == out["false_negatives"] == 0


def test_the_breaches_a_contract_can_judge_are_reported_on_chain(rogue):
    on_chain = [a for _, a in rogue.alerts if a.on_chain]
    assert len(on_chain) == 6 == len(rogue.report_gas)
    notified = [a for _, a in rogue.alerts if not a.on_chain]
    assert {a.kind for a in notified} == {"unattested record"} and len(notified) == 2


def test_the_withheld_record_holds_its_thread_back(rogue):
    assert any("held back" in r for r in rogue.batch_refusals)


@pytest.mark.integration
def test_the_month_on_anvil_under_osaka():
    """The same month over JSON-RPC on anvil under Osaka (EIP-7825's cap on): every breach alerted, nothing else,
    and the issue's gas targets on Osaka receipts (a grant, an attested batch <= 60,000)."""
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway

    with start_anvil(hardfork="osaka", accounts=3, extra_args=["--enable-tx-gas-limit"]) as node:
        result = run_month(RpcGateway(node.url, node.keys), MonthConfig(breaches=True))
    detected, missed, false = result.matches()
    assert (len(detected), missed, false) == (len(BREACHES), [], [])
    assert max(result.grant_gas) <= 60_000 and max(result.attest_gas) <= 60_000
