"""`gridchain data grants|accesses|alerts`: a household's view of its meter data, who may see it, who saw what,
when and why, and what broke its consent (`gridchain.monitoring.view`), from the chain and the deployment's store.

Tables fit 80 columns (addresses shortened 0x1234..abcd, times UTC); --json prints the rows whole.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import typer

from gridchain.checks import parse_address
from gridchain.config.file import Config
from gridchain.errors import InputError
from gridchain.monitoring import view
from gridchain.monitoring.cli.chain import open_monitoring, read_config
from gridchain.ui.config_options import CONFIG
from gridchain.ui.console import emit
from gridchain.ui.errors import bad_input_exits

WIDTH = 80

HOUSEHOLD = typer.Option(
    ..., "--household", help="Whose data: an address, or the name of one of the config's accounts (a keystore)."
)
PURPOSES = typer.Option(
    None,
    "--purpose",
    help="A purpose's text to recognise by its tag, beyond billing, research, flexibility, marketing.",
)
JSON = typer.Option(False, "--json", help="Print one JSON object (addresses and hashes whole).")

app = typer.Typer(
    help="A household's view of its meter data: grants, accesses (who saw what, when, why), alerts.",
    no_args_is_help=True,
)


def household_of(config: Config, text: str) -> str:
    """`--household` as a checksummed address: an address as it is, or a config account's (its keystore's)."""
    text = text.strip()
    if text.lower().startswith("0x"):
        return parse_address("--household", text)
    names = sorted(config.data.get("accounts", {}))
    if text not in names:
        known = ", ".join(names) or "none"
        raise InputError("--household", f"{text!r} is neither an address nor an account name ({known})")
    from gridchain.config.accounts import account_address

    try:
        return parse_address("--household", account_address(config, text))
    except InputError as e:
        raise InputError("--household", f"account {text}: {e}") from None


def short(address: str | None) -> str:
    """0x1234..abcd (12 columns); '-' for none."""
    if not address:
        return "-"
    return address if len(address) <= 12 else f"{address[:6]}..{address[-4:]}"


def clip(text: object, width: int) -> str:
    """`text` in `width` columns (cut with '…' if longer)."""
    s = "-" if text is None else str(text)
    return s if len(s) <= width else s[: width - 1] + "…"


def _when(iso: str | None) -> str:
    """An ISO UTC time as 'YYYY-MM-DD HH:MM'."""
    return "-" if iso is None else iso[:16].replace("T", " ")


def _purpose(row: dict) -> str:
    return row.get("purpose_text") or short(row.get("purpose"))


def _row(cells: list[tuple[object, int, str]]) -> str:
    """Cells (value, width, '<' or '>') joined by one space, each clipped to its width."""
    return " ".join(f"{clip(v, w):{a}{w}}" for v, w, a in cells).rstrip()


def _fit(lines: list[str]) -> list[str]:
    return [clip(line, WIDTH) for line in lines]


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _whose(household: str, name: str) -> str:
    return household if name.lower() == household.lower() else f"{name} ({household})"


def grants_table(rows: list[dict], household: str, name: str) -> list[str]:
    lines = [f"grants of {_whose(household, name)}"]
    if not rows:
        return _fit(lines + ["The chain holds no grant signed by this household."])
    head = [("grantee", 12, "<"), ("purpose", 12, "<"), ("days (UTC)", 22, "<"), ("expires (UTC)", 16, "<")]
    lines.append(_row([*head, ("status", 12, "<")]))
    for g in rows:
        days = f"{g['first_day']}..{g['last_day']}"
        cells = [(short(g["grantee"]), 12, "<"), (_purpose(g), 12, "<"), (days, 22, "<")]
        lines.append(_row([*cells, (_when(g["expiry"]), 16, "<"), (g["status"], 12, "<")]))
        if g["revoked_at"]:
            lines.append(f"  revoked {_when(g['revoked_at'])} UTC")
    counts = {s: sum(g["status"] == s for g in rows) for s in (view.ACTIVE, view.EXPIRED, view.REVOKED)}
    lines.append(f"{_count(len(rows), 'grant')}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    return _fit(lines)


def accesses_table(rows: list[dict], household: str, name: str) -> list[str]:
    lines = [f"accesses to the data of {_whose(household, name)}"]
    if not rows:
        return _fit(lines + ["No processing node has recorded an access to this household's data."])
    lines.append(
        _row(
            [("seq", 5, ">"), ("time (UTC)", 16, "<"), ("node", 12, "<"), ("grantee", 12, "<"), ("purpose", 11, "<")]
            + [("days", 13, "<"), ("batch", 5, ">")]
        )
    )
    for a in rows:
        days = f"{a['first_day']} {a['days']}d"
        batch = a["batch"] if a["attested"] else "NONE"
        cells = [(a["seq"], 5, ">"), (_when(a["time"]), 16, "<"), (short(a["node"]), 12, "<")]
        cells += [(short(a["grantee"]), 12, "<"), (_purpose(a), 11, "<"), (days, 13, "<"), (batch, 5, ">")]
        lines.append(_row(cells))
    unattested = sum(not a["attested"] for a in rows)
    lines.append(f"{_count(len(rows), 'access', 'accesses')}, {len(rows) - unattested} attested on chain")
    if unattested:
        lines.append(f"{unattested} in no attested batch (batch NONE): the access log does not vouch for them")
    return _fit(lines)


def alerts_table(rows: list[dict], household: str, name: str) -> list[str]:
    lines = [f"alerts for {_whose(household, name)}"]
    if not rows:
        return _fit(lines + ["No alert: neither the monitor nor the chain has found a breach of its consent."])
    head = [("time (UTC)", 16, "<"), ("kind", 17, "<"), ("seq", 5, ">"), ("grantee", 12, "<")]
    lines.append(_row([*head, ("source", 13, "<"), ("state", 12, "<")]))
    for a in rows:
        cells = [(_when(a["time"]), 16, "<"), (a["kind"], 17, "<"), (a["seq"], 5, ">"), (short(a["grantee"]), 12, "<")]
        lines.append(_row([*cells, (a["source"], 13, "<"), (a["state"], 12, "<")]))
        lines += textwrap.wrap(a["detail"], WIDTH, initial_indent="  ", subsequent_indent="  ") or ["  -"]
    on_chain = sum(a["source"] != "monitor" for a in rows)
    lines.append(f"{_count(len(rows), 'alert')}, {on_chain} logged on chain")
    return _fit(lines)


def _open(config_file: Path | None, household: str):
    config = read_config(config_file)
    who = household_of(config, household)
    return open_monitoring(config, []), who


@app.command("grants")
@bad_input_exits
def grants(
    household: str = HOUSEHOLD, purpose: list[str] = PURPOSES, config_file: Path = CONFIG, as_json: bool = JSON
) -> None:
    """Every grant of the household's data the chain holds: to whom, which days, for which purpose, until when,
    and whether it is active, expired or revoked.

    Example: gridchain data grants --household household0 --config pilot/gridchain.toml
    """
    d, who = _open(config_file, household)
    rows = view.grants(d.consent, who, d.from_block, purposes=purpose or ())
    emit(as_json, {"household": who, "grants": rows}, grants_table(rows, who, household))


@app.command("accesses")
@bad_input_exits
def accesses(
    household: str = HOUSEHOLD, purpose: list[str] = PURPOSES, config_file: Path = CONFIG, as_json: bool = JSON
) -> None:
    """Who saw the household's data: every access a processing node recorded in its thread (the node, the
    grantee, the days, the purpose, when, a hash of what it served), and the attested batch that holds it.

    Example: gridchain data accesses --household 0x13e21E2b63cb2cfE759F2ECcF682E62CBF6d4BB4 --json
    """
    d, who = _open(config_file, household)
    roots = view.attested_roots(d.log, d.from_block)
    rows = view.accesses(d.store, who, roots, purposes=purpose or ())
    emit(as_json, {"household": who, "accesses": rows}, accesses_table(rows, who, household))


@app.command("alerts")
@bad_input_exits
def alerts(
    household: str = HOUSEHOLD, purpose: list[str] = PURPOSES, config_file: Path = CONFIG, as_json: bool = JSON
) -> None:
    """Breaches of the household's consent: the monitor's alerts in the store and the consent contract's Breach
    events naming the household, one per access record.

    Example: gridchain data alerts --household household0 --config pilot/gridchain.toml
    """
    d, who = _open(config_file, household)
    rows = view.alerts(d.store, who, d.consent, d.from_block, purposes=purpose or ())
    emit(as_json, {"household": who, "alerts": rows}, alerts_table(rows, who, household))
