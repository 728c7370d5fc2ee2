"""A wallet of the file-based kind (`<wallet>/wallet.json`, before the database) moved into its database once.

The whole file goes in one transaction that also records the file's hash, so a crash before the rename that
follows (`wallet.json` -> `wallet.json.imported`) never imports it twice: the next open finds the hash and only
renames. Requests keep their numbers unless the database holds some already (then they follow them).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from sqlalchemy import Connection, func, insert, select, update

from gridchain.coordination.parties import wallet_tables as t
from gridchain.coordination.parties.wallet_state import KeptRequest, Token, request_row, token_row
from gridchain.errors import InputError
from gridchain.store.engine import Store

LEGACY = "wallet.json"
IMPORTED = "wallet.json.imported"


def import_json(store: Store, folder: Path, field_name: str) -> bool:
    """Import `folder`/wallet.json if there is one (then renamed wallet.json.imported); whether it was imported
    now. A file that is not a wallet state is an InputError naming `field_name`, and nothing is imported."""
    path = folder / LEGACY
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as e:
        raise InputError(field_name, f"cannot read the wallet state {str(path)!r}: {e}") from None
    tokens, requests, obtained = _parse(raw, path, field_name)
    digest = hashlib.sha256(raw).hexdigest()

    def work(c: Connection) -> bool:
        if c.execute(select(t.imports.c.sha256).where(t.imports.c.sha256 == digest)).first() is not None:
            return False
        known = set(c.execute(select(t.tokens.c.address)).scalars())
        fresh = [token_row(x) for x in tokens if x.address not in known]
        if fresh:
            c.execute(insert(t.tokens), fresh)
        offset = c.execute(select(func.max(t.requests.c.number))).scalar() or 0
        for kept in requests:
            kept.number += offset
            c.execute(insert(t.requests).values(**request_row(kept)))
        for (community, epoch), count in obtained.items():
            key = (t.obtained.c.community == community) & (t.obtained.c.epoch == epoch)
            if c.execute(update(t.obtained).where(key).values(count=t.obtained.c.count + count)).rowcount == 0:
                c.execute(insert(t.obtained).values(community=community, epoch=epoch, count=count))
        c.execute(insert(t.imports).values(sha256=digest, name=str(path), imported_ms=time.time_ns() // 1_000_000))
        return True

    done = store.atomic(work)
    try:
        path.rename(folder / IMPORTED)
    except FileNotFoundError:  # another command opening the wallet at the same time renamed it
        pass
    return done


def _parse(raw: bytes, path: Path, field_name: str):
    """The tokens, requests and obtained counts of a wallet.json (what `WalletState.save` wrote)."""
    try:
        data = json.loads(raw)
        tokens = [Token(**x) for x in data["tokens"]]
        requests = [KeptRequest(**{**r, "token": Token(**r["token"])}) for r in data["requests"]]
        obtained = {}
        for key, count in data["obtained"].items():
            community, epoch = str(key).rsplit("/", 1)
            obtained[(community, int(epoch))] = int(count)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise InputError(field_name, f"{str(path)!r} is not a wallet state ({e})") from None
    return tokens, requests, obtained
