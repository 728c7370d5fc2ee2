"""The community view on the town's index: a schedule that differs from the rule's is shown as a mismatch with
the verifier's reason (a record tampered between chain and page), and the history is recomputed only when the
index's checkpoint moves."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gridchain.dashboard import app as dashboard_app
from gridchain.dashboard.deployment import Deployment
from gridchain.dashboard.pages import community
from tests.support.processes import rpc

pytestmark = pytest.mark.integration


@pytest.fixture
def deployment(town):
    d = Deployment.open(town.config)
    yield d
    d.close()


def test_a_schedule_that_is_not_the_rules_is_a_mismatch_with_its_reason(town, deployment, monkeypatch):
    real = community.fetch_records

    def tampered(client):
        records = real(client)
        records.closed[1] = {**records.closed[1], "granted_w": records.closed[1]["granted_w"] - 7}
        return records

    monkeypatch.setattr(community, "fetch_records", tampered)
    client = TestClient(dashboard_app.create_app(deployment))
    state = client.get("/api/community").json()
    verdicts = {r["slot"]: r for r in state["slots"]}
    assert verdicts[0]["verdict"] == "ok" and verdicts[1]["verdict"] == "mismatch"
    (reason,) = verdicts[1]["mismatches"]
    assert reason.startswith("slot 1: granted_w on chain ") and "recomputed" in reason
    assert state["mismatched"] == 1 and state["verified"] == state["closed"] - 1
    html = client.get("/community").text
    assert "✗ mismatch" in html and reason in html
    page = client.get("/community/slots/1").text
    assert "✗ mismatch" in page and reason in page


def test_the_history_is_recomputed_only_when_the_index_moves(town, deployment, monkeypatch):
    calls = []
    real = community.fetch_records
    monkeypatch.setattr(community, "fetch_records", lambda c: calls.append(1) or real(c))
    view = community.CommunityView(deployment)
    first = view.state()
    assert view.state() == first and len(calls) == 1  # nothing new in the index: nothing recomputed
    slot = town.slot(2)
    after = view.state()
    assert len(calls) == 2 and after["closed"] == first["closed"] + 1 and after["rows"][-1]["slot"] == slot
    assert after["rows"] == community.CommunityView(deployment).state()["rows"]  # the new slot alone: the same


def test_an_empty_index_says_what_to_run(town, tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDCHAIN_STORE_URL", f"sqlite:///{tmp_path}/empty.db")
    d = Deployment.open(town.config)
    try:
        html = TestClient(dashboard_app.create_app(d)).get("/community").text
        assert "the index holds no events of it yet: run gridchain index run" in html
    finally:
        d.close()


def test_a_slot_a_reorganisation_drops_leaves_the_view(town, deployment):
    """evm_snapshot, a slot closed and indexed and shown, evm_revert: once the indexer has rolled it back the
    view no longer shows it (and nothing raised on the way)."""
    view = community.CommunityView(deployment)
    before = view.state()
    snapshot = rpc(town.gateway.url, "evm_snapshot")
    town.slot(2)
    assert view.state()["closed"] == before["closed"] + 1
    rpc(town.gateway.url, "evm_revert", [snapshot])
    town.reorganised()
    stale = view.state()  # the index still holds the dropped close: read, not raised, and said
    assert stale["note"].startswith("the chain reorganised under the index") and stale["closed"] == before["closed"] + 1
    town.index()  # the indexer rolls the reorganisation back
    after = view.state()
    assert after["closed"] == before["closed"] and after["rows"] == before["rows"]


@pytest.mark.parametrize(
    "carried, expired, words",
    [
        (True, False, "the rest is carried to slot 2"),
        (False, True, "the rest expired"),
        (False, False, "the rest waits"),
    ],
)
def test_a_partial_grant_says_where_the_rest_goes(carried, expired, words):
    """A request granted what was left: its remainder carried to the next slot, expired, or waiting (the slot page
    names the slot it is carried to, as for a request granted nothing)."""
    from gridchain.coordination.model.schedule import Allocation, Status

    why = community._why(Allocation("#1.3", 19, Status.PARTIAL, 428_500, 3), 19_040, expired, carried, 1)
    assert why.startswith("got what was left (0.019 of 19.04 kW); ") and why.endswith(words)
