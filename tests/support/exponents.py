"""RSA signatures under public exponents other than the one the contracts check (issue 22: e = 3 only): for a key's
own modulus, the exponent d' with e' * d' = 1 mod lcm(p - 1, q - 1), so that token^e' mod n == m holds and only the
exponent is wrong. `legacy_key` is a key made the way keys were before issue 22 (e = 65537)."""

from __future__ import annotations

import math
from functools import cache

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gridchain.crypto import blind

OTHER = ("smallest", "65537")  # the smallest odd prime > 3 the key admits, and the exponent of old keys


def exponent(key: blind.PrivateKey, kind: str) -> int:
    """The public exponent `kind` (one of OTHER) for `key`'s modulus; skips (with odds ~3e-5) when 65537 divides
    p - 1 or q - 1."""
    lam = math.lcm(key.p - 1, key.q - 1)
    if kind == "65537":
        if math.gcd(blind.LEGACY_E, lam) != 1:
            pytest.skip("65537 divides p - 1 or q - 1 of this key")
        return blind.LEGACY_E
    return next(e for e in range(5, 1000, 2) if all(e % k for k in range(3, e, 2)) and math.gcd(e, lam) == 1)


def sign_with(key: blind.PrivateKey, e: int, message: int) -> int:
    """message^(e^-1) mod n: a valid RSA signature under (n, e), not under (n, blind.E)."""
    d = pow(e, -1, math.lcm(key.p - 1, key.q - 1))
    token = pow(message, d, key.public.n)
    assert pow(token, e, key.public.n) == message
    return token


@cache
def legacy_key() -> rsa.RSAPrivateNumbers:
    """An RSA-2048 key made as before issue 22 (e = 65537), by `cryptography`."""
    return rsa.generate_private_key(public_exponent=blind.LEGACY_E, key_size=blind.MODULUS_BITS).private_numbers()
