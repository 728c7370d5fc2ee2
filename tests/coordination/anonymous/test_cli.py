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


def _relayed_pseudonyms(client) -> list[str]:
    """The pseudonym of every request in every anonymous batch on chain (from the transactions' calldata)."""
    out = []
    for event in client.gateway.events(client.artifact, client.address, "RequestBatchSubmitted", 0):
        _, inputs = client.gateway.transaction_input(client.artifact, event.tx_hash)
        out += [r[0].lower() for r in inputs["requests"]]
    return out


@pytest.mark.integration
def test_relayer_killed_before_the_flush_loses_no_acknowledged_request(tmp_path):
    """`relayer serve` on a pilot: ESU requests acknowledged (202), SIGKILL before the flush, restart: every
    ticket is readable by its id, and the flush puts each request on chain exactly once; SIGTERM: exit 0."""
    from eth_account import Account

    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.config.accounts import account_key
    from gridchain.config.file import load_config
    from gridchain.config.record import load_record
    from gridchain.coordination.anonymous.client import sign_request
    from gridchain.coordination.client import CoordinatorClient
    from gridchain.crypto import blind
    from tests.support.pilot import init_pilot
    from tests.support.processes import free_ports, gridchain, kill, read_banner, start, stop

    with start_anvil(hardfork="osaka", accounts=1) as node:
        config = init_pilot(tmp_path / "pilot", 0, free_ports(), node.url, slot_length_s=3600)
        assert gridchain("deploy", "coordinator", "--config", str(config)).returncode == 0
        admin = {"Authorization": "Bearer " + (config.parent / "secrets/relayer-admin-token").read_text().strip()}
        cfg = load_config(config)
        owner_key = account_key(cfg, "owner", 31337)
        gateway = RpcGateway(node.url, [owner_key])
        client = CoordinatorClient(gateway, load_record(cfg, 31337).entry("coordinator")["address"])
        key, epoch = blind.PrivateKey.generate(), blind.epoch_of(gateway.now())
        client.register_epoch_key(gateway.accounts[0], epoch, key.public.modulus_bytes)
        slot, chain_id = int(client.view("current_slot")), client.chain_id()

        def request() -> dict:
            a = Account.create()
            token = pow(blind.fdh(blind.token_seed(chain_id, client.address, epoch, a.address)), key.d, key.public.n)
            return sign_request(a.key, chain_id, client.address, epoch, slot, 5_000, 300, 3, token).to_json()

        def relayer():
            p = start("relayer", "serve", "--config", str(config), "--json")
            return p, read_banner(p)

        p, banner = relayer()
        try:
            sent = [request() for _ in range(3)]
            ids = []
            for body in sent:
                answer = httpx.post(banner["url"] + "/requests", json=body, timeout=30)
                assert answer.status_code == 202, answer.text
                ids.append(answer.json()["id"])
            kill(p)  # SIGKILL before any flush (the slot ends in an hour)
            p, banner = relayer()
            assert banner["restored"] == 3
            statuses = [httpx.get(f"{banner['url']}/requests/{i}", timeout=10).json()["status"] for i in ids]
            assert statuses == ["queued"] * 3
            flushed = httpx.post(banner["url"] + "/flush", headers=admin, timeout=60).json()["tickets"]
            assert sorted(t["id"] for t in flushed) == sorted(ids) and {t["status"] for t in flushed} == {"submitted"}
            tickets = [httpx.get(f"{banner['url']}/requests/{i}", timeout=10).json() for i in ids]
            assert {t["status"] for t in tickets} == {"submitted"} and len({t["arrival"] for t in tickets}) == 3
            on_chain = _relayed_pseudonyms(client)
            assert sorted(on_chain) == sorted(b["pseudonym"].lower() for b in sent)  # each exactly once
            health = httpx.get(banner["url"] + "/health", timeout=10).json()
            assert health["ok"] and health["node"]["reachable"] and health["queue"]["depth"] == 0
        finally:
            stop(p)
