"""The energy coin against its twin on random sequences of operations: each operation goes to the twin first and
then to the contract (tests/coin/harness.py); a refusal must carry the same reason on both sides and change
nothing, a success must leave every balance, allowance, nonce, role, the owner and the supply equal."""

from __future__ import annotations

import boa
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.coin.model import MAX_UINT256, UNIT, ZERO
from tests.coin.harness import Coin
from tests.support.mirrored import fresh_traces

KINDS = ("mint", "mint_ref", "transfer", "approve", "transfer_from", "burn", "burn_from", "set_minter", "permit")
AMOUNTS = st.one_of(st.sampled_from([0, 1, UNIT, 50 * UNIT]), st.sampled_from([MAX_UINT256]), st.integers(0, 2**64))
OPS = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 5), st.integers(0, 5), st.integers(0, 5), AMOUNTS),
    min_size=1,
    max_size=14,
)


def who(k: Coin, i: int) -> str:
    """Owner, three holders, the zero address and the coin itself."""
    return [k.owner, *(h.address for h in k.holders), ZERO, k.address][i]


def apply(k: Coin, kind: str, i: int, j: int, m: int, amount: int) -> None:
    a, b, c = who(k, i), who(k, j), who(k, m)
    if kind.startswith("mint") and i < 3:
        a = k.owner  # minting mostly by a minter, so that sequences have coins to move
    steps = {
        "mint": lambda: k.mint(a, b, amount),
        "mint_ref": lambda: k.mint_with_reference(a, b, amount, bytes([m]) * 32),
        "transfer": lambda: k.transfer(a, b, amount),
        "approve": lambda: k.approve(a, b, amount),
        "transfer_from": lambda: k.transfer_from(a, b, c, amount),
        "burn": lambda: k.burn(a, amount),
        "burn_from": lambda: k.burn_from(a, b, amount),
        "set_minter": lambda: k.set_minter(a, b, amount % 2 == 0),
        "permit": lambda: _permit(k, i, b, c, amount),
    }
    k.attempt(steps[kind], kind)


def _permit(k: Coin, i: int, spender: str, submitter: str, amount: int) -> None:
    signer = k.holders[i % 3].address
    nonce = k.model.nonce(signer) + (1 if amount % 5 == 4 else 0)  # one in five signs a wrong (future) nonce
    deadline = k.now - 1 if amount % 7 == 6 else k.now + 600  # one in seven has expired
    k.permit(submitter, *k.sign(signer, spender, amount, deadline, nonce).as_args())


@settings(max_examples=30, deadline=None, derandomize=True)
@given(ops=OPS)
def test_contract_equals_twin_on_random_sequences(ops):
    with boa.env.anchor():
        fresh_traces()
        k = Coin()
        for h in k.holders:
            k.mint(k.owner, h.address, 100 * UNIT)
        for op in ops:
            apply(k, *op)
        k.check()
