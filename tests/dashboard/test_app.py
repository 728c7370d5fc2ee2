"""The dashboard's app around its pages: every response forbids other origins, the page never shows the node's
URL beyond its host (a provider's URL carries its API key), and /health says 503 when the node does not answer."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient

from gridchain.dashboard.app import create_app
from tests.dashboard.pages import stand_in


def client(tmp_path, rpc_url: str = "http://127.0.0.1:1") -> TestClient:
    deployment = dataclasses.replace(stand_in(tmp_path), rpc_url=rpc_url)
    return TestClient(create_app(deployment))


def test_every_response_forbids_other_origins(tmp_path):
    c = client(tmp_path)
    for path in ("/experiments", "/static/dashboard.css", "/vendor/plotly.min.js"):
        r = c.get(path)
        assert r.status_code == 200, path
        assert (
            "default-src 'self'" in r.headers["content-security-policy"]
            and "script-src 'self'" in r.headers["content-security-policy"]
        )
        assert r.headers["x-content-type-options"] == "nosniff"
    assert len(c.get("/vendor/plotly.min.js").content) > 1_000_000  # plotly.js itself, from the plotly wheel


def test_the_nodes_url_is_shown_without_its_path_or_query(tmp_path):
    html = client(tmp_path, "https://user:pw@eth.example.net:8443/v3/SECRETKEY?token=x").get("/experiments").text
    assert "Chain 31337 at https://eth.example.net:8443 " in html
    assert "SECRETKEY" not in html and "token" not in html and "pw@" not in html


def test_health_is_503_when_the_node_does_not_answer(tmp_path):
    r = client(tmp_path).get("/health")  # the stand-in has no gateway: nothing answers
    assert r.status_code == 503 and r.json()["ok"] is False and r.json()["error"].startswith("network.rpc_url: ")
