"""Speed of the issuer's blind signature at the key size in use (RSA-2048, e = 3); writes JSON (no assertions).

Per signature, on blinded messages made as an ESU makes them (`blind.blind` of a token's full-domain hash):
- before: pow(z, d, n) and the check s^e == z (what `blind_sign` did before the CRT);
- after: `blind.blind_sign` (the CRT on p and q, Garner's recombination, the same check);
- the CRT without the check, and the check alone (s^e mod n: what the fault guard costs);
- for reference, OpenSSL's RSA-2048 PKCS #1 v1.5 signature through `cryptography` (a private operation in C
  with its own CRT and blinding; not usable for our FDH tokens, which need the raw power).
Each figure is the median over `--rounds` interleaved rounds of `--signatures` signatures per key, for
`--keys` keys; the summary takes the median over keys.

Usage: python benchmarks/bench_blind_sign.py [--out results/bench_blind_sign.json] [--keys 3] [--signatures 50]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from gridchain.crypto import blind


def plain(key: blind.PrivateKey, z: int) -> int:
    """The signature as computed before the CRT."""
    n = key.public.n
    s = pow(z, key.d, n)
    if pow(s, key.public.e, n) != z:
        raise blind.TokenError("signing failure")
    return s


def crt_unchecked(key: blind.PrivateKey, z: int) -> int:
    s_p, s_q = pow(z % key.p, key.dp, key.p), pow(z % key.q, key.dq, key.q)
    return s_q + key.q * (key.q_inv * (s_p - s_q) % key.p)


def ms_per_call(fns: dict[str, Callable[[int], object]], values: list[int], rounds: int) -> dict[str, dict]:
    """For each of `fns`: the median and minimum over `rounds` of the mean time of fn(z) over `values`, in
    milliseconds. Rounds interleave the functions, so a change of the machine's load falls on all alike."""
    means: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for z in values:
                fn(z)
            means[name].append((time.perf_counter() - start) / len(values) * 1000)
    return {
        name: {"median_ms": round(statistics.median(m), 4), "min_ms": round(min(m), 4)} for name, m in means.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("results/bench_blind_sign.json"))
    parser.add_argument("--keys", type=int, default=3)
    parser.add_argument("--signatures", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for i in range(args.keys):
        key = blind.PrivateKey.generate()
        messages = [
            blind.fdh(blind.token_seed(1, "0x" + "c0" * 20, 20_000, f"0x{j:040x}")) for j in range(args.signatures)
        ]
        values = [blind.blind(key.public, m).blinded for m in messages]
        if any(blind.blind_sign(key, z) != plain(key, z) for z in values):
            raise SystemExit("the CRT's signatures differ from pow(z, d, n)'s")
        openssl = rsa.RSAPrivateNumbers(
            key.p, key.q, key.d, key.dp, key.dq, key.q_inv, rsa.RSAPublicNumbers(key.public.e, key.public.n)
        ).private_key()
        digest = b"\x01" * 32
        row = {"key": i, "modulus_bits": key.public.n.bit_length()}
        row |= ms_per_call(
            {
                "before_pow_ms": lambda z: plain(key, z),
                "after_crt_ms": lambda z: blind.blind_sign(key, z),
                "crt_unchecked_ms": lambda z: crt_unchecked(key, z),
                "check_alone_ms": lambda z: pow(z, key.public.e, key.public.n),
                "openssl_pkcs1v15_ms": lambda _: openssl.sign(digest, padding.PKCS1v15(), hashes.SHA256()),
            },
            values,
            args.rounds,
        )
        row["speedup"] = round(row["before_pow_ms"]["median_ms"] / row["after_crt_ms"]["median_ms"], 2)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    before = statistics.median(r["before_pow_ms"]["median_ms"] for r in rows)
    after = statistics.median(r["after_crt_ms"]["median_ms"] for r in rows)
    report = {
        "benchmark": "blind_sign",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "modulus_bits": blind.MODULUS_BITS,
        "public_exponent": blind.E,
        "signatures_per_round": args.signatures,
        "rounds": args.rounds,
        "summary": {"before_pow_ms": before, "after_crt_ms": after, "speedup": round(before / after, 2)},
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
