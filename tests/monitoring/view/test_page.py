"""The dashboard's Data access page served in-process (FastAPI's test client) on the month: the consent contract's
and the access log's events indexed into the month's store, a deployment record naming both (as `gridchain
deploy` writes it). What the page and its JSON show is the view's rows read from the node (the index gives the
same), the alerts and the unattested accesses highlighted; without the monitoring tables the page shows the
chain's part and says so; without a deployment it says what to deploy."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from gridchain.chain.locked import LockedGateway
from gridchain.config.file import Config
from gridchain.config.record import DeploymentRecord, code_hash
from gridchain.dashboard.app import create_app
from gridchain.dashboard.deployment import Deployment
from gridchain.dashboard.settings import DashboardSettings
from gridchain.index.indexer import Indexer, Target, abi_events
from gridchain.index.reader import IndexReader
from gridchain.index.tables import SCHEMA
from gridchain.monitoring import view
from gridchain.store.engine import open_store
from tests.dashboard.pages import Tables
from tests.index.harness import catch_up


def index(month, store) -> None:
    store.migrate(SCHEMA)
    targets = [
        Target(name, c.address, c.artifact, abi_events(c.artifact), 0)
        for name, c in (("data_access", month.consent), ("access_log", month.log))
    ]
    catch_up(Indexer(store, month.gateway, targets))


def deployment(month, folder, store, contracts=("data_access", "access_log")) -> Deployment:
    gateway = LockedGateway(month.gateway)
    by_name = {"data_access": month.consent.address, "access_log": month.log.address}
    record = {
        name: {
            "contract": name,
            "address": by_name[name],
            "block": 0,
            "code_hash": code_hash(gateway.code(by_name[name])),
        }
        for name in contracts
    }
    data = {"chain_id": 31337, "contracts": record}
    settings = DashboardSettings(("127.0.0.1", 0), 2.0, folder / "results")
    return Deployment(
        Config(folder / "gridchain.toml", {}),
        settings,
        gateway,
        31337,
        "http://127.0.0.1:1",
        DeploymentRecord(folder / "deployment.json", data),
        store,
        IndexReader(store),
    )


@pytest.fixture(scope="module")
def client(month, tmp_path_factory):
    store = month.store.store
    index(month, store)
    return TestClient(create_app(deployment(month, tmp_path_factory.mktemp("dash"), store)))


def test_the_list_is_every_household_a_grant_names(client, month):
    r = client.get("/data")
    assert r.status_code == 200, r.text
    t = Tables(r.text)
    assert sorted(t.row_names("households")) == sorted(month.households)
    breaches = [e.args["household"].lower() for e in month.consent.events("Breach")]
    for row in t.tables["households"]["rows"]:
        assert row[1][1] == 3 and row[2][1] == breaches.count(row[0][0].lower())


@pytest.mark.parametrize("i", range(4))
def test_a_households_page_is_its_view(client, month, i):
    h = month.households[i]
    api = client.get(f"/api/data/{h.lower()}").json()
    assert api["household"] == h and api["store"] is True
    assert api["grants"] == view.grants(month.consent, h)  # from the index = from the node
    accesses = view.accesses(month.store, h, view.attested_roots(month.log))
    assert [{k: v for k, v in a.items() if k != "alerted"} for a in api["accesses"]] == accesses
    assert api["alerts"] == view.alerts(month.store, h, month.consent)
    html = client.get(f"/data/{h}").text
    t = Tables(html)
    assert len(t.tables["grants"]["rows"]) == 3 and len(t.tables["accesses"]["rows"]) == len(accesses)
    assert len(t.tables["alerts"]["rows"]) == len(api["alerts"]) >= 1
    unattested = [a for a in accesses if not a["attested"]]
    assert html.count('<tr class="alerted" data-leaf=') == len(api["alerts"])
    highlighted = {
        int(seq) for seq in re.findall(r'<tr data-seq="(\d+)" data-leaf="0x[0-9a-f]+" class="alerted">', html)
    }
    assert highlighted == {a["seq"] for a in api["accesses"] if a["alerted"] or not a["attested"]}
    alerted = {a["leaf"] for a in api["alerts"]}
    assert {a["seq"] for a in api["accesses"] if a["alerted"]} == {a["seq"] for a in accesses if a["leaf"] in alerted}
    assert 'role="alert"' in html and ("✗ in no attested batch" in html) == bool(unattested)
    assert f'data-field="unattested" class="bad">{len(unattested)}<' in html or not unattested


def test_the_form_leads_to_a_households_page_and_bad_addresses_are_refused(client, month):
    h = month.households[2]
    r = client.get("/data", params={"household": " " + h.lower() + " "}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/data/{h}"
    for bad in ("0x12", "nobody", "0x" + "g" * 40):
        assert client.get(f"/data/{bad}").status_code == 422
        assert client.get(f"/api/data/{bad}").status_code == 422
        assert client.get("/data", params={"household": bad}).status_code == 422


def test_a_household_with_nothing_is_told_so(client, month):
    html = client.get(f"/data/{month.grantees['broker']}").text
    for sentence in ("The chain holds no grant", "No processing node has recorded", "No alert: neither"):
        assert sentence in html


def test_without_the_monitors_tables_the_chains_part_is_shown(month, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'index-only.db'}")
    try:
        index(month, store)
        c = TestClient(create_app(deployment(month, tmp_path, store)))
        h = month.households[0]
        api = c.get(f"/api/data/{h}").json()
        assert api["store"] is False and api["accesses"] == [] and len(api["grants"]) == 3
        assert api["alerts"] == view.alerts(None, h, month.consent) != []
        assert "holds no processing node" in c.get(f"/data/{h}").text
    finally:
        store.close()


def test_without_a_deployment_the_page_says_what_to_deploy(month, tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        c = TestClient(create_app(deployment(month, tmp_path, store, contracts=())))
        assert "no consent contract deployed (gridchain deploy data_access)" in c.get("/data").text
        assert c.get(f"/api/data/{month.households[0]}").status_code == 404
        c = TestClient(create_app(deployment(month, tmp_path, store)))
        assert "the index holds no events of the consent contract" in c.get("/data").text
    finally:
        store.close()


def test_markup_in_an_address_comes_back_as_json_and_nothing_is_written(client):
    for path in ("/data/<script>alert(1)</script>", "/api/data/<script>", "/data?household=<b>x</b>"):
        r = client.get(path)
        assert r.status_code in (404, 422) and r.headers["content-type"].startswith("application/json"), path
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in ("/data", "/data/0x" + "11" * 20, "/api/data/0x" + "11" * 20):
            assert client.request(method, path).status_code == 405, (method, path)
