"""`gridchain relayer serve` as a process: banner, a real request, Ctrl-C. (`gridchain utility serve`:
test_cli_utility.py.)"""

import httpx
import pytest


@pytest.mark.integration
def test_relayer_serve_flushes_only_for_the_admin(tmp_path):
    """The relayer process from gridchain.toml on anvil: /health shows the aligned flusher; POST /flush needs
    the admin token of relayer.admin_token_file (never argv); SIGTERM stops it with exit 0."""
    from gridchain.chain.anvil import start_anvil
    from tests.support.pilot import init_pilot
    from tests.support.processes import free_ports, gridchain, read_banner, start, stop

    with start_anvil(hardfork="osaka", accounts=1) as node:
        config = init_pilot(tmp_path / "pilot", 0, free_ports(), node.url)
        assert gridchain("deploy", "coordinator", "--config", str(config)).returncode == 0
        admin = (config.parent / "secrets/relayer-admin-token").read_text().strip()
        p = start("relayer", "serve", "--config", str(config), "--json")
        try:
            banner = read_banner(p)
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
            stop(p)
