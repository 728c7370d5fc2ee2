"""The LAG committee path: honest LAGs audit and sign, a tampered document gets no honest signature, and a
minority's signatures do not attest under two-thirds."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from eth_utils import keccak

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import ChainRevert
from gridchain.committee.client import CommitteeClient, kind_of
from gridchain.committee.model import TWO_THIRDS, UNANIMOUS
from gridchain.errors import Refused
from gridchain.market.petcon import model
from gridchain.market.petcon.audit import document_of
from gridchain.market.petcon.parties.lag import Lag, attest
from gridchain.market.petcon.result import KIND, record_of, result_of

LAGS = [Lag(keccak(text=f"test lag {i}")) for i in range(3)]


def published_document(seed: int = 1) -> dict:
    m = model.paper_market(np.random.default_rng(seed), buyers=3, sellers=3)
    record = record_of(m, model.run_auction(m, damping=model.DAMPING))
    buyers = [(f"0x{0x10 + i:040x}", f"0x{0x90 + i:040x}") for i in range(3)]
    sellers = [(f"0x{0x20 + j:040x}", f"0x{0xA0 + j:040x}") for j in range(3)]
    return document_of(result_of(record, 1, 4, 1_900_000, 4, buyers, sellers), record, buyers, sellers)


@pytest.fixture(scope="module")
def gateway():
    return BoaGateway(accounts=2)


def _committee(gateway, rule):
    return CommitteeClient.deploy(gateway, gateway.accounts[0], [lag.address for lag in LAGS], rule)[0]


def test_honest_lags_sign_and_the_digest_is_attested(gateway):
    committee, document = _committee(gateway, UNANIMOUS), published_document()
    answer = attest(committee, gateway.accounts[1], LAGS, document)
    assert answer["signed"] == 3 and answer["refused"] == {} and answer["gas"] > 0
    assert "0x" + committee.attested(kind_of(KIND), 4).hex() == document["digest"]


def test_a_tampered_document_gets_no_honest_signature(gateway):
    committee, document = _committee(gateway, UNANIMOUS), copy.deepcopy(published_document())
    document["record"]["c_kwh"][0][1] *= 0.99  # the auctioneer shifts energy to a friend
    with pytest.raises(Refused) as e:
        LAGS[0].sign(committee, document)
    assert "stationarity" in e.value.reason
    answer = attest(committee, gateway.accounts[1], LAGS, document)
    assert answer["signed"] == 0 and answer["gas"] is None and len(answer["refused"]) == 3
    assert committee.attested(kind_of(KIND), 4) == b"\x00" * 32


def test_a_minority_does_not_attest_under_two_thirds(gateway):
    committee, document = _committee(gateway, TWO_THIRDS), published_document()
    digest = bytes.fromhex(document["digest"][2:])
    one = [LAGS[0].sign(committee, document)]
    with pytest.raises(ChainRevert, match="fewer signatures than the threshold"):
        committee.attest(gateway.accounts[1], kind_of(KIND), 4, digest, one)
    two = one + [LAGS[2].sign(committee, document)]
    committee.attest(gateway.accounts[1], kind_of(KIND), 4, digest, two)
    assert committee.attested(kind_of(KIND), 4) == digest
