"""The issuer's RSA private operation by the CRT: equal to pow(z, d, n) for every z of Z_n (units or not) at the
real key size, a fault in either half refused before the signature leaves the signer (else it factors n), and
the key's serialised forms (d || p || q, and d alone as kept before the CRT) read back to the same key."""

from __future__ import annotations

import copy
import math
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.crypto import blind
from tests.support import exponents


@cache
def rsa(i: int) -> blind.PrivateKey:
    """The i-th RSA-2048 key of this process (keygen is the slow part)."""
    return blind.PrivateKey.generate()


keys = st.sampled_from([0, 1]).map(rsa)


@st.composite
def key_and_value(draw) -> tuple[blind.PrivateKey, int]:
    """A key and a z in [0, n): uniform, or hostile (0, 1, n - 1, the primes, multiples of one prime)."""
    key = draw(keys)
    n, p, q = key.public.n, key.p, key.q
    z = draw(
        st.one_of(
            st.integers(0, n - 1),
            st.sampled_from([0, 1, 2, n - 1, n - 2, p, q, p - 1, q + 1]),
            st.integers(1, q - 1).map(lambda k: k * p),
            st.integers(1, p - 1).map(lambda k: k * q),
        )
    )
    return key, z


def test_keys_are_of_the_size_in_use_and_keep_their_crt_parts():
    for key in map(rsa, range(2)):
        assert key.public.n.bit_length() == blind.MODULUS_BITS == 2048 and key.public.e == blind.E
        assert key.p > key.q and key.p * key.q == key.public.n
        assert key.dp == key.d % (key.p - 1) and key.dq == key.d % (key.q - 1)
        assert key.q * key.q_inv % key.p == 1


@settings(max_examples=60)
@given(case=key_and_value())
def test_the_crt_power_equals_pow_z_d_n(case):
    key, z = case
    s = key.power(z)
    assert s == pow(z, key.d, key.public.n) and 0 <= s < key.public.n


@settings(max_examples=20)
@given(key=keys, message=st.integers(1, 2**2047 - 1))
def test_blind_sign_gives_tokens_that_verify(key, message):
    if math.gcd(message, key.public.n) != 1:
        return
    state = blind.blind(key.public, message)
    token = blind.finalize(key.public, state, blind.blind_sign(key, state.blinded))
    assert blind.verify(key.public, message, token) and token == pow(message, key.d, key.public.n)


def test_blind_sign_refuses_a_blinded_message_out_of_range():
    key = rsa(0)
    for z in (-1, key.public.n, key.public.n + 1):
        with pytest.raises(blind.TokenError, match="blinded message out of range"):
            blind.blind_sign(key, z)


def faulty(key: blind.PrivateKey, part: str, flip: int) -> blind.PrivateKey:
    """`key` with one CRT part damaged (a bit of dp, dq or q_inv flipped, as a fault in memory would)."""
    broken = copy.copy(key)
    object.__setattr__(broken, part, getattr(key, part) ^ (1 << flip))
    return broken


def unchecked(key: blind.PrivateKey, z: int) -> int:
    """Garner's recombination without the check: what a signer without the guard would send."""
    s_p, s_q = pow(z % key.p, key.dp, key.p), pow(z % key.q, key.dq, key.q)
    return s_q + key.q * (key.q_inv * (s_p - s_q) % key.p)


@settings(max_examples=20)
@given(key=keys, part=st.sampled_from(["dp", "dq"]), flip=st.integers(0, 1000), z=st.integers(2, 2**2047))
def test_a_fault_in_one_half_is_refused_and_would_have_factored_n(key, part, flip, z):
    broken = faulty(key, part, flip)
    leaked = unchecked(broken, z)
    factor = math.gcd(pow(leaked, key.public.e, key.public.n) - z, key.public.n)
    assert factor == (key.q if part == "dp" else key.p)  # Boneh-DeMillo-Lipton: one faulty signature factors n
    with pytest.raises(blind.TokenError, match="signing failure"):
        blind.blind_sign(broken, z)


@settings(max_examples=10)
@given(key=keys, flip=st.integers(0, 1000), z=st.integers(2, 2**2047))
def test_a_fault_in_the_recombination_is_refused(key, flip, z):
    with pytest.raises(blind.TokenError, match="signing failure"):
        blind.blind_sign(faulty(key, "q_inv", flip), z)


@pytest.mark.parametrize("modulus", ["p", "q"])
def test_a_transient_fault_in_a_half_power_is_refused(monkeypatch, modulus):
    """The power itself goes wrong once (a glitch in the arithmetic, not in the key): refused all the same."""
    key, z = rsa(0), 12345678901234567890
    target = getattr(key, modulus)

    def glitching_pow(base, exp, mod=None):
        result = pow(base, exp, mod)
        return result ^ 1 if mod == target else result

    monkeypatch.setattr(blind, "pow", glitching_pow, raising=False)
    with pytest.raises(blind.TokenError, match="signing failure"):
        blind.blind_sign(key, z)
    monkeypatch.undo()
    assert blind.blind_sign(key, z) == pow(z, key.d, key.public.n)


@pytest.mark.parametrize("i", [0, 1])
def test_the_serialised_key_reads_back_to_the_same_key(i):
    key = rsa(i)
    raw = key.to_bytes()
    assert len(raw) == 3 * blind.MODULUS_BYTES
    again = blind.PrivateKey.from_bytes(key.public, raw)
    assert again == key and (again.dp, again.dq, again.q_inv) == (key.dp, key.dq, key.q_inv)


@pytest.mark.parametrize("i", [0, 1])
def test_a_key_kept_as_d_alone_recovers_its_primes(i):
    """The form sealed before the CRT (d, 256 bytes): p and q recovered from (n, e, d); the same key, same tokens."""
    key = rsa(i)
    old = blind.PrivateKey.from_bytes(key.public, key.d.to_bytes(blind.MODULUS_BYTES, "big"))
    assert old == key and (old.p, old.q) == (key.p, key.q)
    z = key.public.n // 3
    assert blind.blind_sign(old, z) == pow(z, key.d, key.public.n)


def test_the_primes_in_either_order_are_one_key():
    key = rsa(0)
    assert blind.PrivateKey(key.public, key.d, key.q, key.p) == key


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda k: (k.d, k.p + 2, k.q), "p \\* q is not the modulus"),
        (lambda k: (k.d, k.public.n, 1), "p \\* q is not the modulus"),
        (lambda k: (k.d + 2, k.p, k.q), "d is not the inverse of e"),
        (lambda k: (k.d + 1, k.p, k.q), "d is not the inverse of e"),
    ],
)
def test_an_inconsistent_key_is_refused(change, reason):
    key = rsa(0)
    with pytest.raises(blind.TokenError, match=reason):
        blind.PrivateKey(key.public, *change(key))


@pytest.mark.parametrize("d", [0, 1, 2, 3, 65537])
def test_a_wrong_exponent_alone_does_not_factor_the_modulus(d):
    key = rsa(0)
    with pytest.raises(blind.TokenError, match="private exponent out of range|does not factor the modulus"):
        blind.PrivateKey.from_bytes(key.public, d.to_bytes(blind.MODULUS_BYTES, "big"))


@pytest.mark.parametrize("length", [0, 128, 255, 257, 512, 767, 769])
def test_a_serialised_key_of_another_length_is_refused(length):
    with pytest.raises(blind.TokenError, match="a private key is 256 or 768 bytes"):
        blind.PrivateKey.from_bytes(rsa(0).public, b"\x01" * length)


def test_another_key_s_exponent_does_not_open_this_modulus():
    with pytest.raises(blind.TokenError, match="does not factor the modulus"):
        blind.PrivateKey.from_exponent(rsa(0).public, rsa(1).d)


# ---- the public exponent: e = 3 only (issue 22) ----------------------------------------------------------------


def test_keys_have_the_exponent_the_contracts_check():
    assert blind.E == 3 and all(rsa(i).public.e == 3 for i in range(2))
    for key in map(rsa, range(2)):  # r -> r^3 is a bijection of Z*_n: 3 is coprime to p - 1 and q - 1
        assert math.gcd(3, (key.p - 1) * (key.q - 1)) == 1


@pytest.mark.parametrize("kind", exponents.OTHER)
def test_a_token_under_another_exponent_does_not_verify(kind):
    """A valid RSA signature on the message for the same modulus and another exponent: refused by the verifier
    (the relayer's and the model's check), and a public key with that exponent cannot be made."""
    key = rsa(0)
    e = exponents.exponent(key, kind)
    message = blind.fdh(b"\x01" * 32)
    token = exponents.sign_with(key, e, message)
    assert not blind.verify(key.public, message, token)
    assert blind.verify(key.public, message, key.power(message))
    with pytest.raises(
        blind.TokenError, match=f"public exponent e must be 3 \\(the contracts' modexp exponent\\), got {e}"
    ):
        blind.PublicKey(key.public.n, e)


def test_a_key_made_for_65537_is_refused_on_load_in_either_stored_form():
    """A key stored before issue 22 (d || p || q, or d alone): refused naming the exponent, its value, and how to
    make a new key, not with the generic 'd is not the inverse of e'."""
    old = exponents.legacy_key()
    public = blind.PublicKey(old.public_numbers.n)
    full = b"".join(v.to_bytes(blind.MODULUS_BYTES, "big") for v in (old.d, old.p, old.q))
    for raw in (full, old.d.to_bytes(blind.MODULUS_BYTES, "big")):
        with pytest.raises(blind.LegacyKeyError) as e:
            blind.PrivateKey.from_bytes(public, raw)
        assert str(e.value).startswith("public exponent e: this key was made for e = 65537")
        assert "Make a new key (`PrivateKey.generate()`" in str(e.value)
