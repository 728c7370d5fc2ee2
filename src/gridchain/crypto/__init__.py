"""Cryptography that parties and contracts share: blind-signature (RSA) tokens, EIP-712 typed data as the
contracts hash it (one implementation), and secp256k1 keys: the one sign/recover module, with signatures in
every standard form normalised at the entry.

Shared adapter at the bottom: imports only the kernel and libraries; never chain, any other shared package,
a feature or the CLI.
"""
