"""`gridchain metering bill`: a party's roaming bill for a period, from the settlements on chain."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from gridchain.checks import parse_address
from gridchain.errors import InputError
from gridchain.metering import model as m
from gridchain.metering.cli.chain import emit, open_metering, read_config
from gridchain.metering.cli.config import metering
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits

MICRO_ETH = 10**12


def _party(config, party: str) -> str:
    if party.startswith("0x"):
        return parse_address("--party", party).lower()
    from gridchain.config.accounts import account_address

    try:
        return account_address(config, party).lower()
    except InputError as e:
        raise InputError("--party", e.reason) from None


def _when(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M")


@bad_input_exits
def bill(
    party: str = typer.Option(
        ..., "--party", help="Whose bill: the name of one of the accounts (ev_owner, host) or an address."
    ),
    start: int = typer.Option(0, "--from", help="Period start (unix s): sessions starting at or after it."),
    end: int = typer.Option(None, "--to", help="Period end (unix s): sessions starting before it. Default: now."),
    config_file: Path = CONFIG,
    as_json: bool = typer.Option(False, "--json", help="Print the bill as one JSON object."),
) -> None:
    """A party's roaming bill for a period, at the tariff in force.

    Sessions its EVs charged elsewhere (billed to it, the EV's owner) and sessions charged at its charge points
    (credited), each priced by the contract at the tariff in force per interval. Money in µETH (10^12 wei).

    Example: gridchain metering bill --party ev_owner --from 1795305600 --config pilot/gridchain.toml
    """
    config = read_config(config_file)
    who = _party(config, party)
    d = open_metering(config, [])
    end = d.network.gateway.now() if end is None else end
    if end <= start:
        raise InputError("--to", f"{end} is not after --from {start}")
    community = metering(config).community
    tariffs = d.client.tariffs(community, d.from_block)
    out = m.bill(who, d.client.settlements(d.from_block), start, end, community, tariffs)
    emit(as_json, out, _table(party, out))


def _table(name: str, bill: dict) -> list[str]:
    """The bill as lines of at most 80 columns (money in µETH = 10^12 wei, up to 1,000 ETH a session)."""
    who = bill["party"] if name.lower() == bill["party"] else f"{name} ({bill['party']})"
    rows = [
        f"bill of {who}",
        f"period {_when(bill['from'])} .. {_when(bill['to'])} UTC, community {bill['community']}",
        f"{'session':<11} {'role':<8} {'start (UTC)':<16} {'int':>3} {'energy Wh':>10} {'cost µETH':>13} "
        f"{'paid µETH':>13}",
    ]
    for x in bill["sessions"]:
        rows.append(
            f"{x['session'][:10] + '…':<11} {x['role']:<8} {_when(x['start']):<16} {x['intervals']:>3} "
            f"{x['energy_wh']:>10,} {x['cost_wei'] / MICRO_ETH:>13,.0f} {x['paid_wei'] / MICRO_ETH:>13,.0f}"
        )
    if not bill["sessions"]:
        rows.append("no settled sessions in the period")
    rows.append(f"total energy {bill['energy_wh']:,} Wh")
    rows.append(
        f"charged {bill['charged_wei'] / MICRO_ETH:,.0f} µETH (unpaid {bill['unpaid_wei'] / MICRO_ETH:,.0f} µETH)"
    )
    rows.append(f"credited {bill['credited_wei'] / MICRO_ETH:,.0f} µETH")
    t = bill["tariff"]
    if t is not None:
        p = t["prices_wei_per_kwh"]
        lo, hi = min(p) / MICRO_ETH, max(p) / MICRO_ETH
        rows.append(f"tariff from {_when(t['effective_from'])} UTC: {lo:,.3f} .. {hi:,.3f} µETH/kWh")
    return rows
