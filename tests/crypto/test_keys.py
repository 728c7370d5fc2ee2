"""The one sign/recover module: signatures byte-identical to eth_account's (same digest, same key, same bytes:
the signatures every party made before), recovery of every standard form, and malformed signatures refused
naming the field."""

from __future__ import annotations

import pytest
from coincurve import PrivateKey as CoincurvePrivateKey
from eth_account import Account
from eth_account.messages import defunct_hash_message, encode_defunct, encode_typed_data
from eth_utils import keccak, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from gridchain.coordination.anonymous.client import sign_request, signer_of
from gridchain.coordination.anonymous.parties import issuer
from gridchain.crypto import eip712
from gridchain.crypto.keys import (
    SECP256K1_N,
    address_of,
    address_of_public_key,
    compact,
    normalize_signature,
    parse_signature,
    personal_digest,
    private_key,
    public_key_of,
    recover_digest,
    recover_personal,
    sign_digest,
    sign_personal,
)
from gridchain.errors import InputError
from gridchain.metering import model as m
from gridchain.metering.parties import SmartMeter, sign_session_start
from gridchain.v2v.client import receipt_signer, sign_receipt
from gridchain.v2v.parties import ev as v2v_parties
from tests.crypto.wallet import CASES, IDS, domain_of, wallet_typed_data

KEY = bytes.fromhex("59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d")  # anvil's account 1
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
CONTRACT = "0x" + "ab" * 20
keys_ = st.integers(1, SECP256K1_N - 1).map(lambda k: k.to_bytes(32, "big"))
digests = st.binary(min_size=32, max_size=32)


def forms(signature: bytes) -> dict[str, bytes]:
    """A canonical signature (v = 27/28) in each form a standard signer produces."""
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    return {
        "v=27/28": signature,
        "v=0/1": signature[:64] + bytes([v - 27]),
        "EIP-2098": r + (s | (v - 27) << 255).to_bytes(32, "big"),
    }


# -- byte-identical to eth_account ------------------------------------------------------------------------
@given(key=keys_, digest=digests)
def test_sign_digest_is_eth_accounts_and_recovers(key, digest):
    signature = sign_digest(key, digest)
    assert signature == bytes(Account.unsafe_sign_hash(digest, key).signature)
    assert len(signature) == 65 and signature[64] in (27, 28)
    assert int.from_bytes(signature[32:64], "big") <= SECP256K1_N // 2  # low s: what the contracts take
    assert recover_digest(digest, signature) == address_of(key) == Account.from_key(key).address


@given(key=keys_, message=st.binary(max_size=200))
def test_personal_sign_is_eth_accounts(key, message):
    assert personal_digest(message) == defunct_hash_message(primitive=message)
    signature = sign_personal(key, message)
    assert signature == bytes(Account.sign_message(encode_defunct(primitive=message), key).signature)
    assert recover_personal(message, signature) == Account.recover_message(
        encode_defunct(primitive=message), signature=signature
    )


@pytest.mark.parametrize("struct, message", CASES, ids=IDS)
def test_typed_data_signatures_are_eth_accounts(struct, message):
    """What a wallet signs with `eth_signTypedData_v4` over the same message is what `sign_digest` signs."""
    domain = domain_of(struct.PRIMARY)
    signable = encode_typed_data(full_message=wallet_typed_data(struct.PRIMARY, domain, message))
    signature = sign_digest(KEY, eip712.digest(domain, struct))
    assert signature == bytes(Account.sign_message(signable, KEY).signature)
    assert (
        Account.recover_message(signable, signature=signature)
        == ADDRESS
        == recover_digest(eip712.digest(domain, struct), signature)
    )


def test_every_party_signs_the_bytes_it_signed_before():
    """The five former sign/recover pairs, now on `crypto.keys`: each signature equals eth_account's over the
    message the party signed before (typed data as wallets write it; EIP-191 for the V2V hello and proof and
    for issuance), and recovers to the signer."""
    # the pseudonym's anonymous request
    request = sign_request(KEY, 31337, CONTRACT, 19_700, 472_801, 7_400, 350, 4, 12345)
    wallet = wallet_typed_data(
        "AnonymousRequest",
        domain_of("AnonymousRequest"),
        {"pseudonym": ADDRESS, "epoch": 19_700, "slot": 472_801, "demandW": 7_400, "socPm": 350, "tcc": 4},
    )
    assert request.signature == bytes(Account.sign_message(encode_typed_data(full_message=wallet), KEY).signature)
    assert request.pseudonym == ADDRESS == signer_of(31337, CONTRACT, request)
    assert request.token == (12345).to_bytes(256, "big")
    # the V2V consumer's receipt
    receipt = sign_receipt(KEY, 31337, CONTRACT, b"\x42" * 32, 6_000)
    wallet = wallet_typed_data("Receipt", domain_of("Receipt"), {"token": b"\x42" * 32, "deliveredWh": 6_000})
    assert receipt.signature == bytes(Account.sign_message(encode_typed_data(full_message=wallet), KEY).signature)
    assert receipt_signer(31337, CONTRACT, receipt) == ADDRESS
    # the meter's reading and the EV's session start
    domain = m.domain(31337, CONTRACT)
    signed = SmartMeter("0x" + KEY.hex(), domain).sign_reading(900, 10, 1)
    message = {"meter": ADDRESS, "intervalStart": 900, "activeWh": 10, "reactiveVarh": 1}
    wallet = wallet_typed_data("Reading", domain, message)
    assert signed.signature == bytes(Account.sign_message(encode_typed_data(full_message=wallet), KEY).signature)
    start, signature = sign_session_start(KEY, domain, "0x" + "cd" * 20, 1_700_000_000, 10**16)
    message = {"ev": ADDRESS, "meter": "0x" + "cd" * 20, "start": 1_700_000_000, "maxCostWei": 10**16}
    wallet = wallet_typed_data("SessionStart", domain, message)
    assert signature == bytes(Account.sign_message(encode_typed_data(full_message=wallet), KEY).signature)
    # EIP-191: the V2V hello and proof, the issuance request and answer
    tag_token_challenge = v2v_parties.ACCESS_TAG + b"\x42" * 32 + b"\x01" * 32
    hello = v2v_parties._sign(KEY.hex(), v2v_parties.ACCESS_TAG, b"\x42" * 32, b"\x01" * 32)
    assert hello == bytes(Account.sign_message(encode_defunct(primitive=tag_token_challenge), KEY).signature)
    assert v2v_parties._signer(v2v_parties.ACCESS_TAG, b"\x42" * 32, b"\x01" * 32, hello) == ADDRESS
    digest = keccak(b"an issuance request")
    answer = issuer._sign(KEY, digest)
    assert answer == "0x" + bytes(Account.sign_message(encode_defunct(primitive=digest), KEY).signature).hex()
    assert issuer._signer(digest, parse_signature(answer)) == ADDRESS


# -- every standard form, and the canonical one ----------------------------------------------------------
@given(key=keys_, digest=digests)
def test_every_standard_form_recovers_and_normalises_to_the_canonical(key, digest):
    canonical = sign_digest(key, digest)
    for name, raw in forms(canonical).items():
        assert recover_digest(digest, raw) == address_of(key), name
        assert normalize_signature(raw) == canonical, name
        assert parse_signature("0x" + raw.hex()) == canonical, name
    r, vs = compact(canonical)
    assert r.to_bytes(32, "big") + vs.to_bytes(32, "big") == forms(canonical)["EIP-2098"]
    assert compact(forms(canonical)["v=0/1"]) == (r, vs)


def test_a_high_s_twin_recovers_but_entries_refuse_it():
    """Recovery applies no policy (the malleable twin (r, n - s, flipped v) recovers to the same signer, as
    ecrecover does); the entries' normaliser refuses it, as snekmate's `ecdsa` does."""
    digest = keccak(b"twin")
    signature = sign_digest(KEY, digest)
    s, v = int.from_bytes(signature[32:64], "big"), signature[64]
    twin = signature[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])
    assert recover_digest(digest, twin) == ADDRESS
    with pytest.raises(InputError, match="upper half of the curve order") as e:
        normalize_signature(twin, "receipt.signature")
    assert e.value.field == "receipt.signature"


# -- malformed signatures ----------------------------------------------------------------------------------
GOOD = sign_digest(KEY, keccak(b"malformed"))
N = SECP256K1_N.to_bytes(32, "big")


@pytest.mark.parametrize(
    "raw, reason",
    [
        (GOOD[:63], "got 63"),
        (GOOD + b"\x00", "got 66"),
        (b"", "got 0"),
        (GOOD[:64] + b"\x1d", "v must be 0, 1, 27 or 28, got 29"),
        (GOOD[:64] + b"\x25", "v must be 0, 1, 27 or 28, got 37"),  # EIP-155's v: a transaction's, not ours
        ("0x" + GOOD.hex(), "expected bytes, got str"),
        (bytes(32) + GOOD[32:], "recovers to no address"),  # r = 0
        (N + GOOD[32:], "recovers to no address"),  # r = n
        (GOOD[:32] + N + GOOD[64:], "recovers to no address"),  # s = n
    ],
)
def test_a_malformed_signature_is_refused_naming_the_field(raw, reason):
    digest = keccak(b"malformed")
    with pytest.raises(InputError, match=reason) as e:
        recover_digest(digest, raw, "readings[3].signature")
    assert e.value.field == "readings[3].signature"
    with pytest.raises(InputError) as e:
        recover_personal(b"hello", raw)
    assert e.value.field == "signature"
    with pytest.raises(InputError) as e:  # the entries' normaliser refuses all of them too
        normalize_signature(raw, "ev_signature")
    assert e.value.field == "ev_signature"


@given(raw=st.binary(max_size=70), digest=digests)
def test_recovery_of_arbitrary_bytes_is_an_address_or_an_input_error(raw, digest):
    try:
        address = recover_digest(digest, raw, "sig")
    except InputError as e:
        assert e.field == "sig"
    else:
        assert address == to_checksum_address(address)


def test_a_digest_that_is_not_32_bytes_is_refused():
    with pytest.raises(ValueError, match="digest: expected 32 bytes, got 31"):
        sign_digest(KEY, b"\x00" * 31)
    with pytest.raises(ValueError, match="digest: expected 32 bytes, got 33"):
        recover_digest(b"\x00" * 33, GOOD)


# -- keys --------------------------------------------------------------------------------------------------
def test_a_key_in_any_form_is_the_same_key():
    for key in (KEY, bytearray(KEY), KEY.hex(), "0x" + KEY.hex(), Account.from_key(KEY).key, private_key(KEY)):
        assert address_of(key) == ADDRESS
    for bad, reason in [(b"\x00" * 31, "Expected 32"), (KEY.hex()[:-1], "non-hexadecimal"), (bytes(32), "Value 0")]:
        with pytest.raises(ValueError, match=reason):
            address_of(bad)
    with pytest.raises(ValueError, match="key: Value .* is not less than or equal"):
        sign_digest(SECP256K1_N.to_bytes(32, "big"), bytes(32))


@given(key=keys_)
def test_public_key_and_its_address_agree_with_coincurve(key):
    """The V2V hello carries the consumer's 64-byte public key; the provider derives the address from it."""
    expected = CoincurvePrivateKey(key).public_key.format(compressed=False)[1:]
    assert public_key_of(key) == expected
    assert address_of_public_key(expected) == to_checksum_address(keccak(expected)[-20:]) == address_of(key)
