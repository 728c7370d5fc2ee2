"""`gridchain relayer serve` as a process: banner, a real request, Ctrl-C. (`gridchain utility serve`:
test_cli_utility.py.)"""

import json
import signal

import httpx
import pytest


@pytest.mark.integration
def test_relayer_serve_flushes_only_for_the_admin(tmp_path):
    """The relayer process from gridchain.toml on anvil: /health shows the aligned flusher; POST /flush needs
    the admin token of relayer.admin_token_file (never argv); SIGTERM stops it with exit 0."""
    from gridchain.chain.anvil import start_anvil
    from tests.support.cli_pilot import free_port_pair, gridchain, init_pilot, start

    with start_anvil(hardfork="osaka", accounts=1) as node:
        config = init_pilot(tmp_path / "pilot", 0, free_port_pair(), node.url)
        assert gridchain("deploy", "coordinator", "--config", str(config)).returncode == 0
        admin = (config.parent / "secrets/relayer-admin-token").read_text().strip()
        p = start("relayer", "serve", "--config", str(config), "--json")
        try:
            banner = json.loads(p.stdout.readline())
            assert banner["service"] == "relayer" and banner["flush"] == "admin token" and banner["pid"] == p.pid
            health = httpx.get(banner["url"] + "/health", timeout=10).json()
            assert health["ok"] and health["flusher"]["alive"] and health["flusher"]["aligned"]
            assert health["coordinator"] == banner["coordinator"]
            for headers in ({}, {"Authorization": "Bearer " + admin[:-1] + "x"}, {"Authorization": admin}):
                denied = httpx.post(banner["url"] + "/flush", headers=headers, timeout=10)
                assert denied.status_code == 401 and denied.json()["field"] == "authorization"
            ok = httpx.post(banner["url"] + "/flush", headers={"Authorization": "Bearer " + admin}, timeout=30)
            assert ok.status_code == 200 and ok.json() == {"tickets": []}
            walk = httpx.get(banner["url"] + "/requests/1", timeout=10)
            assert walk.status_code == 404 and walk.json()["field"] == "id"
        finally:
            p.send_signal(signal.SIGTERM)
            assert p.wait(timeout=30) == 0, p.stderr.read()
