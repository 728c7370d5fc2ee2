"""What a hostile visitor sends the dashboard (it is served to households and researchers, maybe beyond
127.0.0.1): markup in a value it echoes comes back as JSON data, never as a page; path and query values
outside their domain are refused naming them; files outside the results folder stay unreachable; and nothing a
visitor sends is stored or changes what another visitor sees."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from gridchain.dashboard.app import create_app
from tests.dashboard.pages import stand_in

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def client(tmp_path):
    (tmp_path / "secret.txt").write_text("not for visitors")
    results = tmp_path / "results"
    results.mkdir()
    return TestClient(create_app(stand_in(results)))


@pytest.mark.parametrize(
    "body",
    [
        {"format": SCRIPT},
        {"format": "gridchain-esu-public/1", "chain_id": 31337, "community": SCRIPT, "requests": []},
        {
            "format": "gridchain-esu-public/1",
            "chain_id": 31337,
            "community": "0x" + "11" * 20,
            "requests": [{"pseudonym": SCRIPT, "arrival": 4294967297}],
        },
        {"format": "gridchain-esu-public/1", SCRIPT: 1},
    ],
)
def test_markup_in_a_posted_view_comes_back_as_json_never_as_a_page(client, body):
    """The refusal names the value, as data: JSON that the browser may not sniff as HTML (the page shows its
    detail with textContent), whatever the visitor asked for."""
    for accept in ("application/json", "text/html"):
        r = client.post("/api/household", content=json.dumps(body), headers={"Accept": accept})
        assert r.status_code == 422 and r.headers["content-type"] == "application/json", r.headers
        assert r.headers["x-content-type-options"] == "nosniff" and SCRIPT in r.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/experiments/%3Cscript%3Ealert(1)%3C%2Fscript%3E.json",
        "/experiments/..%2Fsecret.txt",
        "/experiments/%2E%2E%2Fsecret.txt",
        "/static/..%2F..%2Fsecret.txt",
        "/static/../../secret.txt",
        "/vendor/..%2Fsecret.txt",
    ],
)
def test_paths_outside_what_is_served_are_refused_and_echo_no_markup(client, path):
    r = client.get(path)
    assert r.status_code == 404 and "not for visitors" not in r.text and SCRIPT not in r.text, (path, r.text)


@pytest.mark.parametrize(
    "path, field",
    [
        ("/api/community?after=" + "9" * 40, "after"),
        ("/api/community?after=-5", "after"),
        ("/community/slots/-1", "slot"),
        ("/v2v/auctions/" + "9" * 40, "number"),
        ("/api/v2v/auctions/1?after=x", "after"),
        ("/api/market?since=" + "9" * 40, "since"),
    ],
)
def test_values_outside_their_domain_are_refused_naming_them(client, path, field):
    r = client.get(path)
    assert r.status_code in (404, 422) and field in r.text, (path, r.status_code, r.text)


def test_a_huge_or_endless_body_is_cut_off(client):
    r = client.post("/api/household", content=b"[" * 2_000_001)
    assert r.status_code == 413


def test_every_page_and_api_refuses_writes(client):
    """Read-only: no route takes PUT, PATCH or DELETE, and POST only where a view is explained (nothing kept)."""
    for method in ("PUT", "PATCH", "DELETE"):
        for path in (
            "/community",
            "/api/community",
            "/v2v",
            "/market",
            "/api/market",
            "/metering",
            "/experiments",
            "/api/household",
        ):
            assert client.request(method, path).status_code == 405, (method, path)
    posts = {r.path for r in client.app.routes if "POST" in getattr(r, "methods", ())}
    assert posts <= {"/api/household", "/api/metering/proof"}, posts
