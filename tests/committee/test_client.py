"""The committee's client on the embedded chain: deploy, members' signatures in any form and order put in the
contract's order, attest, read back; malformed signatures refused before sending, naming the field."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.committee.client import CommitteeClient, in_signer_order, kind_of
from gridchain.committee.model import FIXED, TWO_THIRDS
from gridchain.crypto.keys import address_of
from gridchain.errors import InputError
from tests.committee.signatures import FORMS

KEYS = [keccak(text=f"client test key {i}") for i in range(4)]
KIND, DIGEST = kind_of("petcon.result"), keccak(text="result")


@pytest.fixture(scope="module")
def committee():
    gateway = BoaGateway(accounts=2)
    client, _ = CommitteeClient.deploy(gateway, gateway.accounts[0], [address_of(k) for k in KEYS], TWO_THIRDS)
    return client


def test_attest_in_any_order_and_form_then_read(committee):
    sigs = [committee.sign(k, KIND, 1, DIGEST) for k in KEYS[:3]]
    mixed = [FORMS["compact"](sigs[2]), sigs[0], FORMS["v01"](sigs[1])]
    committee.attest(committee.gateway.accounts[1], KIND, 1, DIGEST, mixed)
    assert committee.attested(KIND, 1) == DIGEST and committee.attested(KIND, 2) == b"\x00" * 32
    assert committee.members() == [address_of(k) for k in KEYS]
    assert (committee.threshold(), committee.rule(), committee.epoch()) == (3, (TWO_THIRDS, 0), 0)


def test_owner_changes_bump_the_epoch(committee):
    owner = committee.gateway.accounts[0]
    committee.set_rule(owner, FIXED, 2)
    assert committee.epoch() == 1 and committee.threshold() == 2
    committee.remove_member(owner, address_of(KEYS[3]))
    assert not committee.is_member(address_of(KEYS[3])) and committee.epoch() == 2


@pytest.mark.parametrize(
    ("form", "field"), [("short", "signatures[1]"), ("high_s", "signatures[1]"), ("bad_v", "signatures[1]")]
)
def test_malformed_signatures_are_refused_naming_the_field(committee, form, field):
    h = committee.attestation_hash(KIND, 5, DIGEST, committee.epoch())
    sigs = [committee.sign(k, KIND, 5, DIGEST) for k in KEYS[:2]]
    with pytest.raises(InputError) as e:
        in_signer_order(h, [sigs[0], FORMS[form](sigs[1])])
    assert e.value.field == field


def test_two_signatures_by_one_signer_are_refused(committee):
    h = committee.attestation_hash(KIND, 5, DIGEST, committee.epoch())
    sig = committee.sign(KEYS[0], KIND, 5, DIGEST)
    with pytest.raises(InputError, match="two signatures by one signer"):
        in_signer_order(h, [sig, FORMS["compact"](sig)])
