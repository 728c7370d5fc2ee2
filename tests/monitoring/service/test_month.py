"""The service over a month on the embedded chain (the month writes its threads and batches to the store and
leaves the judging to the service): every injected breach alerted (kind, household, seq) and nothing else, the
on-chain kinds reported with the contract's reason; an honest month never alerted."""

from __future__ import annotations

import pytest

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.model.audit import NOTIFIED
from gridchain.monitoring.model.consent import REASONS
from gridchain.monitoring.scenarios import BREACHES, MonthConfig, run_month
from gridchain.monitoring.service import MonitorService
from gridchain.monitoring.store import AccessStore
from gridchain.store.engine import open_store


def _month(tmp_path_factory, breaches: bool):
    """A month as short as its breaches allow (the last on day 25), or half a month honest (a revocation, two
    weekly reads by the researcher)."""
    path = tmp_path_factory.mktemp("month") / "gridchain.db"
    store = AccessStore.open(open_store(f"sqlite:///{path}"))
    gw = BoaGateway(accounts=3)
    result = run_month(gw, MonthConfig(days=26 if breaches else 15, breaches=breaches), store=store, monitor=False)
    consent = ConsentClient(gw, result.contracts["data_access"])
    log = AccessLogClient(gw, result.contracts["access_log"])
    service = MonitorService(consent, log, store, gw.accounts[2], gw.now)
    rounds = [service.round(), service.round(), MonitorService(consent, log, store, gw.accounts[2], gw.now).round()]
    yield result, store, consent, rounds
    store.store.close()


# one test per month: under xdist each month is run by one worker only


@pytest.fixture
def rogue(tmp_path_factory):
    yield from _month(tmp_path_factory, True)


@pytest.fixture
def honest(tmp_path_factory):
    yield from _month(tmp_path_factory, False)


def test_every_injected_breach_is_alerted_and_nothing_else(rogue):
    result, store, consent, rounds = rogue
    assert result.alerts == []  # the month judged nothing itself
    alerts = store.alerts()
    found = sorted((a.kind, a.household, a.seq) for a in alerts)
    injected = sorted((b.kind, household, seq) for b, household, seq in result.injected)
    assert found == injected and len(injected) == len(BREACHES)  # false negatives 0, false positives 0
    assert rounds[0]["new_roots"] == result.batches and rounds[0]["roots"] == result.batches
    assert sum(rounds[0]["alerts"].values()) == len(BREACHES)
    assert [r["alerts"] for r in rounds[1:]] == [{}, {}]
    # the on-chain kinds are reported with the contract's reason, each once; the rest notified
    on_chain = [a for a in alerts if a.kind not in NOTIFIED]
    assert len(on_chain) == 6 and all(a.state == "reported" for a in on_chain)
    assert all(REASONS[a.reason] == a.kind and a.gas > 0 and a.tx_hash for a in on_chain)
    events = {bytes(e.args["record"]): e for e in consent.events("Breach")}
    assert len(events) == 6 == len(consent.events("Breach"))
    assert all(events[a.record.leaf()].tx_hash == a.tx_hash for a in on_chain)
    notices = [a for a in alerts if a.kind in NOTIFIED]
    assert [(a.kind, a.state) for a in notices] == [("unattested record", "notified")] * 2


def test_an_honest_month_has_no_alert(honest):
    result, store, consent, rounds = honest
    assert store.alerts() == [] and consent.events("Breach") == []
    assert rounds[0]["new_roots"] == result.batches == 14 and rounds[0]["lag"] == 0
    assert all(r["alerts"] == {} for r in rounds)
