"""Whatever the store's thread rows hold (records rewritten, moved to another seq, from another node, dated in
the future, with a broken link, between rounds of honest accesses), the attestor publishes only batches whose
root the log holds at their index, every attested thread runs 0, 1, ... each record linked to the last, and a
round after a round batches nothing."""

from __future__ import annotations

import tempfile
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridchain.monitoring.attesting import AttestService
from gridchain.monitoring.model.records import ZERO32
from gridchain.monitoring.store import AccessStore
from gridchain.store.engine import open_store
from tests.monitoring.service.world import NODE_KEYS, World

EDITS = st.one_of(
    st.just(("serve",)),
    st.just(("round",)),
    st.tuples(
        st.just("edit"),
        st.integers(0, 5),
        st.sampled_from(["seq", "prev", "node", "time", "data_hash"]),
        st.integers(1, 3 * 86_400),
    ),
)


def _edit(w: World, seq: int, field: str, n: int) -> None:
    thread = w.node.thread(w.house.address).records
    if not thread:
        return
    r = thread[seq % len(thread)]
    change = {
        "seq": {"seq": n % 8},
        "prev": {"prev": n.to_bytes(32, "big")},
        "node": {"node": "0x" + f"{n:040x}"},
        "time": {"time": r.time + n},
        "data_hash": {"data_hash": n.to_bytes(32, "big")},
    }[field]
    w.store.put_records([replace(r, **change)])


def _check(w: World, s: AttestService) -> None:
    published = w.store.batches()
    events = sorted((int(e.args["index"]), bytes(e.args["root"])) for e in w.log.events("Attested"))
    assert [(b.index, b.root()) for b in published] == events and w.store.intent() is None
    heads: dict[str, tuple[int, bytes]] = {}
    for b in published:
        for r in b.records:
            seq, leaf = heads.get(r.household.lower(), (0, ZERO32))
            assert (r.seq, r.prev, r.node.lower()) == (seq, leaf, w.node.address.lower())
            heads[r.household.lower()] = (seq + 1, r.leaf())
    assert s.round()["batch"] is None


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EDITS, min_size=1, max_size=8))
def test_hostile_thread_rows_never_make_a_bad_batch(edits):
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/gridchain.db")
        try:
            w = World(AccessStore.open(store))
            s = AttestService(w.log, w.store, NODE_KEYS, w.relayer, w.gw.now, [w.node.address])
            for edit in [*edits, ("round",)]:
                if edit[0] == "serve":
                    w.honest()
                    w.node.take()
                    w.show()
                elif edit[0] == "edit":
                    _edit(w, *edit[1:])
                else:
                    s.round()
            _check(w, s)
        finally:
            store.close()
