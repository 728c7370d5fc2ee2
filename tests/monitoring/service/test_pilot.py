"""`gridchain monitor` on a pilot (anvil, the access log and consent contract deployed by `gridchain deploy`,
the processing node's threads and batches in the pilot's store): --once --json reports the breach from the
[monitoring] monitor account, once; the daemon prints its banner and a line per round, refuses a second copy on
the store, and stops on SIGTERM (exit 0)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from tests.monitoring.service.world import NODES, World
from tests.support.pilot import write_pilot
from tests.support.processes import Processes, json_lines, wait_until

runner = CliRunner()


@pytest.mark.integration
def test_monitor_on_a_pilot(tmp_path):
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.monitoring.cli.chain import open_monitoring, read_config
    from gridchain.monitoring.consent_client import ConsentClient
    from gridchain.monitoring.log_client import AccessLogClient

    nodes = ", ".join(f'"{n}"' for n in NODES)
    extra = f'\n[monitoring]\nnodes = [{nodes}]\nm = 2\nmonitor = "owner"\ngrace_s = 0\npoll_s = 0.2\n'
    with start_anvil() as node:
        path = write_pilot(tmp_path, node.url, accounts={"owner": None}, extra=extra)
        for target in ("access_log", "data_access"):
            r = runner.invoke(app, ["deploy", target, "--config", str(path)])
            assert r.exit_code == 0, r.output
        d = open_monitoring(read_config(path), ["owner"])
        gw = RpcGateway(node.url, node.keys)
        w = World(d.store, gw, (AccessLogClient(gw, d.log.address), ConsentClient(gw, d.consent.address)))
        w.honest(), w.breach()
        w.attest()
        owner = d.address("owner")
        d.store.store.close()

        r = runner.invoke(app, ["monitor", "--once", "--json", "--config", str(path)])
        assert r.exit_code == 0, r.output
        (line,) = r.stdout.splitlines()
        out = json.loads(line)
        assert out["alerts"] == {"reported": 1} and out["new_roots"] == 1 and out["lag"] == 0
        (event,) = w.consent.events("Breach")
        assert gw.w3.eth.get_transaction(event.tx_hash)["from"].lower() == owner.lower()  # the monitor account

        p = Processes(path)
        try:
            banner = p.start("monitor", "monitor")
            assert banner["service"] == "monitor" and banner["monitor"].lower() == owner.lower()
            bad = p.bad("monitor", "--once")
            assert bad.startswith("error: store.url: another monitor (pid ")
            seen: list[dict] = []
            rounds = wait_until(lambda: _rounds(p.daemons["monitor"], seen), 60, "two rounds of the daemon")
            out, _ = p.stop("monitor")
            lines = json_lines(out)
            assert lines[-1] == {"event": "stopped"} and all(x["alerts"] == {} for x in rounds)
        finally:
            p.kill_all()
        assert len(w.consent.events("Breach")) == 1


def _rounds(daemon, seen: list[dict]) -> list[dict] | None:
    """Two round lines of the running daemon (its next line read into `seen`), or None yet."""
    seen.append(json.loads(daemon.stdout.readline()))
    rounds = [x for x in seen if x.get("event") == "round"]
    return rounds if len(rounds) >= 2 else None
