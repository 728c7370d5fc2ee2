"""The household's view over the month with breaches: its grants are the scenario's (the researcher's revoked by
household 0 only), its accesses are the stored thread with the attested flag of the chain's roots (the withheld
and the altered records not attested), its alerts hold every on-chain breach of it and none of another's."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from gridchain.monitoring import view
from gridchain.monitoring.model.consent import REASONS
from gridchain.monitoring.model.records import DAY_S
from gridchain.monitoring.scenarios import REVOKE_DAY

PURPOSE = {"utility": "billing", "researcher": "research", "aggregator": "flexibility"}
ON_CHAIN = set(REASONS.values())


def unix(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def day(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()) // DAY_S


@pytest.mark.parametrize("i", range(4))
def test_grants_are_the_scenarios(month, i):
    h = month.households[i]
    rows = view.grants(month.consent, h, 0)
    by_grantee = {row["grantee"]: row for row in rows}
    assert len(rows) == 3 and set(by_grantee) == {month.grantees[n] for n in PURPOSE}
    terms = month.consent.grants()
    for name, text in PURPOSE.items():
        row = by_grantee[month.grantees[name]]
        gid = bytes.fromhex(row["grant"][2:])
        g, st = terms[gid], month.consent.state(gid)
        assert row["household"] == h and g.household == h and row["purpose_text"] == text
        assert (day(row["first_day"]), day(row["last_day"]), unix(row["expiry"])) == (g.first_day, g.last_day, g.expiry)
        assert unix(row["granted_at"]) == st.granted_at and row["days"] == g.last_day - g.first_day + 1
        revoked = name == "researcher" and i == 0
        assert (row["revoked_at"] is not None) == revoked == (row["status"] == "revoked")
        if revoked:
            assert unix(row["revoked_at"]) == st.revoked_at
            assert day(row["revoked_at"][:10]) == day(row["granted_at"][:10]) + REVOKE_DAY - 1
    now = month.gateway.now()  # after the month: the researcher's grants expired, the others not yet
    assert {r["status"] for r in rows if r["purpose_text"] != "research"} == {"active"}
    assert all(r["status"] in ("expired", "revoked") for r in rows if r["purpose_text"] == "research")
    assert now >= max(unix(r["expiry"]) for r in rows if r["purpose_text"] == "research")
    json.dumps(rows)


def test_grant_status_follows_the_time_given(month):
    rows = view.grants(month.consent, month.households[1], 0, now=0)
    assert {r["status"] for r in rows} == {"active"}
    expiry = min(unix(r["expiry"]) for r in rows)
    at = {r["grant"]: r["status"] for r in view.grants(month.consent, month.households[1], 0, now=expiry)}
    assert sorted(at.values()) == ["active", "active", "expired"]
    rows0 = view.grants(month.consent, month.households[0], 0, now=0)  # revoked whatever the time asked
    assert sorted(r["status"] for r in rows0) == ["active", "active", "revoked"]


def test_unknown_purposes_show_their_tag_and_more_can_be_named(month):
    rows = view.grants(month.consent, month.households[2], 0, purposes=())
    assert all(r["purpose_text"] in PURPOSE.values() for r in rows)
    tags = view.purpose_texts(["research:ev-load-2026"])
    assert tags[view.purpose_tag("research:ev-load-2026")] == "research:ev-load-2026"
    assert view._purpose(b"\x01" * 32, tags) == {"purpose": "0x" + "01" * 32, "purpose_text": None}


def test_a_household_never_granted_has_no_grant(month):
    assert view.grants(month.consent, month.grantees["broker"], 0) == []


def _attested_leaves(month) -> set[str]:
    """Independently: the leaves of every published batch whose root is the one the log attested for its index."""
    roots = {int(e.args["index"]): bytes(e.args["root"]) for e in month.log.events("Attested")}
    return {"0x" + leaf.hex() for b in month.store.batches() if roots.get(b.index) == b.root() for leaf in b.leaves()}


@pytest.mark.parametrize("i", range(4))
def test_accesses_are_the_stored_thread_with_its_attested_flags(month, i):
    h = month.households[i]
    roots = view.attested_roots(month.log)
    rows = view.accesses(month.store, h, roots)
    thread = month.store.threads(h)[h.lower()]
    assert [r["seq"] for r in rows] == [a.seq for a in thread] == list(range(len(thread)))
    attested = _attested_leaves(month)
    for row, a in zip(rows, thread, strict=True):
        assert row["leaf"] == "0x" + a.leaf().hex() and row["data_hash"] == "0x" + a.data_hash.hex()
        assert (row["node"].lower(), row["grantee"].lower()) == (a.node.lower(), a.grantee.lower())
        assert unix(row["time"]) == a.time and day(row["first_day"]) == a.first_day
        assert row["attested"] == (row["leaf"] in attested) == (row["batch"] is not None)
    by_seq = {r["seq"]: r for r in rows}
    for breach, household, seq in month.result.injected:
        if household == h.lower() and breach.how in ("withhold", "alter"):
            assert not by_seq[seq]["attested"], breach.name
        elif household == h.lower():
            assert by_seq[seq]["attested"], breach.name  # a breach, but attested: the monitor can prove it
    if i in (1, 2):  # nothing withheld nor altered: every record attested
        assert all(r["attested"] for r in rows)
    assert view.accesses(month.store, h, list(month.store.roots())) == [
        {**r, "attested": False, "batch": None, "position": None} for r in rows
    ]  # the store holds no roots (the month's monitor kept them in memory): nothing is attested by them
    json.dumps(rows)


def test_a_root_the_log_did_not_attest_attests_nothing(month):
    h = month.households[1]
    roots = view.attested_roots(month.log)
    rows = view.accesses(month.store, h, roots)
    b = rows[0]["batch"]
    forged = {**roots, b: b"\x11" * 32}
    again = view.accesses(month.store, h, forged)
    assert [r["seq"] for r in again if not r["attested"]] == [r["seq"] for r in rows if r["batch"] == b] != []


@pytest.mark.parametrize("i", range(4))
@pytest.mark.parametrize("shared", [True, False])
def test_alerts_hold_every_on_chain_breach_of_the_household_and_no_other(month, i, shared):
    h = month.households[i]
    rows = view.alerts(month.store if shared else None, h, month.consent, 0)
    assert all(r["household"] == h for r in rows)
    leaves = [r["leaf"] for r in rows if r["leaf"] is not None]
    assert len(leaves) == len(set(leaves))  # one per record
    breaches = [e for e in month.consent.events("Breach") if e.args["household"].lower() == h.lower()]
    assert {"0x" + bytes(e.args["record"]).hex() for e in breaches} <= set(leaves)
    expected = [(b.kind, seq) for b, household, seq in month.result.injected if household == h.lower()]
    got = {(r["kind"], r["seq"] if shared else None) for r in rows}  # no store: the chain does not name the seq
    for kind, seq in expected:
        if kind in ON_CHAIN or shared:
            assert (kind, seq if shared else None) in got, (kind, seq)
    if shared:  # the monitor's and the chain's alert of a record are one row
        assert {r["source"] for r in rows if r["on_chain"]} <= {"monitor+chain"}
        assert len(rows) == len(expected)
    else:
        assert {r["source"] for r in rows} <= {"chain"} and len(rows) == len(breaches)
    for r in rows:
        if r["source"] != "monitor":
            assert r["state"] == "reported" and REASONS[r["reason"]] == r["kind"] and r["tx"].startswith("0x")
    json.dumps(rows)


def test_alerts_without_a_chain_are_the_stores(month):
    h = month.households[3]
    rows = view.alerts(month.store, h)
    (withheld,) = [seq for b, household, seq in month.result.injected if household == h.lower()]
    assert [(r["kind"], r["seq"], r["source"]) for r in rows] == [("unattested record", withheld, "monitor")]
    assert view.alerts(None, h) == []
