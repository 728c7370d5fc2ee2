"""`gridchain esu init|tokens|request|status|allocations|export`: an ESU's wallet on disk, driven from gridchain.toml.

The wallet's logic is the party `coordination.parties.wallet`; this module reads the config, opens the wallet
and prints. Keys never come from argv: the identity key is the wallet's keystore (the password from [keys]).
"""

from __future__ import annotations

import json
import textwrap
import time
from dataclasses import asdict
from pathlib import Path

import typer

from gridchain.checks import check_seconds_within
from gridchain.coordination.cli.esu_config import IDENTITY
from gridchain.coordination.parties.wallet_state import OPEN
from gridchain.errors import InputError
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

esu_app = typer.Typer(
    help="An ESU's wallet: identity, blind tokens, anonymous requests and their allocations.", no_args_is_help=True
)
WALLET = typer.Option(..., "--wallet", help="The wallet's name: its folder under esu.wallets.")
JSON = typer.Option(False, "--json", help="Print the result as one JSON object.")
MAX_WAIT_S, WAIT_POLL_S = 86_400, 2.0  # --wait: at most a day, looking every 2 s
EXIT_STILL_OPEN = 3  # `status --wait`: a request is still open when the wait is over
WIDTH = 80


def _settings(config_file: Path | None):
    from gridchain.config.file import config_path, load_config
    from gridchain.coordination.cli.esu_config import esu_settings

    config = load_config(config_path(config_file))
    return config, esu_settings(config)


def _open(config_file: Path | None, name: str):
    """The config, the [esu] settings, and the wallet party over the deployment's coordinator."""
    from gridchain.config.network import connect
    from gridchain.config.record import checked_address, load_record
    from gridchain.coordination.anonymous.service.relayer import RelayerClient
    from gridchain.coordination.client import CoordinatorClient
    from gridchain.coordination.parties.wallet import EsuWallet
    from gridchain.coordination.parties.wallet_state import WalletState

    config, settings = _settings(config_file)
    folder = settings.wallet_dir(name)
    if not (folder / IDENTITY).is_file():
        raise InputError("--wallet", f"no wallet {name!r} in {str(settings.wallets)!r}: make it with `esu init`")
    state = WalletState.open(folder)
    network = connect(config)
    address = checked_address(load_record(config, network.settings.chain_id), "coordinator", network.gateway.code)
    wallet = EsuWallet(state, CoordinatorClient(network.gateway, address), RelayerClient(settings.relayer_url))
    return config, settings, folder, wallet


@esu_app.command("init")
@bad_input_exits
def esu_init(
    wallet: str = WALLET,
    config_file: Path = CONFIG,
    light: bool = typer.Option(False, "--light-keystore", help="Cheaper keystore encryption: local tests only."),
    as_json: bool = JSON,
) -> None:
    """Make a new wallet for a new household: an identity key, encrypted into the wallet's identity.json with
    the keystore password of the keys section. Prints the identity address, which the utility admits as a member.

    Example: gridchain esu init --wallet house42 --config pilot/gridchain.toml
    """
    from gridchain.config.accounts import password
    from gridchain.crypto.keystore import LIGHT_SCRYPT_N, STANDARD_SCRYPT_N, new_key, write_keystore

    config, settings = _settings(config_file)
    path = settings.wallet_dir(wallet) / IDENTITY
    if path.exists():
        raise InputError("--wallet", f"wallet {wallet!r} exists already ({str(path)!r})")
    address = write_keystore(path, new_key(), password(config), LIGHT_SCRYPT_N if light else STANDARD_SCRYPT_N)
    if as_json:
        typer.echo(json.dumps({"wallet": wallet, "identity": address, "keystore": str(path)}))
        return
    typer.echo(f"wallet {wallet}: identity {address}")
    typer.echo("ask the utility to admit this address (a line in the members file)")


@esu_app.command("tokens")
@bad_input_exits
def esu_tokens(
    wallet: str = WALLET,
    wait_s: float = typer.Option(
        0, "--wait", help="Wait up to this many seconds for the current epoch's key to be on chain."
    ),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Obtain blind tokens from the utility (esu.utility_url) for the current epoch and the next ones
    (community.lookahead_epochs), up to community.quota each, every epoch key checked against the one
    registered on chain. An epoch whose key is not on chain yet is skipped (run it again later, or --wait).

    Example: gridchain esu tokens --wallet esu01 --config pilot/gridchain.toml
    """
    from gridchain.config.accounts import account_address, password
    from gridchain.coordination.anonymous.parties.issuer import TokenWallet
    from gridchain.coordination.anonymous.service.issuance import IssuanceClient
    from gridchain.coordination.cli.config import community
    from gridchain.crypto.keystore import read_keystore

    config, settings, folder, party = _open(config_file, wallet)
    rules = community(config)
    identity = read_keystore(folder / IDENTITY, password(config), "--wallet")
    issuance = IssuanceClient(settings.utility_url)
    tokens = TokenWallet(bytes.fromhex(identity[2:]), account_address(config, "issuer"), issuance)
    check_seconds_within("--wait", wait_s, MAX_WAIT_S)
    deadline = time.monotonic() + wait_s
    while True:
        epoch = party.client.epoch_of_slot(party.current_slot())
        epochs = list(range(epoch, epoch + rules.lookahead_epochs + 1))
        with _utility_errors(settings.utility_url):
            done = party.obtain_tokens(tokens, issuance.modulus, epochs, rules.quota)
        if done[0].held > 0 or time.monotonic() >= deadline:
            break
        time.sleep(WAIT_POLL_S)
    if as_json:
        typer.echo(json.dumps({"wallet": wallet, "epochs": [asdict(d) for d in done]}))
        return
    typer.echo(f"{'epoch':>7}  {'obtained':>8}  {'unused':>6}  note")
    for d in done:
        typer.echo(f"{d.epoch:>7}  {d.obtained:>8}  {d.held:>6}  {d.note}")


class _utility_errors:
    """The utility's refusals and transport failures as one-line errors naming the option to look at."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, tb) -> bool:
        import httpx

        from gridchain.coordination.anonymous.parties.issuer import IssuanceError, IssuanceRefused

        if isinstance(error, IssuanceRefused):
            field = "--wallet" if error.status in (401, 403) else "esu.utility_url"
            raise InputError(field, f"the utility refused ({error.status}): {error.field}: {error.reason}")
        if isinstance(error, IssuanceError):
            raise InputError("esu.utility_url", str(error))
        if isinstance(error, httpx.TransportError | OSError):
            raise InputError("esu.utility_url", f"cannot reach the utility at {self.url}: {error}")
        return False


@esu_app.command("request")
@bad_input_exits
def esu_request(
    wallet: str = WALLET,
    demand_kw: float = typer.Option(..., "--demand-kw", help="Power wanted in the slot, in kW (> 0)."),
    soc_pct: float = typer.Option(..., "--soc-pct", help="State of charge now, in % (0 to below 100)."),
    slots: int = typer.Option(..., "--slots", help="Slots until charging must be complete (time to complete, >= 1)."),
    slot: int = typer.Option(None, "--slot", hidden=True, help="Sign for this slot instead of the current one."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Spend one token: sign a request for the current slot with the token's one-time pseudonym and send it to
    the relayer (esu.relayer_url). The signed request and its token stay in the wallet until `esu status`
    confirms its arrival on chain; one that misses its slot is signed again for the next one.

    --slot N (hidden, for tests) signs for slot N instead, as an ESU with a wrong clock would.

    Example: gridchain esu request --wallet esu01 --demand-kw 7.4 --soc-pct 35 --slots 4
    """
    from gridchain.coordination.model.request import SOC_PM_MAX, TCC_MAX
    from gridchain.coordination.parties.wallet import Unreachable

    demand_w, soc_pm = round(demand_kw * 1000), round(soc_pct * 10)
    if not 1 <= demand_w <= 2**64 - 1:
        raise InputError("--demand-kw", f"{demand_kw:g} is not a power above 0 kW (at least 0.001)")
    if not 0 <= soc_pm <= SOC_PM_MAX:
        raise InputError("--soc-pct", f"{soc_pct:g} is outside 0..99.9 %")
    if not 1 <= slots <= TCC_MAX:
        raise InputError("--slots", f"{slots} is outside 1..{TCC_MAX}")
    if slot is not None and slot < 0:
        raise InputError("--slot", f"{slot} is not a slot number")
    _, settings, _, party = _open(config_file, wallet)
    try:
        kept = party.request(demand_w, soc_pm, slots, slot)
    except Unreachable as e:
        raise InputError(
            "esu.relayer_url", f"{e} (the request is kept: `gridchain esu status` sends it again)"
        ) from None
    if as_json:
        typer.echo(json.dumps(_kept_json(kept)))
        return
    what = f"request {kept.number}: {demand_w / 1000:g} kW, SoC {soc_pm / 10:g} %, {slots} slots, slot {kept.slot}"
    if kept.status == "queued":
        typer.echo(f"{what}: queued at the relayer")
    else:
        typer.echo(_wrap(f"{what}: {kept.status}: {kept.reason}"))
        if kept.status == "late":
            typer.echo("kept with its token: `gridchain esu status` signs it again for the next slot")


@esu_app.command("status")
@bad_input_exits
def esu_status(
    wallet: str = WALLET,
    no_retry: bool = typer.Option(False, "--no-retry", help="Only report: send nothing again."),
    wait_s: float = typer.Option(
        0, "--wait", help="Follow for up to this many seconds, until no request is open (exit 3 if one still is)."
    ),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Follow the wallet's open requests: queued or submitted at the relayer, confirmed on chain (the arrival
    it reports, checked against the chain), failed. One that missed its slot (refused or failed as late, or not
    on chain after its slot ended) is signed again for the current slot with the same token and sent again,
    unless --no-retry; one whose token's epoch is over is reported expired. One whose sending a killed command
    interrupted (`sending`) is sent again exactly as it was signed; several commands may run on one wallet at once
    (its state is the database wallet.db in the wallet's folder).

    Example: gridchain esu status --wallet esu01
    """
    check_seconds_within("--wait", wait_s, MAX_WAIT_S)
    _, _, _, party = _open(config_file, wallet)
    deadline, notes = time.monotonic() + wait_s, {}
    while True:
        notes |= {k.number: n for k, n in party.refresh(retry=not no_retry) if n}
        still_open = [r for r in party.state.requests if r.status in OPEN]
        if not still_open or time.monotonic() >= deadline:
            break
        time.sleep(WAIT_POLL_S)
    if as_json:
        out = [{**_kept_json(r), "note": notes.get(r.number, "")} for r in party.state.requests]
        typer.echo(json.dumps({"wallet": wallet, "requests": out}))
    else:
        _print_status(party.state.requests, notes)
    if wait_s and still_open:
        raise typer.Exit(EXIT_STILL_OPEN)


def _print_status(requests, notes: dict[int, str]) -> None:
    typer.echo(f"{'req':>4}  {'slot':>5}  {'status':<9}  {'arrival':>12}  note")
    for r in requests:
        arrival = "" if r.arrival is None else str(r.arrival)
        line = f"{r.number:>4}  {r.slot:>5}  {r.status:<9}  {arrival:>12}  {notes.get(r.number, '')}"
        typer.echo(_wrap(line, indent=41))


@esu_app.command("allocations")
@bad_input_exits
def esu_allocations(wallet: str = WALLET, config_file: Path = CONFIG, as_json: bool = JSON) -> None:
    """What the chain granted each of the wallet's confirmed requests, slot by slot over the closed slots, and
    whether each slot's schedule is the rule's (recomputed from the chain's records: `ok`, or the mismatches).
    Exits 1 if a slot's schedule is not the rule's.

    Example: gridchain esu allocations --wallet esu01
    """
    from gridchain.coordination.parties.verifier import fetch_records

    _, _, _, party = _open(config_file, wallet)
    rows = party.allocations(fetch_records(party.client))
    bad = [r for r in rows if not r.verified]
    if as_json:
        typer.echo(json.dumps({"wallet": wallet, "allocations": [asdict(r) for r in rows], "ok": not bad}))
    else:
        typer.echo(f"{'req':>4}  {'slot':>5}  {'granted kW':>10}  {'status':<10}  rule")
        for r in rows:
            verdict = "ok" if r.verified else "MISMATCH"
            typer.echo(f"{r.request:>4}  {r.slot:>5}  {r.granted_w / 1000:>10.3f}  {r.status:<10}  {verdict}")
        for problem in sorted({p for r in bad for p in r.problems}):
            typer.echo(_wrap(f"  {problem}"))
    if bad:
        raise typer.Exit(1)


@esu_app.command("export")
@bad_input_exits
def esu_export(
    wallet: str = WALLET,
    out: Path = typer.Option(None, "--out", help="Write the public view to this file (default: print it)."),
    config_file: Path = CONFIG,
) -> None:
    """Write the wallet's public view as JSON: the pseudonym, arrival number and submission transaction of each
    confirmed request, all of them public on chain already. Nothing secret is in it (no key, no token, no
    signature, no ticket): a household opens it in the dashboard's Household page to see its allocations.

    Example: gridchain esu export --wallet esu01 --out esu01-public.json
    """
    from gridchain.coordination.parties.wallet_public import public_view

    if out is not None and out.is_dir():
        raise InputError("--out", f"{str(out)!r} is a folder, not a file")
    _, _, _, party = _open(config_file, wallet)
    view = public_view(party.state, party.client)
    text = json.dumps(view.to_json(), indent=1) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        partial = out.with_name(out.name + ".partial")
        partial.write_text(text)
        partial.replace(out)  # whole or not at all
    except OSError as e:
        raise InputError("--out", f"cannot write {str(out)!r}: {e.strerror or e}") from None
    typer.echo(f"wrote the public view of {wallet} ({len(view.requests)} requests) to {out}")


def _kept_json(kept) -> dict:
    """A kept request for --json output: without its secrets (pseudonym key, token, ticket id)."""
    return {
        "request": kept.number,
        "slot": kept.slot,
        "status": kept.status,
        "arrival": kept.arrival,
        "reason": kept.reason,
        "epoch": kept.token.epoch,
        "demand_w": kept.demand_w,
        "soc_pm": kept.soc_pm,
        "tcc": kept.tcc,
        "slots_tried": kept.slots_tried,
    }


def _wrap(text: str, indent: int = 2) -> str:
    return "\n".join(textwrap.wrap(text, WIDTH, subsequent_indent=" " * indent, break_on_hyphens=False)) or text
