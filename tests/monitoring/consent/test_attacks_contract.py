"""Attacks on data_access.vy (and its access log), each refused by both the contract and its twin with the
contract's reason, or judged as the breach it is:

- the grantee replays a grant the household revoked (before or after it was submitted);
- a stranger revokes someone's grant with its own signature, or with the household's grant signature;
- a grantee grants itself a household's data (its own signature);
- a malleated (high-s) copy of a grant signature; the compact (EIP-2098) form of a used one;
- a grantee reading beyond its range, reported as OUT_OF_RANGE (the processing node refuses it first:
  tests/monitoring/test_parties.py);
- a minority of consensus nodes attesting a forged batch, then reporting a record from it to frame a grantee;
- a record that was never attested, with a made-up proof, or a made-up chain of roots;
- an honest record reported as a breach (griefing), and a breach reported twice.
"""

from __future__ import annotations

import pytest
from eth_utils import keccak

from gridchain.monitoring.model.consent import OUT_OF_RANGE, InLog
from gridchain.monitoring.model.records import RecordBatch, purpose_tag
from tests.monitoring.consent.harness import address, refused
from tests.monitoring.consent.world import World
from tests.monitoring.log.harness import refused as log_refused


@pytest.fixture
def w() -> World:
    return World()


def test_a_revoked_grant_is_never_replayed(w):
    g, _ = w.grant()
    signature = w.k.sign_grant(g)
    w.k.revoke(address(0), g)
    refused("data_access: grant revoked", w.k.grant, address(4), g, signature)
    unsent = w.k.terms(salt=b"\x07" * 32)
    unsent_sig = w.k.sign_grant(unsent)
    w.k.revoke_signed(w.k.stranger, unsent, w.k.sign_revoke(unsent))
    refused("data_access: grant revoked", w.k.grant, address(4), unsent, unsent_sig)


def test_a_stranger_cannot_revoke_anothers_grant(w):
    g, gid = w.grant()
    refused("data_access: not signed by the household", w.k.revoke_signed, w.k.stranger, g, w.k.sign_revoke(g, 9))
    refused("data_access: not signed by the household", w.k.revoke_signed, w.k.stranger, g, w.k.sign_grant(g))
    refused("data_access: caller is not the household", w.k.revoke, address(4), g)
    assert w.k.state(gid).revoked_at == 0


def test_a_grantee_cannot_grant_itself(w):
    g = w.k.terms(household=0, grantee=4)
    refused("data_access: not signed by the household", w.k.grant, address(4), g, w.k.sign_grant(g, signer=4))


def test_other_forms_of_a_used_signature_grant_nothing_more(w):
    g, _ = w.grant()
    s = w.k.sign_grant(g)
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    high_s = s[:32] + (n - int.from_bytes(s[32:64], "big")).to_bytes(32, "big") + bytes([55 - s[64]])
    refused(
        "data_access: signature s in the upper half (malleable, EIP-2)",
        w.k.grant,
        w.k.stranger,
        w.k.terms(salt=b"\x09" * 32),
        high_s,
    )
    compact = s[:32] + (int.from_bytes(s[32:64], "big") | ((s[64] - 27) << 255)).to_bytes(32, "big")
    refused("data_access: grant already submitted", w.k.grant, w.k.stranger, g, compact)


def test_a_grantee_reading_beyond_its_range_is_reported(w):
    g, _ = w.grant()
    r = w.access(g, first_day=g.first_day, last_day=g.last_day + 30)
    w.attest([r])
    assert w.k.report(w.k.stranger, r, g, w.where(r)) == OUT_OF_RANGE


def test_a_minority_of_nodes_cannot_attest_a_forged_batch_to_frame_a_grantee(w):
    g, _ = w.grant()
    framed = w.access(g, purpose=purpose_tag("marketing"))
    batch = RecordBatch(w.log.model.batches, (framed,))
    one = w.log.signed([0], batch.index, batch.root(), 1)
    log_refused(
        "access_log: fewer signatures than the threshold", w.log.attest, w.k.stranger, batch.index, batch.root(), 1, one
    )
    outsider = w.log.signed([0, 9], batch.index, batch.root(), 1)
    log_refused(
        "access_log: signer is not a current node", w.log.attest, w.k.stranger, batch.index, batch.root(), 1, outsider
    )
    where = InLog(tuple(batch.proof(0)), 0, b"\x00" * 32, batch.root(), ())
    refused("data_access: batch not in the log", w.k.report, w.k.stranger, framed, g, where)


def test_a_record_never_attested_cannot_be_reported(w):
    g, _ = w.grant()
    w.attest([w.access(g), w.access(g)])
    forged = w.access(g, purpose=purpose_tag("marketing"))
    real = w.where(w.batches[0].records[0])
    refused("data_access: record not in the batch", w.k.report, w.k.stranger, forged, g, real)
    # a made-up tree whose root the attacker chooses, and a chain that does not end at the log's head
    fake = RecordBatch(0, (forged, w.batches[0].records[0]))
    where = InLog(tuple(fake.proof(0)), 0, b"\x00" * 32, fake.root(), ())
    refused("data_access: batch not in the log", w.k.report, w.k.stranger, forged, g, where)
    for prev in (b"\x01" * 32, keccak(b"guess")):
        where = InLog(real.proof, 0, prev, real.root, ())
        refused("data_access: no breach", w.k.report, w.k.stranger, w.batches[0].records[0], g, real)
        refused("data_access: batch not in the log", w.k.report, w.k.stranger, w.batches[0].records[0], g, where)


def test_a_later_batch_cannot_stand_for_an_earlier_index(w):
    g, _ = w.grant()
    bad = w.access(g, purpose=purpose_tag("marketing"))
    w.attest([w.access(g)])
    w.attest([bad])
    where = w.where(bad)
    shifted = InLog(where.proof, 0, where.prev_head, where.root, where.later)
    refused("data_access: batch not in the log", w.k.report, w.k.stranger, bad, g, shifted)
    assert w.k.report(w.k.stranger, bad, g, where) > 0


def test_an_honest_record_cannot_be_framed_and_a_breach_is_reported_once(w):
    g, _ = w.grant()
    honest = w.access(g)
    bad = w.access(g, purpose=purpose_tag("marketing"))
    w.attest([honest, bad])
    refused("data_access: no breach", w.k.report, w.k.stranger, honest, g, w.where(honest))
    w.k.report(w.k.stranger, bad, g, w.where(bad))
    refused("data_access: record already reported", w.k.report, address(4), bad, g, w.where(bad))
