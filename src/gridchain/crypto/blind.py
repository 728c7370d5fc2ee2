"""Chaum blind RSA signatures with a full-domain hash (RSA-FDH): the utility's anonymous request tokens.

A token is the utility's RSA signature on one pseudonym, made without the utility seeing the pseudonym.
The protocol follows RFC 9474 (RSABSSA) step for step (Blind, BlindSign, Finalize, with its checks), but
replaces EMSA-PSS with SHA-384 by a deterministic full-domain hash the EVM can check cheaply:

    seed = keccak256(abi_encode(TOKEN_TAG, chain_id, coordinator, epoch, pseudonym))
    FDH  = keccak256(seed || uint256(0)) || ... || keccak256(seed || uint256(7)), top bit cleared (256 bytes)
    token is valid  <=>  token < n  and  token^3 mod n == FDH   (modexp is the 0x05 precompile)

This is MGF1 (RFC 8017 B.2.1) in all but two choices, both for gas on chain with the same random-oracle
assumption: the hash is keccak-256, the EVM's own opcode, rather than SHA-256 (the 0x02 precompile; about
1,700 gas more per token), and the block counter is a 32-byte word rather than 4 bytes (the contract hashes
an ABI word pair without a byte-level concat; about 830 gas less per token, measured). Any FDH is
deterministic, so unlike PSS the same pseudonym always has the same token: that is what the contract's
one-use rule wants.

The message binds the community (the coordinator's address and chain) and the epoch (the UTC day): partial
blindness as the paper asks, m0 = date || community, with one key pair per (epoch, community) on top. With
the top bit cleared the representative is < 2**2047 <= n for a 2048-bit modulus, so no reduction is needed.

The public exponent is e = 3 (issue 22): FDH's security argument holds for any e coprime to phi(n), and under
Osaka (EIP-7883) the 2048-bit modexp costs 2,048 gas with e = 3 against 32,768 with 65537 (docs/privacy.md gives
the literature). A key made for e = 65537 (before issue 22) is refused on load, naming the exponent.

Keys come from `cryptography` (no hand-made primes; gcd(3, p - 1) = gcd(3, q - 1) = 1 by construction); the
blinding arithmetic is plain Python integers, the signer's power by the Chinese remainder theorem on the key's
primes. The contract's copy is `contracts/modules/anonymous_requests.vy`; the tests check the two agree.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_canonical_address

MODULUS_BITS = 2048
MODULUS_BYTES = MODULUS_BITS // 8
E = 3
"""The public exponent: the contracts' modexp has it as a constant (x"03", one byte)."""
LEGACY_E = 65537
"""The exponent of keys made before issue 22: recognised on load only to refuse them with a clear error."""
EPOCH_SECONDS = 86_400
"""An epoch is a UTC day: epoch = unix time // 86400 (the paper's date)."""
TOKEN_TAG = keccak(b"gridchain.token.v1")


class TokenError(ValueError):
    """A blind-signature step failed its check (RFC 9474's errors: a bad key, a bad signature, ...)."""


class LegacyKeyError(TokenError):
    """A private key made for e = LEGACY_E: well formed, but it cannot sign tokens the contracts accept."""


@dataclass(frozen=True)
class PublicKey:
    n: int
    e: int = E

    def __post_init__(self) -> None:
        if self.n.bit_length() != MODULUS_BITS or self.n % 2 == 0:
            raise TokenError(f"modulus must be an odd {MODULUS_BITS}-bit integer, got {self.n.bit_length()} bits")
        if self.e != E:
            raise TokenError(f"public exponent e must be {E} (the contracts' modexp exponent), got {self.e}")

    @property
    def modulus_bytes(self) -> bytes:
        return self.n.to_bytes(MODULUS_BYTES, "big")

    @classmethod
    def from_bytes(cls, modulus: bytes) -> PublicKey:
        if len(modulus) != MODULUS_BYTES:
            raise TokenError(f"modulus must be {MODULUS_BYTES} bytes, got {len(modulus)}")
        return cls(int.from_bytes(modulus, "big"))


@dataclass(frozen=True)
class PrivateKey:
    """The issuer's RSA key: the exponent d and the primes p > q of n, with the CRT exponents dp = d mod (p-1),
    dq = d mod (q-1) and q_inv = q^-1 mod p precomputed (RFC 8017 3.2's second representation)."""

    public: PublicKey
    d: int
    p: int
    q: int
    dp: int = field(init=False, repr=False, compare=False)
    dq: int = field(init=False, repr=False, compare=False)
    q_inv: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.p < self.q:  # one order for one key: p > q, as PKCS #1 writers (OpenSSL) keep it
            p, q = self.q, self.p
            object.__setattr__(self, "p", p)
            object.__setattr__(self, "q", q)
        p, q, e = self.p, self.q, self.public.e
        if q < 2 or p == q or p * q != self.public.n:
            raise TokenError("p * q is not the modulus")
        dp, dq = self.d % (p - 1), self.d % (q - 1)
        if e * dp % (p - 1) != 1 or e * dq % (q - 1) != 1:
            if LEGACY_E * dp % (p - 1) == 1 and LEGACY_E * dq % (q - 1) == 1:
                raise LegacyKeyError(_legacy_key())
            raise TokenError("d is not the inverse of e modulo p - 1 and q - 1")
        object.__setattr__(self, "dp", dp)
        object.__setattr__(self, "dq", dq)
        object.__setattr__(self, "q_inv", pow(q, -1, p))

    @classmethod
    def generate(cls) -> PrivateKey:
        key = rsa.generate_private_key(public_exponent=E, key_size=MODULUS_BITS)
        numbers = key.private_numbers()
        return cls(PublicKey(numbers.public_numbers.n), numbers.d, numbers.p, numbers.q)

    @classmethod
    def from_exponent(cls, public: PublicKey, d: int) -> PrivateKey:
        """The key from (n, e, d) alone: p and q recovered by the standard probabilistic algorithm (a
        non-trivial square root of 1 mod n from e*d - 1; HAC 8.2.2, NIST SP 800-56B Appendix C), as
        `cryptography` implements it."""
        if not 1 < d < public.n:
            raise TokenError("private exponent out of range")
        try:
            p, q = rsa.rsa_recover_prime_factors(public.n, public.e, d)
        except ValueError:
            try:  # a key of the old form (e = 65537)? Name it, rather than call the exponent wrong
                rsa.rsa_recover_prime_factors(public.n, LEGACY_E, d)
            except ValueError:
                raise TokenError("the private exponent does not factor the modulus") from None
            raise LegacyKeyError(_legacy_key()) from None
        return cls(public, d, p, q)

    def to_bytes(self) -> bytes:
        """d || p || q, each MODULUS_BYTES big-endian: what the issuer seals at rest (`from_bytes` reads it)."""
        return b"".join(v.to_bytes(MODULUS_BYTES, "big") for v in (self.d, self.p, self.q))

    @classmethod
    def from_bytes(cls, public: PublicKey, raw: bytes) -> PrivateKey:
        """`to_bytes`'s d || p || q, or d alone (MODULUS_BYTES: the form kept before the CRT; p, q recovered)."""
        if len(raw) == MODULUS_BYTES:
            return cls.from_exponent(public, int.from_bytes(raw, "big"))
        if len(raw) != 3 * MODULUS_BYTES:
            raise TokenError(f"a private key is {MODULUS_BYTES} or {3 * MODULUS_BYTES} bytes, got {len(raw)}")
        d, p, q = (int.from_bytes(raw[i : i + MODULUS_BYTES], "big") for i in range(0, len(raw), MODULUS_BYTES))
        return cls(public, d, p, q)

    def power(self, z: int) -> int:
        """z^d mod n for 0 <= z < n by the CRT (two half-size powers and Garner's recombination: about a
        quarter of pow(z, d, n)'s work), checked by s^e == z before it is returned: a fault in one half
        (Boneh, DeMillo and Lipton, 1997) makes s^e - z a multiple of one prime only, and gcd(s^e - z, n)
        would give the factorisation away."""
        s_p = pow(z % self.p, self.dp, self.p)
        s_q = pow(z % self.q, self.dq, self.q)
        s = s_q + self.q * (self.q_inv * (s_p - s_q) % self.p)
        if pow(s, self.public.e, self.public.n) != z:
            raise TokenError("signing failure")
        return s


def _legacy_key() -> str:
    return (
        f"public exponent e: this key was made for e = {LEGACY_E} (before issue 22); tokens are now checked with "
        f"e = {E} on chain, so it cannot sign them. Make a new key (`PrivateKey.generate()`: the issuer makes one per "
        "community and epoch on first use) and register it with contracts of this version"
    )


def epoch_of(unix_time: int) -> int:
    return unix_time // EPOCH_SECONDS


def token_seed(chain_id: int, coordinator: str, epoch: int, pseudonym: str) -> bytes:
    """The 32-byte seed of the full-domain hash: the pseudonym under the common message (community, epoch)."""
    return keccak(
        abi_encode(
            ["bytes32", "uint256", "address", "uint256", "address"],
            [TOKEN_TAG, chain_id, to_canonical_address(coordinator), epoch, to_canonical_address(pseudonym)],
        )
    )


def fdh(seed: bytes) -> int:
    """keccak256(seed || uint256 i) for i = 0..7 (MGF1's construction with keccak-256 and a 32-byte counter),
    concatenated, with the top bit cleared: an integer < 2**2047."""
    mask = b"".join(keccak(seed + i.to_bytes(32, "big")) for i in range(MODULUS_BYTES // 32))
    return int.from_bytes(mask, "big") & ((1 << (MODULUS_BITS - 1)) - 1)


@dataclass(frozen=True)
class Blinded:
    """What the ESU keeps to finish one token: the representative m and the inverse of its blinding factor."""

    message: int
    inverse: int
    blinded: int


def blind(public: PublicKey, message: int, rng: secrets.SystemRandom | None = None) -> Blinded:
    """RFC 9474 Blind: z = m * r^e mod n for a uniformly random r in Z*_n."""
    if not 0 < message < public.n or math.gcd(message, public.n) != 1:
        raise TokenError("message representative is not invertible mod n")
    rand = rng or secrets.SystemRandom()
    while True:
        r = rand.randrange(1, public.n)
        if math.gcd(r, public.n) == 1:
            break
    return Blinded(message, pow(r, -1, public.n), message * pow(r, public.e, public.n) % public.n)


def blind_sign(key: PrivateKey, blinded: int) -> int:
    """RFC 9474 BlindSign: s = z^d mod n (by the CRT), checked by s^e == z before it leaves the signer."""
    if not 0 <= blinded < key.public.n:
        raise TokenError("blinded message out of range")
    return key.power(blinded)


def finalize(public: PublicKey, state: Blinded, blind_signature: int) -> int:
    """RFC 9474 Finalize: unblind s * r^-1 mod n and verify it before use."""
    if not 0 <= blind_signature < public.n:
        raise TokenError("blind signature out of range")
    token = blind_signature * state.inverse % public.n
    if not verify(public, state.message, token):
        raise TokenError("invalid signature: the blind signature does not unblind to a valid token")
    return token


def verify(public: PublicKey, message: int, token: int) -> bool:
    """The check the contract makes: token < n and token^e mod n == m."""
    return 0 <= token < public.n and pow(token, public.e, public.n) == message


def token_bytes(token: int) -> bytes:
    return token.to_bytes(MODULUS_BYTES, "big")
