"""Ways to re-encode or break a 65-byte signature (r | s | v, v = 27/28), for the differential test, the machine and
the attack suite: the forms standard wallets produce, the malleable twin, and malformed ones."""

from __future__ import annotations

from gridchain.crypto.keys import SECP256K1_N, SECP256K1_P

OFF_CURVE_R = next(x for x in range(2, 100) if pow(x**3 + 7, (SECP256K1_P - 1) // 2, SECP256K1_P) != 1)


def parts(signature: bytes) -> tuple[int, int, int]:
    return int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big"), signature[64]


def rsv(r: int, s: int, v: int) -> bytes:
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v])


def compact(r: int, s: int, v: int) -> bytes:
    """EIP-2098's 64 bytes r | vs (v's parity in the top bit of s)."""
    return r.to_bytes(32, "big") + (s | ((v % 27) << 255)).to_bytes(32, "big")


def high_s(signature: bytes) -> bytes:
    """The same signer's malleable twin: (r, n - s, the other v)."""
    r, s, v = parts(signature)
    return rsv(r, SECP256K1_N - s, 55 - v)


FORMS = {
    "rsv": lambda sig: sig,
    "v01": lambda sig: sig[:64] + bytes([sig[64] - 27]),
    "compact": lambda sig: compact(*parts(sig)),
    "high_s": high_s,
    # EIP-2098 holds s below 2**255 only: the high half's part of that range, (n/2, 2**255), beside r
    "high_s_compact": lambda sig: compact(parts(sig)[0], SECP256K1_N // 2 + 1 + parts(sig)[1] % 2**64, sig[64]),
    "short": lambda sig: sig[:63],
    "empty": lambda sig: b"",
    "bad_v": lambda sig: sig[:64] + bytes([29]),
    "r_zero": lambda sig: rsv(0, *parts(sig)[1:]),
    "s_zero": lambda sig: rsv(parts(sig)[0], 0, sig[64]),
    "r_off_curve": lambda sig: rsv(OFF_CURVE_R, *parts(sig)[1:]),
    "r_above_n": lambda sig: rsv(SECP256K1_N + 1, *parts(sig)[1:]),
}
VALID = ("rsv", "v01", "compact")
