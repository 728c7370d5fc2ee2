"""Governance by Safe multisig: the real Safe 1.4.1 contracts, deployed from the bytecode safe-eth-py publishes,
own gridchain's contracts; owner actions are M-of-N Safe transactions (EIP-712 signatures), owners rotate by the
Safe's own calls without redeploying anything. Routine duties go to bounded hot keys in the contracts themselves
(the coordinator's capacity poster).

Feature: gas > client inside; uses no other feature (a call to any contract is an ABI and an address). The root
CLI's `deploy --owner` uses it through its package root.
"""

from gridchain.governance.client import (
    CANONICAL_MULTI_SEND,
    SAFE_VERSION,
    SafeClient,
    SafeContracts,
    check_published,
    deploy_safe_contracts,
    is_safe,
    multi_send_encoding,
    published,
)

__all__ = [
    "CANONICAL_MULTI_SEND",
    "SAFE_VERSION",
    "SafeClient",
    "SafeContracts",
    "check_published",
    "deploy_safe_contracts",
    "is_safe",
    "multi_send_encoding",
    "published",
]
