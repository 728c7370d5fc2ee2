"""How a PHEV's requests to the auctioneer are signed: EIP-191 personal_sign, by the PHEV's one-auction
pseudonym, of TAG || the request's canonical JSON without its "signature" (sorted keys, no spaces;
NaN and infinities as Python writes them, so that the auctioneer can refuse such a bid by its field). Every
request names the auction (its round id) and the pseudonym, so a signature answers for one request of one
auction, and nobody can join, read or bid as another pseudonym without its key."""

from __future__ import annotations

import json
from typing import Any

from gridchain.checks import parse_address
from gridchain.crypto.keys import Key, address_of, parse_signature, recover_personal, sign_personal
from gridchain.errors import Refused

TAG = b"gridchain petcon request\n"


def message_of(body: dict[str, Any]) -> bytes:
    """What is signed: TAG || canonical JSON of the body less its signature."""
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    return TAG + json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()


def signed(key: Key, body: dict[str, Any]) -> dict[str, Any]:
    """The body with "pseudonym" (the key's address) and its "signature" (0x hex) added."""
    body = dict(body, pseudonym=address_of(key))
    return body | {"signature": "0x" + sign_personal(key, message_of(body)).hex()}


def signer_of(body: dict[str, Any]) -> str:
    """The pseudonym a request speaks for (checksummed), once its signature is checked: InputError for a
    malformed pseudonym or signature, Refused if another key signed it."""
    pseudonym = parse_address("pseudonym", body.get("pseudonym"))
    signature = parse_signature(body.get("signature"), "signature")
    signer = recover_personal(message_of(body), signature, "signature")
    if signer != pseudonym:
        raise Refused(f"signed by {signer}, not by the pseudonym {pseudonym}", "signature")
    return pseudonym
