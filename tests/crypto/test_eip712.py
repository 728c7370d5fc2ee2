"""EIP-712: one `Domain` and one `TypedStruct` base for every signed type. Each type's struct hash and digest
are checked against eth_account's `encode_typed_data` (an independent implementation, given the member list and
the message as a wallet would write them, not as our classes derive them), against the published vector of
EIP-712, and against the type strings and domain names the contracts hash."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.messages import encode_typed_data
from eth_utils import keccak

from gridchain.coordination.anonymous.client import AnonymousRequest
from gridchain.coordination.anonymous.client import domain as coordinator_domain
from gridchain.crypto import eip712
from gridchain.crypto.eip712 import Domain, TypedStruct
from gridchain.metering import model as m
from gridchain.v2v.client import SignedReceipt
from gridchain.v2v.client import domain as v2v_domain
from tests.crypto.wallet import (
    CASES,
    CONTRACT,
    DOMAIN_MEMBERS,
    DOMAINS,
    IDS,
    MEMBERS,
    METER,
    PSEUDONYM,
    SIGNATURE,
    TOKEN,
    domain_of,
    wallet_typed_data,
)

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"


@pytest.mark.parametrize("struct, message", CASES, ids=IDS)
def test_struct_hash_and_digest_equal_eth_accounts(struct, message):
    domain = domain_of(struct.PRIMARY)
    signable = encode_typed_data(full_message=wallet_typed_data(struct.PRIMARY, domain, message))
    assert signable.header == domain.separator  # eth_account's hashStruct(domain)
    assert signable.body == struct.struct_hash()  # eth_account's hashStruct(message)
    assert eip712.digest(domain, struct) == keccak(b"\x19" + signable.version + signable.header + signable.body)
    # what a wallet is shown: the same message under the same types
    assert struct.message() == message
    ours = eip712.typed_data(domain, struct)
    assert ours["types"] == {"EIP712Domain": DOMAIN_MEMBERS, struct.PRIMARY: MEMBERS[struct.PRIMARY]}
    assert encode_typed_data(full_message=ours) == signable


@pytest.mark.parametrize("struct, message", CASES[:1] + CASES[8:9] + CASES[10:11], ids=IDS[:1] + IDS[8:9] + IDS[10:11])
def test_the_domain_binds_chain_and_contract(struct, message):
    digests = {
        eip712.digest(domain_of(struct.PRIMARY), struct),
        eip712.digest(domain_of(struct.PRIMARY, chain_id=1), struct),
        eip712.digest(domain_of(struct.PRIMARY, contract="0x" + "ac" * 20), struct),
        eip712.digest(Domain("another", "1", 31337, CONTRACT), struct),
        eip712.digest(Domain(DOMAINS[struct.PRIMARY][0], "2", 31337, CONTRACT), struct),
    }
    assert len(digests) == 5


def test_the_published_domain_separator_of_eip712():
    """EIP-712's own example ("Ether Mail"), whose separator the specification prints."""
    domain = Domain("Ether Mail", "1", 1, "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC")
    assert domain.separator.hex() == "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f"


def test_pinned_vectors_of_the_metering_types():
    """Fixed digests (the same from eth_account and from the metering model before the one implementation), so
    that a change of any library or of our hashing shows."""
    domain = m.domain(31337, CONTRACT)
    reading = m.Reading(METER, 1_700_000_100, 1234, 56)
    session = m.SessionReading(b"\x07" * 32, 1_888_888, (0, 1850, 1850, 925))
    assert eip712.digest(domain, reading).hex() == READING_DIGEST
    assert eip712.digest(domain, session).hex() == SESSION_READING_DIGEST


READING_DIGEST = "fe5372ffe8b235c0108521c60f89a8e2b39b5811c38bdbdc623969a0ad4c0bcb"
SESSION_READING_DIGEST = "c866018970df40a3911e47594c285a92bd9149c99229dfcc7c95c2eec6b36960"


@pytest.mark.parametrize(
    "cls, contract, make_domain",
    [
        (m.Reading, "metering.vy", m.domain),
        (m.DayRoot, "metering.vy", m.domain),
        (m.SessionStart, "metering.vy", m.domain),
        (m.SessionReading, "metering.vy", m.domain),
        (SignedReceipt, "v2v_auction.vy", v2v_domain),
        (AnonymousRequest, "modules/anonymous_requests.vy", coordinator_domain),
    ],
)
def test_each_type_is_the_one_its_contract_hashes(cls, contract, make_domain):
    """The TYPE string is the contract's typehash preimage, and the domain's name and version the contract's."""
    assert f'"{cls.TYPE}"' in (CONTRACTS / contract).read_text()
    assert [{"name": n, "type": t} for t, n in cls.MEMBERS] == MEMBERS[cls.PRIMARY]
    domain = make_domain(31337, CONTRACT)
    deploying = "charging_coordinator.vy" if cls is AnonymousRequest else contract
    assert f'eip712.__init__("{domain.name}", "{domain.version}")' in (CONTRACTS / deploying).read_text()
    assert (domain.name, domain.version) == DOMAINS[cls.PRIMARY]


# -- the base's other member types -----------------------------------------------------------------------
@dataclass(frozen=True)
class Note(TypedStruct):
    TYPE = "Note(string text,bytes blob,uint64[2] pair,bool flag,int256 delta,address[] parties,bytes4 tag)"

    text: str
    blob: bytes
    pair: tuple[int, int]
    flag: bool
    delta: int
    parties: tuple[str, ...]
    tag: bytes


def test_string_bytes_fixed_arrays_and_signed_ints_hash_as_eth_accounts():
    note = Note("grüße, EIP-712", b"\x00\x01\x02" * 50, (7, 2**64 - 1), True, -(2**200), (METER, PSEUDONYM), b"ab\x00c")
    members = [{"name": n, "type": t} for t, n in note.MEMBERS]
    data = {
        "types": {"EIP712Domain": DOMAIN_MEMBERS, "Note": members},
        "primaryType": "Note",
        "domain": {"name": "n", "version": "1", "chainId": 5, "verifyingContract": CONTRACT},
        "message": note.message(),
    }
    assert encode_typed_data(full_message=data).body == note.struct_hash()


@pytest.mark.parametrize(
    "type_string, error, match",
    [
        ("Mail(Person from,string contents)", ValueError, "unsupported type 'Person'"),
        ("Grid(uint256[][] cells)", ValueError, "unsupported type 'uint256\\[\\]\\[\\]'"),
        ("Odd(uint7 x)", ValueError, "unsupported type 'uint7'"),
        ("Words(string[] words)", ValueError, "unsupported type 'string\\[\\]'"),
        ("NoParens", ValueError, "is not 'Name"),
        ("Unnamed(uint256)", ValueError, "has no name"),
        ("Reading(address meter,uint256 notAnAttribute)", TypeError, "notAnAttribute"),
    ],
)
def test_a_type_it_cannot_encode_is_refused_when_the_class_is_defined(type_string, error, match):
    with pytest.raises(error, match=match):

        @dataclass(frozen=True)
        class Bad(TypedStruct):
            TYPE = type_string

            meter: str


def test_attributes_outside_type_are_not_signed():
    a = AnonymousRequest(PSEUDONYM, 1, 2, 3, 4, 5, TOKEN, SIGNATURE)
    b = AnonymousRequest(PSEUDONYM, 1, 2, 3, 4, 5, b"other token", b"")
    assert a.struct_hash() == b.struct_hash()
    assert a.struct_hash() != AnonymousRequest(PSEUDONYM, 1, 2, 3, 4, 6, TOKEN, SIGNATURE).struct_hash()


def test_snake_case_names_the_attributes():
    assert [eip712.snake_case(n) for n in ("demandW", "socPm", "maxCostWei", "energyWh", "tcc", "intervalStart")] == [
        "demand_w",
        "soc_pm",
        "max_cost_wei",
        "energy_wh",
        "tcc",
        "interval_start",
    ]
