"""The month with breaches on the embedded chain, its threads and batches in a SQLite store, the in-memory
monitor's alerts copied into the store as a monitor service would keep them (reported on chain, or notified)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.crypto.keys import address_of
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.scenarios import MonthConfig, MonthResult, _key, run_month
from gridchain.monitoring.store import AccessStore
from gridchain.store.engine import open_store

CONFIG = MonthConfig(breaches=True)


@dataclass
class Month:
    gateway: BoaGateway
    result: MonthResult
    store: AccessStore
    consent: ConsentClient
    log: AccessLogClient
    households: list[str]  # checksummed, in the scenario's order
    grantees: dict[str, str]  # name -> address


@pytest.fixture(scope="package")
def month(tmp_path_factory) -> Month:
    url = f"sqlite:///{tmp_path_factory.mktemp('view') / 'monitoring.db'}"
    store = AccessStore.open(open_store(url))
    gateway = BoaGateway(accounts=3)
    result = run_month(gateway, CONFIG, store=store)
    for _, a in result.alerts:  # as a monitor service keeps them: on chain reported, the rest notified
        state = "reported" if a.on_chain else "notified"
        at = a.record.time + 3600 if a.record else gateway.now()  # a round after the record's batch
        store.store.atomic(
            lambda c, a=a, state=state, at=at: store.add_alert(
                c, f"{a.kind}:{a.household}:{a.seq}", a.kind, a.household, state, at,
                seq=a.seq, detail=a.detail, record=a.record, batch=a.batch, position=a.position,
            )
        )  # fmt: skip
    households = [address_of(_key(CONFIG.seed, f"household {i}")) for i in range(CONFIG.households)]
    grantees = {name: address_of(_key(CONFIG.seed, name)) for name in ("utility", "researcher", "aggregator", "broker")}
    consent = ConsentClient(gateway, result.contracts["data_access"])
    log = AccessLogClient(gateway, result.contracts["access_log"])
    yield Month(gateway, result, store, consent, log, households, grantees)
    store.store.close()
