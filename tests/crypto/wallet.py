"""The signed types as a wallet writes them (member lists and messages spelled out here, not derived from our
classes): the independent side of tests/crypto's differential tests against eth_account."""

from __future__ import annotations

from gridchain.coordination.anonymous.client import AnonymousRequest
from gridchain.crypto.eip712 import Domain
from gridchain.metering import model as m
from gridchain.v2v.client import SignedReceipt

CONTRACT = "0x" + "ab" * 20
METER = "0x" + "cd" * 20
PSEUDONYM = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
TOKEN = bytes(range(256))
SIGNATURE = b"\x01" * 65  # not a member of any TYPE: rides along, never hashed

DOMAIN_MEMBERS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
MEMBERS = {  # as the contracts declare them, written out here, not derived from TYPE
    "Reading": [
        {"name": "meter", "type": "address"},
        {"name": "intervalStart", "type": "uint256"},
        {"name": "activeWh", "type": "uint256"},
        {"name": "reactiveVarh", "type": "uint256"},
    ],
    "DayRoot": [
        {"name": "meter", "type": "address"},
        {"name": "period", "type": "uint256"},
        {"name": "root", "type": "bytes32"},
        {"name": "count", "type": "uint256"},
        {"name": "version", "type": "uint256"},
    ],
    "SessionStart": [
        {"name": "ev", "type": "address"},
        {"name": "meter", "type": "address"},
        {"name": "start", "type": "uint256"},
        {"name": "maxCostWei", "type": "uint256"},
    ],
    "SessionReading": [
        {"name": "session", "type": "bytes32"},
        {"name": "firstInterval", "type": "uint256"},
        {"name": "energyWh", "type": "uint256[]"},
    ],
    "Receipt": [{"name": "token", "type": "bytes32"}, {"name": "deliveredWh", "type": "uint256"}],
    "AnonymousRequest": [
        {"name": "pseudonym", "type": "address"},
        {"name": "epoch", "type": "uint256"},
        {"name": "slot", "type": "uint256"},
        {"name": "demandW", "type": "uint256"},
        {"name": "socPm", "type": "uint256"},
        {"name": "tcc", "type": "uint256"},
    ],
}
DOMAINS = {  # (name, version) each contract passes to snekmate's eip712_domain_separator
    "Reading": ("gridchain metering", "1"),
    "DayRoot": ("gridchain metering", "1"),
    "SessionStart": ("gridchain metering", "1"),
    "SessionReading": ("gridchain metering", "1"),
    "Receipt": ("gridchain v2v", "1"),
    "AnonymousRequest": ("gridchain coordinator", "1"),
}

# (struct, its message as a wallet writes it)
CASES = [
    (
        m.Reading(METER, 1_700_000_100, 1234, 56),
        {"meter": METER, "intervalStart": 1_700_000_100, "activeWh": 1234, "reactiveVarh": 56},
    ),
    (
        m.SessionStart("0x" + "11" * 20, METER, 1_700_000_000, 10**16),
        {"ev": "0x" + "11" * 20, "meter": METER, "start": 1_700_000_000, "maxCostWei": 10**16},
    ),
    (
        m.SessionStart("0x" + "11" * 20, METER, 2**256 - 1, 2**256 - 1),
        {"ev": "0x" + "11" * 20, "meter": METER, "start": 2**256 - 1, "maxCostWei": 2**256 - 1},
    ),
    (
        m.DayRoot(METER, 19_675, b"\x05" * 32, 96, 1),
        {"meter": METER, "period": 19_675, "root": b"\x05" * 32, "count": 96, "version": 1},
    ),
    (
        m.DayRoot(METER, 2**256 - 1, b"\xff" * 32, 1, 2**256 - 1),
        {"meter": METER, "period": 2**256 - 1, "root": b"\xff" * 32, "count": 1, "version": 2**256 - 1},
    ),
    (
        m.SessionReading(b"\x07" * 32, 1_888_888, (0, 1850, 1850, 925)),
        {"session": b"\x07" * 32, "firstInterval": 1_888_888, "energyWh": [0, 1850, 1850, 925]},
    ),
    (m.SessionReading(b"\x07" * 32, 5, (7,)), {"session": b"\x07" * 32, "firstInterval": 5, "energyWh": [7]}),
    (m.SessionReading(b"\x07" * 32, 5, ()), {"session": b"\x07" * 32, "firstInterval": 5, "energyWh": []}),
    (SignedReceipt(b"\x42" * 32, 6_000, SIGNATURE), {"token": b"\x42" * 32, "deliveredWh": 6_000}),
    (SignedReceipt(b"\x00" * 32, 2**64 - 1, b""), {"token": b"\x00" * 32, "deliveredWh": 2**64 - 1}),
    (
        AnonymousRequest(PSEUDONYM, 19_700, 472_801, 7_400, 350, 4, TOKEN, SIGNATURE),
        {"pseudonym": PSEUDONYM, "epoch": 19_700, "slot": 472_801, "demandW": 7_400, "socPm": 350, "tcc": 4},
    ),
    (
        AnonymousRequest(PSEUDONYM.lower(), 0, 0, 1, 0, 1, b"", b""),
        {"pseudonym": PSEUDONYM.lower(), "epoch": 0, "slot": 0, "demandW": 1, "socPm": 0, "tcc": 1},
    ),
]
IDS = [f"{type(s).__name__}-{i}" for i, (s, _) in enumerate(CASES)]


def domain_of(primary: str, chain_id: int = 31337, contract: str = CONTRACT) -> Domain:
    return Domain(*DOMAINS[primary], chain_id, contract)


def wallet_typed_data(primary: str, domain: Domain, message: dict) -> dict:
    return {
        "types": {"EIP712Domain": DOMAIN_MEMBERS, primary: MEMBERS[primary]},
        "primaryType": primary,
        "domain": {
            "name": domain.name,
            "version": domain.version,
            "chainId": domain.chain_id,
            "verifyingContract": domain.verifying_contract,
        },
        "message": message,
    }
