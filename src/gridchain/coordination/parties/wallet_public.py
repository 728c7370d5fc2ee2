"""An ESU wallet's public view: what its confirmed requests are on chain, for anyone to follow (a dashboard).

Its requests' one-time pseudonyms, arrival numbers and submission transactions are public on chain already; the
view says which of them are this household's, and holds nothing that could spend, sign or link: no key, no token,
no signature, no relayer ticket, no identity. The format is versioned; `parse_public_view` is its one reader and
names the field of any value it refuses (`requests[3].arrival: ...`).

```json
{"format": "gridchain-esu-public/1", "chain_id": 31337, "community": "0x…",
 "requests": [{"pseudonym": "0x…", "arrival": 4294967297, "slot": 1, "tx": "0x…"}]}
```
"""

from __future__ import annotations

from dataclasses import dataclass

from gridchain.checks import check_int, parse_address, parse_hex_bytes, show
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import MASK32, MASK64, pack
from gridchain.coordination.parties.wallet_state import WalletState
from gridchain.errors import InputError

FORMAT = "gridchain-esu-public/1"
FIELDS = ("pseudonym", "arrival", "slot", "tx")  # a request's fields: all of them public
TOP = ("format", "chain_id", "community", "requests")
MAX_REQUESTS = 10_000  # a household's requests over years: a view with more is not one


@dataclass(frozen=True)
class PublicRequest:
    pseudonym: str
    arrival: int  # slot << 32 | k: the slot it was submitted in and its place there
    tx: str | None  # its submission's transaction, as the wallet's node saw it (None: not found)

    @property
    def slot(self) -> int:
        return self.arrival >> 32


@dataclass(frozen=True)
class PublicView:
    chain_id: int
    community: str
    requests: tuple[PublicRequest, ...]

    def to_json(self) -> dict:
        requests = [{"pseudonym": r.pseudonym, "arrival": r.arrival, "slot": r.slot, "tx": r.tx} for r in self.requests]
        return {"format": FORMAT, "chain_id": self.chain_id, "community": self.community, "requests": requests}


def public_view(state: WalletState, client: CoordinatorClient) -> PublicView:
    """The confirmed requests `state` holds for `client`'s community (their arrivals checked on chain), with
    their submission transactions as the chain holds them."""
    out = []
    for kept in state.requests:
        if kept.status != "confirmed" or kept.arrival is None or kept.token.community != client.address:
            continue
        word = pack(kept.demand_w, kept.soc_pm, kept.tcc, kept.arrival)
        tx = next((s.tx_hash for s in client.submissions(kept.arrival >> 32) if s.request == word), None)
        out.append(PublicRequest(kept.token.address, kept.arrival, tx))
    return PublicView(client.chain_id(), client.address, tuple(sorted(out, key=lambda r: r.arrival)))


def parse_public_view(body: object) -> PublicView:
    """A public view as it came (parsed JSON), every value checked; InputError names the first bad one. Fields it
    does not know are refused (a file that holds more than a public view is the wrong file)."""
    if not isinstance(body, dict):
        raise InputError("", f"a public view is a JSON object, not {type(body).__name__}")
    _only(body, TOP)
    if body.get("format") != FORMAT:
        raise InputError("format", f"{show(body.get('format'))} is not {FORMAT!r}")
    chain_id = check_int("chain_id", body.get("chain_id"), 1, MASK64)
    community = parse_address("community", body.get("community"))
    requests = body.get("requests")
    if not isinstance(requests, list):
        raise InputError("requests", f"{show(requests)[:40]} is not a list")
    if len(requests) > MAX_REQUESTS:
        raise InputError("requests", f"{len(requests)} entries, at most {MAX_REQUESTS}")
    parsed, seen = [], {}
    for i, entry in enumerate(requests):
        try:
            r = _request(entry)
        except InputError as e:
            raise e.within(f"requests[{i}]") from None
        if r.arrival in seen:
            raise InputError(f"requests[{i}].arrival", f"{r.arrival} is listed twice (requests[{seen[r.arrival]}])")
        seen[r.arrival] = i
        parsed.append(r)
    return PublicView(chain_id, community, tuple(parsed))


def _request(entry: object) -> PublicRequest:
    if not isinstance(entry, dict):
        raise InputError("", f"{show(entry)[:40]} is not an object")
    _only(entry, FIELDS)
    pseudonym = parse_address("pseudonym", entry.get("pseudonym"))
    arrival = check_int("arrival", entry.get("arrival"), 1, 2**64 - 1)
    if arrival & MASK32 == 0:
        raise InputError("arrival", f"{arrival} is not an arrival number (slot << 32 | k, k from 1)")
    if "slot" in entry and entry["slot"] != arrival >> 32:
        raise InputError("slot", f"{show(entry['slot'])} is not the slot of arrival {arrival} ({arrival >> 32})")
    tx = entry.get("tx")
    if tx is not None:
        tx = "0x" + parse_hex_bytes("tx", tx, 32).hex()
    return PublicRequest(pseudonym, arrival, tx)


def _only(mapping: dict, known: tuple[str, ...]) -> None:
    for key in mapping:
        if key not in known:
            raise InputError(str(key)[:40], f"unknown field (here a public view holds {', '.join(known)})")
