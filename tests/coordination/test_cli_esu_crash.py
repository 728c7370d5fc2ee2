"""`gridchain esu request` SIGKILLed between claiming a request (`sending`, in the wallet's database) and recording
the relayer's answer, then `esu status` resolves it: sent again as it was signed; a relayer that has it already
says its pseudonym is used, and the wallet follows it on chain by its pseudonym. Each request is on chain once.
The crashing commands are processes, the others run in the test, with the relayer and the utility (the relayer
flushed by the test), on anvil with an hour-long slot (the clock moved to a fresh slot if this one ends soon)."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.coordination.model.coordinator import unpack
from gridchain.coordination.parties.wallet import CRASH_AT
from tests.coordination.test_cli_esu import Chain
from tests.support.pilot import init_pilot
from tests.support.processes import free_ports, gridchain_argv, gridchain_env

runner = CliRunner()

SLOT_S = 3600
ADMIN = "the relayer operator's admin token"
REQUEST = ["--demand-kw", "7.4", "--soc-pct", "35", "--slots", "2"]


def crashed_request(c: list[str], point: str) -> None:
    """`esu request` that SIGKILLs itself at `point` (the test hook)."""
    argv = gridchain_argv("esu", "request", "--wallet", "esu01", *REQUEST, *c)
    p = subprocess.run(argv, env=gridchain_env(**{CRASH_AT: point}), capture_output=True, text=True, timeout=120)
    assert p.returncode == -signal.SIGKILL, (p.returncode, p.stdout, p.stderr[-2000:])


def run(*args: str) -> str:
    """A command in this process (only the crashing ones need a process of their own)."""
    r = runner.invoke(app, list(args))
    assert r.exit_code == 0, (r.exit_code, r.output)
    return r.stdout


def status(c: list[str], *extra: str) -> dict[int, dict]:
    return {
        r["request"]: r for r in json.loads(run("esu", "status", "--wallet", "esu01", *extra, *c, "--json"))["requests"]
    }


@pytest.mark.integration
def test_a_request_killed_before_or_after_the_relayer_took_it_is_resolved_by_status(tmp_path):
    from gridchain.chain.anvil import start_anvil
    from gridchain.coordination.anonymous.parties.relayer import Relayer
    from gridchain.coordination.anonymous.service.issuance import issuance_app
    from gridchain.coordination.anonymous.service.relayer import relayer_app
    from gridchain.net.server import LoopbackServer

    with start_anvil(accounts=1) as node:
        base = free_ports()
        config = init_pilot(tmp_path / "pilot", 1, base, node.url, slot_length_s=SLOT_S)
        c = ["--config", str(config)]
        run("deploy", "all", *c, "--json")
        chain = Chain(config)
        relayer = Relayer(chain.client, chain.gateway.accounts[0])
        with LoopbackServer(issuance_app(chain.utility()), base), LoopbackServer(relayer_app(relayer, ADMIN), base + 1):
            if chain.client.slot_end(chain.slot()) - chain.gateway.now() < 300:
                chain.gateway.advance_time(chain.client.slot_end(chain.slot()) - chain.gateway.now())
            slot = chain.slot()
            run("esu", "tokens", "--wallet", "esu01", *c)

            crashed_request(c, "wallet.after_post")  # the relayer queued it; its ticket was never recorded
            [one] = status(c, "--no-retry").values()
            assert one["status"] == "sending" and one["note"].startswith("its send was interrupted"), one
            one = status(c)[1]
            assert one["status"] == "queued" and one["note"].endswith("sent again as it was: queued"), one
            crashed_request(c, "wallet.before_post")  # claimed and signed, never sent
            two = status(c)[2]
            assert two["status"] == "queued" and two["slots_tried"] == [slot], two
            assert {t.request.pseudonym for t in relayer.tickets.values()} == set(_pseudonyms(config))  # once each

            assert [t.status for t in relayer.flush()] == ["submitted", "submitted"]
            after = status(c)
            assert [r["status"] for r in after.values()] == ["confirmed", "confirmed"], after
            assert after[1]["note"] == f"confirmed on chain in slot {slot} (found by its pseudonym)"
            assert after[2]["note"] == f"confirmed on chain in slot {slot}"
            on_chain = [unpack(s.request).arrival for s in chain.client.submissions(slot)]
            assert sorted(on_chain) == sorted([after[1]["arrival"], after[2]["arrival"]])  # each once


def _pseudonyms(config) -> list[str]:
    from gridchain.coordination.parties.wallet_state import WalletState

    return [r.token.address for r in WalletState.open(config.parent / "wallets" / "esu01").requests]
