"""The service survives crashes (on SQLite and PostgreSQL): an alert stored `reporting` whose report was sent is
found on chain and never sent again; one whose report was never sent is sent once; later rounds and restarted
services add nothing; a record reported by someone else is taken from the chain; a refusal is stored."""

from __future__ import annotations

import pytest

from gridchain.chain.gateway import ChainRevert
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.model.consent import REASONS
from gridchain.monitoring.parties import report_alert
from gridchain.monitoring.service import LogGap, alert_key
from gridchain.monitoring.store import AccessStore
from tests.monitoring.service.world import World


class Killed(BaseException):
    """The process dies here (BaseException: no `except Exception` of the service catches it)."""


class Crashing(ConsentClient):
    """The consent client of a service killed just before (`when="before"`) or just after a report is sent."""

    def __init__(self, inner: ConsentClient, when: str) -> None:
        super().__init__(inner.gateway, inner.address, inner.artifact)
        self.when = when
        self.sent = 0

    def report(self, *args):
        if self.when == "before":
            raise Killed
        receipt = super().report(*args)
        self.sent += 1
        if self.when == "after":
            raise Killed
        return receipt


class Refusing(ConsentClient):
    def __init__(self, inner: ConsentClient) -> None:
        super().__init__(inner.gateway, inner.address, inner.artifact)

    def report(self, *args):
        raise ChainRevert("data_access: no breach")


@pytest.fixture
def w(store):
    w = World(AccessStore.open(store))
    w.honest()
    w.breach()
    w.honest()
    w.attest()
    return w


def _states(w: World) -> list[tuple[str, str, int | None]]:
    return [(a.kind, a.state, a.reason) for a in w.store.alerts()]


@pytest.mark.parametrize("when", ["after", "before"])
def test_a_crash_around_a_report_neither_loses_nor_repeats_it(w, when):
    with pytest.raises(Killed):
        w.service(Crashing(w.consent, when)).round()
    assert _states(w) == [("another purpose", "reporting", None)]
    assert len(w.breaches()) == (1 if when == "after" else 0)
    summary = w.service().round()  # the restarted service
    assert len(w.breaches()) == 1
    (event,) = w.breaches()
    assert summary["settled"] == ({"reported": 1} if when == "after" else {"sent again: reported": 1})
    assert summary["alerts"] == {} and summary["new_alerts"] == []
    (row,) = w.store.alerts()
    assert (row.kind, row.state, REASONS[row.reason]) == ("another purpose", "reported", "another purpose")
    assert row.tx_hash == event.tx_hash and row.record.leaf() == bytes(event.args["record"])
    assert w.service().round()["settled"] == {} and len(w.store.alerts()) == 1 and len(w.breaches()) == 1


def test_rounds_and_restarts_add_no_alert_and_no_report(w):
    s = w.service()
    first = s.round()
    assert first["alerts"] == {"reported": 1} and first["new_roots"] == 1 and first["roots"] == 1
    for service in (s, w.service(), w.service()):
        out = service.round()
        assert (out["alerts"], out["new_roots"], out["settled"]) == ({}, 0, {})
    assert len(w.store.alerts()) == 1 and len(w.breaches()) == 1
    w.breach()  # a new breach in a new batch: one more, once
    w.attest()
    assert w.service().round()["alerts"] == {"reported": 1}
    assert w.service().round()["alerts"] == {}
    assert [a.state for a in w.store.alerts()] == ["reported", "reported"] and len(w.breaches()) == 2


def test_a_record_someone_else_reported_is_taken_from_the_chain(w):
    from gridchain.monitoring.model.audit import audit

    roots = [bytes(e.args["root"]) for e in w.log.events("Attested")]
    batch = w.attestor.published[0]
    terms = w.consent.grants()
    (alert,) = audit(w.consent.mirror(), terms, [(batch, roots[0])])
    theirs = report_alert(w.consent, w.relayer, alert, roots, batch, terms)  # another monitor was quicker
    assert w.service().round()["alerts"] == {"reported": 1}
    (row,) = w.store.alerts()
    assert row.tx_hash == theirs.tx_hash and len(w.breaches()) == 1
    assert row.key == alert_key(alert)


def test_a_report_the_contract_refuses_is_stored_unreportable_with_the_reason(w):
    assert w.service(Refusing(w.consent)).round()["alerts"] == {"unreportable": 1}
    (row,) = w.store.alerts()
    assert row.state == "unreportable" and "not reportable: data_access: no breach" in row.detail
    assert w.service().round()["alerts"] == {} and w.breaches() == []


def test_roots_that_do_not_continue_the_stored_ones_stop_the_round(w):
    w.service().round()
    w.store.put_roots([], -1)  # a cursor moved back: batch 0 read again
    with pytest.raises(LogGap, match=r"\[0\] do not continue 1 stored roots"):
        w.service().round()


def test_a_batch_too_far_behind_the_head_is_unreportable_without_a_transaction(w):
    from gridchain.monitoring.model.audit import audit
    from gridchain.monitoring.parties import MAX_LATER, Unreportable

    root = bytes(w.log.events("Attested")[0].args["root"])
    batch = w.attestor.published[0]
    (alert,) = audit(w.consent.mirror(), w.consent.grants(), [(batch, root)])
    roots = [root] + [b"\x01" * 32] * (MAX_LATER + 1)
    with pytest.raises(Unreportable, match=f"{MAX_LATER + 1} batches behind the head"):
        report_alert(w.consent, w.watcher, alert, roots, batch, w.consent.grants())
    assert w.breaches() == []


def test_with_confirmations_a_report_chains_up_to_the_head_the_log_holds(w):
    """Batch 0 is deep enough, batch 1 (just attested) is not: the report still names the roots up to the head."""
    w.honest()
    w.attest()  # batch 1, one block after batch 0
    s = w.service(confirmations=1, grace_s=3600)  # (batch 1's record waits for its root to be deep enough)
    out = s.round()
    assert out["roots"] == 1 and out["alerts"] == {"reported": 1} and out["lag"] == 0
    assert len(w.breaches()) == 1
    assert s.round()["roots"] == 2 and len(w.store.alerts()) == 1
