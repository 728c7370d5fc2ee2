"""`gridchain v2v auction session|settle`: the consumer's side of an ended auction: take the energy from the
winner, found at the URL announced for it on chain, then settle on chain with the last receipt it signed."""

from __future__ import annotations

from pathlib import Path

import typer

from gridchain.chain.events import read_events
from gridchain.errors import InputError
from gridchain.ui.config_options import CONFIG
from gridchain.ui.errors import bad_input_exits
from gridchain.v2v.cli.common import EV, JSON, V2V, chain_call, consumer, open_v2v, refusals, show


def _wallet(v: V2V, ev: str):
    from gridchain.v2v.parties.wallet import ConsumerWallet

    return ConsumerWallet.load(v.settings.wallets_dir / f"{ev}.json", "v2v.wallets")


def _ended(v: V2V, ev: str):
    a = v.client.auction(v.ev)
    if not a.ended_at:
        what = "has not ended: run `gridchain v2v auction end`" if a.closing_time else "is not open (none to trade)"
        raise InputError("--ev", f"{ev}'s auction {what}")
    return a


@bad_input_exits
def session(
    ev: str = EV,
    timeout_s: float = typer.Option(10.0, "--timeout-s", help="How long to wait for each answer of the provider."),
    config_file: Path = CONFIG,
    as_json: bool = JSON,
) -> None:
    """Take the energy of --ev's ended auction from its winner: find the winner's service at the URL announced
    on chain, authenticate each other (hello, the winner's proof checked against the chain), then energy in
    increments, each answered by a signed cumulative receipt kept in the v2v.wallets folder (what `settle` uses).

    Example: gridchain v2v auction session --ev c1
    """
    import httpx

    from gridchain.v2v.service import ProviderClient, charge

    v = open_v2v(config_file, ev)
    a = _ended(v, ev)
    token = v.client.token(v.ev)
    url = v.client.announced(a.provider, v.deployed_block)
    if not url:
        raise InputError("winner", f"{a.provider} announced no service URL (it was admitted without one)")
    wallet = _wallet(v, ev)
    http = ProviderClient(url, timeout_s)
    try:
        with refusals("winner"):
            result = charge(consumer(v), http, token, wallet.keep)
    except httpx.HTTPError as e:
        raise InputError(
            "winner", f"the provider's service at {url} does not answer: {e or type(e).__name__}"
        ) from None
    finally:
        http.close()
    last = result["deliveries"][-1]
    out = {
        "consumer": v.ev,
        "provider": result["provider"],
        "url": url,
        "token": "0x" + token.hex(),
        "amount_wh": a.amount_wh,
        "delivered_wh": last["delivered_wh"],
        "receipted_wh": last["receipted_wh"],
        "increments": len(result["deliveries"]),
    }
    if as_json:
        out["deliveries"] = result["deliveries"]
    show(out, as_json)


@bad_input_exits
def settle(ev: str = EV, config_file: Path = CONFIG, as_json: bool = JSON) -> None:
    """Settle --ev's trade with the last receipt it signed: with a receipt for the whole amount at once, else
    after the token's validity. If the provider settled already, show how the trade closed.

    Example: gridchain v2v auction settle --ev c1
    """
    v = open_v2v(config_file, ev)
    a = v.client.auction(v.ev)
    if not a.closing_time:
        c = v.client
        ended = read_events(c.gateway, c.artifact, c.address, ("TradeClosed",), v.deployed_block)
        closed = [e for e in ended if e.args["consumer"] == v.ev]
        if not closed:
            raise InputError("--ev", f"{ev} has no trade to settle")
        show(
            {"consumer": v.ev, "settled_by": "already closed", **_closed(closed[-1].args), "block": closed[-1].block},
            as_json,
        )
        return
    a = _ended(v, ev)
    token = v.client.token(v.ev)
    ev_party = consumer(v)
    receipt = _wallet(v, ev).receipt(token) or ev_party.receipt(token, 0)
    expires = a.ended_at + v.client.validity_s
    now = v.network.gateway.now()
    if receipt.delivered_wh < a.amount_wh and now < expires:
        raise InputError(
            "--ev",
            f"receipted {receipt.delivered_wh} of {a.amount_wh} Wh: the consumer settles with a receipt for "
            f"the whole amount or after the token's validity ({expires}, {expires - now} s from now)",
        )
    done = chain_call("--ev", lambda: v.client.settle(v.ev, v.ev, receipt))
    show(
        {"consumer": v.ev, "settled_by": "consumer", **_closed(done.named("TradeClosed")[0].args), "block": done.block},
        as_json,
    )


def _closed(args: dict) -> dict:
    return {k: args[k] for k in ("provider", "delivered_wh", "to_provider_wei", "to_consumer_wei", "expired")}
