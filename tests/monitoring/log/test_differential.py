"""The access log against its twin on random node sets and random signature sets: nodes and outsiders, rotated-out
nodes, duplicates, every order, stale epochs, other indices and roots, wallet forms and malformed ones, wrong
indices, interleaved with rotations, pins and `includes` queries (true ones and ones with a wrong prev_head, root,
index or later list). Each call goes to the twin first and then the contract (tests/monitoring/log/harness.py): a
refusal must carry the same reason on both sides and change nothing, a success must leave the same state and log
the same event, and every `includes` answer must be the twin's."""

from __future__ import annotations

import boa
from hypothesis import event, given, settings
from hypothesis import strategies as st

from gridchain.monitoring.model.log import GENESIS, ZERO32, chain
from tests.committee.signatures import FORMS, VALID
from tests.monitoring.log.harness import Log, address, root_of
from tests.support.mirrored import fresh_traces

PICK = 12  # signers drawn from keys 0 .. 11: nodes and outsiders
FORM = st.one_of(st.sampled_from(VALID[:2]), st.sampled_from(VALID[:2]), st.sampled_from(sorted(FORMS)))
SIGNER = st.tuples(
    st.integers(0, PICK - 1), FORM, st.sampled_from(["now", "now", "now", "stale", "other_index", "other_root"])
)
ROOTS = st.integers(0, 3).map(root_of)
ATTEST = st.tuples(
    st.just("attest"),
    st.lists(SIGNER, max_size=9),
    st.sampled_from(["sorted", "sorted", "sorted", "as drawn", "reversed"]),
    st.sampled_from([0, 0, 0, 0, -1, 1, 2**256 - 1]),  # index - batches (2**256 - 1: a huge index)
    ROOTS,
    st.sampled_from([0, 1, 1000, 2**256 - 1]),
)
HONEST = st.tuples(
    st.just("honest"),
    st.integers(-1, 2),  # signers beyond the threshold (-1: one short)
    st.sampled_from(["none", "none", "none", "duplicate", "outsider", "stale", "high_s", "compact", "v01"]),
    ROOTS,
)
ROTATE = st.tuples(st.just("rotate"), st.lists(st.integers(0, PICK), max_size=6), st.integers(0, 7))
PIN = st.tuples(st.just("pin"))
INCLUDES = st.tuples(
    st.just("includes"),
    st.integers(0, 5),  # which batch
    st.integers(0, 3),  # which known head: now's or a pinned one
    st.sampled_from(["true", "true", "prev_head", "root", "index", "later", "short", "long", "zero"]),
)
OPS = st.lists(st.one_of(HONEST, HONEST, HONEST, ATTEST, ROTATE, PIN, INCLUDES, INCLUDES), min_size=1, max_size=14)


def attest(lg: Log, signers, order: str, offset: int, root: bytes, records: int) -> None:
    index = (lg.model.batches + offset) % 2**256
    if order == "sorted":
        signers = sorted(signers, key=lambda s: int(address(s[0]), 16))
    elif order == "reversed":
        signers = sorted(signers, key=lambda s: -int(address(s[0]), 16))
    signatures = []
    for i, form, when in signers:
        epoch = max(lg.model.epoch - 1, 0) if when == "stale" else None
        signature = lg.sign(
            i,
            (index + (when == "other_index")) % 2**256,
            root_of(9) if when == "other_root" else root,
            records,
            epoch=epoch,
        )
        signatures.append(FORMS[form](signature))
    lg.attempt(lambda: lg.attest(lg.stranger, index, root, records, signatures), "attest")


def honest(lg: Log, extra: int, fault: str, root: bytes) -> None:
    """The current nodes' signatures, m + extra of them, with at most one fault."""
    nodes = lg.node_keys()[: max(lg.model.m + extra, 0)]
    signers = [(i, "rsv", "now") for i in nodes]
    if signers and fault == "duplicate":
        signers.append(signers[0])
    elif fault == "outsider":
        signers.append((PICK, "rsv", "now"))
    elif signers and fault == "stale":
        signers[-1] = (signers[-1][0], "rsv", "stale")
    elif signers and fault in FORMS:
        signers[0] = (signers[0][0], fault, "now")
    attest(lg, signers, "sorted", 0, root, 1000)


def rotate(lg: Log, nodes: list[int], m: int) -> None:
    chosen = ["0x" + "00" * 20 if i == PICK else address(i) for i in nodes]
    m = m if m in (0, 7) else min(m, max(len(chosen), 1))  # mostly in range; 0 and 7 test the bounds
    lg.attempt(lambda: lg.set_nodes(lg.owner, chosen, m), "rotate")


def includes(lg: Log, roots: list[bytes], pick: int, to: int, fault: str) -> None:
    """Ask `includes` about a batch (the `pick`-th attested here) proved up to a known head (now's or a pinned one,
    the `to`-th of them), maybe with one thing wrong."""
    heads = [GENESIS]
    for r in roots:
        heads.append(chain(heads[-1], r))
    index = pick % len(roots) if roots else pick
    ends = [len(roots)] + sorted(c for c in lg.model.pinned if c > index)
    end = ends[to % len(ends)]
    prev_head = heads[index] if index < len(heads) else ZERO32
    root = roots[index] if index < len(roots) else root_of(0)
    later = roots[index + 1 : end]
    if fault == "prev_head":
        prev_head = chain(prev_head, b"\x01" * 32)
    elif fault == "root":
        root = root_of(7)
    elif fault == "index":
        index += 1
    elif fault == "later" and later:
        later = [*later[:-1], root_of(8)]
    elif fault == "short" and later:
        later = later[:-1]
    elif fault == "long":
        later = [*later, root_of(0)]
    elif fault == "zero":
        prev_head, root = ZERO32, ZERO32
    out = lg.includes(index, prev_head, root, later)
    event(f"includes ({fault}): {out}")
    if roots and fault in ("true", "later", "short", "long") and (fault in ("true", "long") or later):
        assert out == (fault == "true" or (fault == "short" and index + len(later) + 1 in lg.model.pinned)), fault


@settings(max_examples=120, deadline=None, derandomize=True)
@given(n=st.integers(1, 7), m=st.integers(1, 7), first=st.lists(st.booleans(), max_size=4), ops=OPS)
def test_contract_equals_twin_on_random_node_sets_and_signatures(n, m, first, ops):
    with boa.env.anchor():
        fresh_traces()
        lg = Log(n, min(m, n))
        for i, pin in enumerate(first):  # a few honest batches first, some pinned
            lg.honest(root_of(i))
            if pin:
                lg.pin(lg.stranger)
        for op in ops:
            if op[0] == "attest":
                attest(lg, *op[1:])
            elif op[0] == "honest":
                honest(lg, *op[1:])
            elif op[0] == "rotate":
                rotate(lg, *op[1:])
            elif op[0] == "pin":
                lg.attempt(lambda: lg.pin(lg.stranger), "pin")
            else:
                includes(lg, [e.root for e, *_ in lg.model.log], *op[1:])
        lg.check()
