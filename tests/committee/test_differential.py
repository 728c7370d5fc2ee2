"""The committee contract against its twin on random committees and random signature sets: members and outsiders,
duplicates, every order, stale epochs, other rounds, wallet forms and malformed ones, interleaved with rotations.
Each call goes to the twin first and then the contract (tests/committee/harness.py): a refusal must carry the same
reason on both sides and change nothing, a success must leave the same members, epoch, rule and digests and log the
same signers."""

from __future__ import annotations

import boa
from hypothesis import given, settings
from hypothesis import strategies as st

from gridchain.committee.model import FIXED, UNANIMOUS
from tests.committee.harness import Committee, address
from tests.committee.signatures import FORMS, VALID
from tests.support.mirrored import fresh_traces

PICK = 12  # signers drawn from keys 0 .. 11: members and outsiders
FORM = st.one_of(st.sampled_from(VALID), st.sampled_from(VALID), st.sampled_from(sorted(FORMS)))
SIGNER = st.tuples(st.integers(0, PICK - 1), FORM, st.sampled_from(["now", "now", "now", "stale", "other_round"]))
ATTEST = st.tuples(
    st.just("attest"),
    st.lists(SIGNER, max_size=9),
    st.sampled_from(["sorted", "sorted", "sorted", "as drawn", "reversed"]),
    st.integers(0, 3),  # round
    st.sampled_from([b"\x11" * 32, b"\x22" * 32, b"\x11" * 32, b"\x22" * 32, b"\x00" * 32]),
)
HONEST = st.tuples(
    st.just("honest"),
    st.integers(-1, 2),  # signers beyond the threshold (-1: one short)
    st.sampled_from(["none", "none", "none", "duplicate", "outsider", "stale", "high_s", "compact", "v01"]),
    st.integers(0, 3),
    st.sampled_from([b"\x11" * 32, b"\x22" * 32]),
)
ROTATE = st.tuples(st.sampled_from(["add", "remove", "rule"]), st.integers(0, PICK - 1), st.integers(0, 4))
OPS = st.lists(st.one_of(HONEST, HONEST, ATTEST, ROTATE), min_size=1, max_size=10)


def attest(k: Committee, signers, order: str, round: int, digest: bytes) -> None:
    if order == "sorted":
        signers = sorted(signers, key=lambda s: int(address(s[0]), 16))
    elif order == "reversed":
        signers = sorted(signers, key=lambda s: -int(address(s[0]), 16))
    signatures = []
    for i, form, when in signers:
        epoch = max(k.model.epoch - 1, 0) if when == "stale" else None
        signature = k.sign(i, round + (when == "other_round"), digest, epoch=epoch)
        signatures.append(FORMS[form](signature))
    k.attempt(lambda: k.attest(k.stranger, round, digest, signatures), "attest")


def honest(k: Committee, extra: int, fault: str, round: int, digest: bytes) -> None:
    """The current members' signatures, threshold + extra of them, with at most one fault."""
    members = k.member_keys()[: max(k.model.threshold() + extra, 0)]
    signers = [(i, "rsv", "now") for i in members]
    if signers and fault == "duplicate":
        signers.append(signers[0])
    elif fault == "outsider":
        signers.append((PICK, "rsv", "now"))
    elif signers and fault == "stale":
        signers[-1] = (signers[-1][0], "rsv", "stale")
    elif signers and fault in FORMS:
        signers[0] = (signers[0][0], fault, "now")
    attest(k, signers, "sorted", round, digest)


def rotate(k: Committee, op: str, i: int, x: int) -> None:
    steps = {
        "add": lambda: k.add_member(k.owner, address(i)),
        "remove": lambda: k.remove_member(k.owner, address(i)),
        "rule": lambda: k.set_rule(k.owner, x % 4, x if x % 4 == FIXED else 0),
    }
    k.attempt(steps[op], op)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(1, 8), rule=st.integers(UNANIMOUS, FIXED), m=st.integers(1, 8), ops=OPS)
def test_contract_equals_twin_on_random_committees_and_signatures(n, rule, m, ops):
    with boa.env.anchor():
        fresh_traces()
        k = Committee(n, rule, min(m, n) if rule == FIXED else 0)
        for op in ops:
            if op[0] == "attest":
                attest(k, *op[1:])
            elif op[0] == "honest":
                honest(k, *op[1:])
            else:
                rotate(k, *op)
        k.check()
