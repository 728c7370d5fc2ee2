"""The ESU wallet's database: its revisions build its tables (it is the household's, not in `gridchain store`), a
token is never handed out twice to threads or processes taking at once (one SIGKILLed and restarted), a write
never overwrites what another command decided meanwhile, a send in progress is told from a crashed one, and a
file-based wallet (wallet.json) is imported once."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading

import pytest

from gridchain.cli import SCHEMAS
from gridchain.coordination.parties.wallet_import import import_json
from gridchain.coordination.parties.wallet_state import (
    KeptRequest,
    Token,
    WalletState,
    claim_is_live,
    claimant,
)
from gridchain.coordination.parties.wallet_tables import SCHEMA
from gridchain.errors import InputError
from gridchain.store.migrate import drift, head, revision
from tests.support.processes import gridchain_env

COMMUNITY = "0x" + "c0" * 20
EPOCH = 20_000


def tokens(n: int, epoch: int = EPOCH) -> list[Token]:
    numbers = range((epoch - EPOCH) * 1000 + 1, (epoch - EPOCH) * 1000 + n + 1)
    return [Token(COMMUNITY, epoch, f"0x{i:064x}", f"0x{i:040x}", hex(2**2047 + i)) for i in numbers]


@pytest.fixture
def state(store):
    store.migrate(SCHEMA)
    return WalletState(store)


def test_revisions_build_the_tables_in_code_and_the_deployment_store_does_not_list_them(store):
    store.migrate(SCHEMA)
    assert revision(store, SCHEMA) == head(SCHEMA) == "0001"
    assert drift(store, SCHEMA) == []
    assert SCHEMA.name not in {s.name for s in SCHEMAS}  # the household's database, not the deployment's


def test_threads_taking_at_once_never_get_one_token_twice(state):
    state.add_obtained(COMMUNITY, EPOCH, tokens(24))
    state.add_obtained(COMMUNITY, EPOCH + 1, tokens(2, EPOCH + 1))  # another epoch's: not taken below
    got: list[KeptRequest] = []

    def take_all() -> None:
        mine = WalletState(state.store)  # a command of its own over the same database
        while (kept := mine.take(COMMUNITY, EPOCH, 7_400, 350, 2, 5, lambda t: json.dumps(t.address))) is not None:
            got.append(kept)

    threads = [threading.Thread(target=take_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    addresses = [k.token.address for k in got]
    assert sorted(addresses) == sorted(t.address for t in tokens(24))  # each token once, none lost
    kept = state.requests
    assert [k.number for k in kept] == list(range(1, 25))
    assert {k.token.address for k in kept} == set(addresses)
    assert all(k.status == "sending" and k.body == json.dumps(k.token.address) for k in kept)
    assert state.unused(COMMUNITY, EPOCH) == [] and state.count_obtained(COMMUNITY, EPOCH) == 24
    assert state.take(COMMUNITY, EPOCH, 7_400, 350, 2, 5) is None
    assert len(state.unused(COMMUNITY, EPOCH + 1)) == 2


TAKER = """
import sys, time
from pathlib import Path
from gridchain.coordination.parties.wallet_state import WalletState
state = WalletState.open(Path(sys.argv[1]))
while (kept := state.take(sys.argv[2], int(sys.argv[3]), 1000, 100, 1, 0, lambda t: "{}")) is not None:
    print(kept.number, kept.token.address, flush=True)  # after the commit: acknowledged
    time.sleep(float(sys.argv[4]))
"""


def test_two_processes_taking_at_once_one_killed_and_restarted_lose_nothing(tmp_path):
    folder = tmp_path / "esu01"
    first = WalletState.open(folder)
    first.add_obtained(COMMUNITY, EPOCH, tokens(60))
    first.close()

    def taker(pause_s: float) -> subprocess.Popen:
        argv = [sys.executable, "-c", TAKER, str(folder), COMMUNITY, str(EPOCH), str(pause_s)]
        return subprocess.Popen(argv, env=gridchain_env(), stdout=subprocess.PIPE, text=True)

    a, b = taker(0.02), taker(0.01)
    seen = [a.stdout.readline() for _ in range(5)]  # a is mid-way: kill it between two takes (or inside one)
    os.kill(a.pid, signal.SIGKILL)
    seen += a.communicate()[0].splitlines(keepends=True)
    assert a.returncode == -signal.SIGKILL
    again = taker(0)  # the restarted command takes what is left, with b
    for p in (b, again):
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        seen += out.splitlines(keepends=True)
    acknowledged = dict(line.split() for line in seen if line.strip())
    assert len(acknowledged) == len([line for line in seen if line.strip()])  # no number given twice
    state = WalletState.open(folder)
    kept = {str(k.number): k.token.address for k in state.requests}
    assert kept == acknowledged  # every acknowledged take is kept, nothing else
    assert sorted(kept.values()) == sorted(t.address for t in tokens(60))  # every token spent once, none lost
    assert state.unused(COMMUNITY, EPOCH) == []


def test_a_write_never_overwrites_what_another_command_decided(state):
    state.add_obtained(COMMUNITY, EPOCH, tokens(1))
    mine = state.take(COMMUNITY, EPOCH, 7_400, 350, 2, 5)
    other = WalletState(state.store).request(mine.number)  # another command read it too
    other.status, other.ticket = "queued", "ticket-1"
    assert WalletState(state.store).record(other)
    mine.status, mine.reason = "failed", "stale decision"
    assert not state.record(mine)  # refused, and reloaded as it is now
    assert (mine.status, mine.ticket, mine.reason) == ("queued", "ticket-1", None)
    assert state.request(mine.number) is mine  # one object per request: a holder sees what later reads found
    assert state.claim(mine, "{}", 6) and (mine.status, mine.slots_tried) == ("sending", [5, 6])
    other.reason = "decided on what it read before the claim"
    assert not WalletState(state.store).record(other) and other.status == "sending"  # the claim holds


def test_a_send_in_progress_is_told_from_a_crashed_one(state):
    state.add_obtained(COMMUNITY, EPOCH, tokens(1))
    kept = state.take(COMMUNITY, EPOCH, 7_400, 350, 2, 5, lambda t: "{}")
    assert kept.claimed_by == claimant() and not claim_is_live(kept)  # this thread's own: an interrupted send
    host, pid, thread, nonce = kept.claimed_by.split("/")
    other_thread = KeptRequest(**{**vars(kept), "claimed_by": f"{host}/{pid}/{int(thread) + 1}/{nonce}"})
    assert claim_is_live(other_thread)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    crashed = KeptRequest(**{**vars(kept), "claimed_by": f"{host}/{dead.stdout.strip()}/1/x"})
    assert not claim_is_live(crashed)
    running = KeptRequest(**{**vars(kept), "claimed_by": f"{host}/{os.getppid()}/1/x"})
    assert claim_is_live(running)
    assert not claim_is_live(running, now_ms=kept.claimed_ms + 121_000)  # past the lease: a hung sender


def legacy(folder) -> dict:
    """A wallet.json as the file-based wallet wrote it: two tokens, a confirmed request, one signed but not sent
    (a crash before its ticket was saved), tokens obtained in two epochs."""
    t = [vars(x) for x in tokens(4)]
    request = {"token": t[2], "demand_w": 7_400, "soc_pm": 350, "tcc": 2, "slot": 5, "ticket": None}
    data = {
        "version": 1,
        "tokens": t[:2],
        "requests": [
            {**request, "number": 1, "status": "confirmed", "arrival": (5 << 32) | 1, "slots_tried": [5]},
            {**request, "token": t[3], "number": 2, "status": "new", "arrival": None, "slots_tried": [6]},
        ],
        "obtained": {f"{COMMUNITY}/{EPOCH}": 4, f"{COMMUNITY}/{EPOCH + 1}": 0},
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "wallet.json").write_text(json.dumps(data))
    return data


def test_a_file_wallet_is_imported_once_and_renamed(tmp_path):
    folder = tmp_path / "esu01"
    data = legacy(folder)
    state = WalletState.open(folder)
    assert not (folder / "wallet.json").exists() and (folder / "wallet.json.imported").exists()
    modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in folder.glob("wallet.db*")}
    assert modes == {"wallet.db": 0o600, "wallet.db-wal": 0o600, "wallet.db-shm": 0o600}  # it holds keys
    assert [vars(x) for x in state.unused(COMMUNITY, EPOCH)] == data["tokens"]
    first, second = state.requests
    assert (first.number, first.status, first.arrival, first.token.address) == (1, "confirmed", (5 << 32) | 1, t3())
    assert (second.number, second.status, second.slots_tried) == (2, "new", [6])
    assert state.count_obtained(COMMUNITY, EPOCH) == 4
    # a crash after the import's commit, before the rename: the file is back, and is not imported twice
    (folder / "wallet.json.imported").rename(folder / "wallet.json")
    assert not import_json(state.store, folder, "--wallet")
    assert len(WalletState.open(folder).requests) == 2 and not (folder / "wallet.json").exists()


def t3() -> str:
    return tokens(4)[2].address


def test_a_file_that_is_not_a_wallet_is_named_and_nothing_is_imported(tmp_path):
    folder = tmp_path / "esu01"
    data = legacy(folder)
    del data["requests"][1]["token"]
    (folder / "wallet.json").write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"^--wallet: '.*wallet.json' is not a wallet state"):
        WalletState.open(folder)
    assert (folder / "wallet.json").exists()
    (folder / "wallet.json").unlink()
    assert WalletState.open(folder).requests == []


def test_a_wallet_database_that_is_not_one_is_named(tmp_path):
    (tmp_path / "esu01").mkdir()
    (tmp_path / "esu01" / "wallet.db").write_text("not a database " * 100)
    with pytest.raises(InputError, match=r"^--wallet: cannot open the database sqlite:///.*: file is not a database"):
        WalletState.open(tmp_path / "esu01")
