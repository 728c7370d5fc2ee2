"""The household's view of its data: who may see it (`grants`), who saw what, when and why (`accesses`), and what
broke its consent (`alerts`), for one household address.

- `grants`: from the consent contract's `Granted` events and grant words (granted, expiry, revoked times);
- `accesses`: the household's thread as the store holds the processing nodes' records, each marked attested when
  a published batch holds it (the same leaf) and that batch's records make the root the access log attested for
  its index;
- `alerts`: the monitor's stored alerts and the contract's `Breach` events naming the household (a household
  that shares no monitor store still sees these), one per record leaf.

Everything out is JSON-able: addresses checksummed, hashes 0x-hex, times UTC ISO 8601 ("...Z"), days ISO dates.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from eth_utils import to_checksum_address
from sqlalchemy import select

from gridchain.metering.model import merkle_root
from gridchain.monitoring import store as tables
from gridchain.monitoring.consent_client import ConsentClient, grant_of
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.model.audit import NOTIFIED
from gridchain.monitoring.model.consent import REASONS
from gridchain.monitoring.model.records import DAY_S, Access, purpose_tag
from gridchain.monitoring.store import AccessStore, access_from

PURPOSES = ("billing", "research", "flexibility", "marketing")  # the purposes the month's scenario uses
ACTIVE, EXPIRED, REVOKED = "active", "expired", "revoked"


def utc(t: int | None) -> str | None:
    """A unix time [s] as UTC ISO 8601 (None stays None)."""
    return None if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def day_iso(day: int) -> str:
    """A UTC day number as an ISO date."""
    return datetime.fromtimestamp(day * DAY_S, UTC).strftime("%Y-%m-%d")


def _hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def purpose_texts(more: Iterable[str] = ()) -> dict[bytes, str]:
    """tag -> text of the known purposes (PURPOSES and `more`)."""
    return {purpose_tag(text): text for text in (*PURPOSES, *more)}


def _purpose(tag: bytes, texts: Mapping[bytes, str]) -> dict[str, Any]:
    return {"purpose": _hex(tag), "purpose_text": texts.get(bytes(tag))}


def status(expiry: int, revoked_at: int, now: int) -> str:
    """A grant's status at `now`: revoked (whenever it was), else expired from its expiry on, else active."""
    if revoked_at:
        return REVOKED
    return EXPIRED if now >= expiry else ACTIVE


def grants(
    consent: ConsentClient, household: str, from_block: int = 0, now: int | None = None, purposes: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """Every grant the household signed that the chain holds, in the order submitted, with its state at `now`
    (default: the chain's time)."""
    now = consent.gateway.now() if now is None else now
    texts = purpose_texts(purposes)
    who = household.lower()
    out = []
    for e in consent.events("Granted", from_block):
        if str(e.args["household"]).lower() != who:
            continue
        gid, g = bytes(e.args["grant"]), grant_of(e.args)
        st = consent.state(gid)
        out.append(
            {
                "grant": _hex(gid),
                "household": g.household,
                "grantee": g.grantee,
                "first_day": day_iso(g.first_day),
                "last_day": day_iso(g.last_day),
                "days": g.last_day - g.first_day + 1,
                **_purpose(g.purpose, texts),
                "expiry": utc(g.expiry),
                "granted_at": utc(st.granted_at or None),
                "revoked_at": utc(st.revoked_at or None),
                "status": status(g.expiry, st.revoked_at, now),
                "block": e.block,
                "tx": e.tx_hash,
            }
        )
    return out


def attested_roots(log: AccessLogClient, from_block: int = 0) -> dict[int, bytes]:
    """index -> root of every batch the access log attested (its `Attested` events)."""
    return {int(e.args["index"]): bytes(e.args["root"]) for e in log.events("Attested", from_block)}


def _by_index(roots: Mapping[int, bytes] | Sequence[bytes]) -> dict[int, bytes]:
    return dict(roots) if isinstance(roots, Mapping) else dict(enumerate(roots))


def _batch_roots(store: AccessStore, indexes: set[int]) -> dict[int, tuple[str, bytes]]:
    """index -> (the root published with it, the root its stored records make), for the batches named."""
    if not indexes:
        return {}

    def work(c) -> dict[int, tuple[str, bytes]]:
        b, br = tables.batches, tables.batch_records
        published = dict(c.execute(select(b.c.idx, b.c.root).where(b.c.idx.in_(sorted(indexes)))).all())
        q = select(br.c.batch, br.c.record).where(br.c.batch.in_(sorted(indexes))).order_by(br.c.batch, br.c.position)
        leaves: dict[int, list[bytes]] = {}
        for idx, text in c.execute(q):
            leaves.setdefault(int(idx), []).append(access_from(json.loads(text)).leaf())
        return {int(i): (published[i], merkle_root(leaves[int(i)])) for i in published if int(i) in leaves}

    return store.store.read(work)


def accesses(
    store: AccessStore, household: str, roots: Mapping[int, bytes] | Sequence[bytes], purposes: Iterable[str] = ()
) -> list[dict[str, Any]]:
    """The household's thread as the store holds it, oldest first: who (the processing node, the grantee), which
    days, for which purpose, when, the hash of what was served, and whether it is attested (in which batch).
    `roots`: the attested roots by batch index (a sequence: index 0, 1, ...)."""
    texts, attested_root = purpose_texts(purposes), _by_index(roots)
    thread = store.threads(household).get(household.lower(), [])
    held: dict[int, list[tuple[int, int, Access]]] = {}
    for batch, position, r in store.attested(household):
        held.setdefault(r.seq, []).append((batch, position, r))
    made = _batch_roots(store, {b for rows in held.values() for b, _, _ in rows})
    out = []
    for r in thread:
        leaf = r.leaf()
        where = None
        for batch, position, a in held.get(r.seq, []):
            published, computed = made.get(batch, ("", b""))
            if a.leaf() == leaf and computed == attested_root.get(batch) and published == _hex(computed):
                where = (batch, position)
                break
        out.append(
            {
                "seq": r.seq,
                "household": to_checksum_address(r.household),
                "node": to_checksum_address(r.node),
                "grantee": to_checksum_address(r.grantee),
                "grant": _hex(r.grant),
                "first_day": day_iso(r.first_day),
                "last_day": day_iso(r.last_day),
                "days": r.last_day - r.first_day + 1,
                **_purpose(r.purpose, texts),
                "time": utc(r.time),
                "data_hash": _hex(r.data_hash),
                "leaf": _hex(leaf),
                "attested": where is not None,
                "batch": None if where is None else where[0],
                "position": None if where is None else where[1],
            }
        )
    return out


def _leaves(store: AccessStore | None, household: str) -> dict[bytes, tuple[int, Access]]:
    """leaf -> (seq, record) of every record the store holds of the household (its thread and its batches)."""
    if store is None:
        return {}
    out = {r.leaf(): (r.seq, r) for r in store.threads(household).get(household.lower(), [])}
    out |= {r.leaf(): (r.seq, r) for _, _, r in store.attested(household)}
    return out


def alerts(
    store: AccessStore | None,
    household: str,
    consent: ConsentClient | None = None,
    from_block: int = 0,
    purposes: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The monitor's alerts of the household (`store`, if shared) and the consent contract's `Breach` events
    naming it (`consent`), one per record leaf (an alert without a record stays as it is), oldest first."""
    texts, who = purpose_texts(purposes), household.lower()
    out: list[dict[str, Any]] = []
    by_leaf: dict[str, dict[str, Any]] = {}
    for a in [] if store is None else store.alerts(household):
        leaf = None if a.record is None else _hex(a.record.leaf())
        row = {
            "kind": a.kind,
            "on_chain": a.kind not in NOTIFIED,
            "household": to_checksum_address(a.household),
            "seq": a.seq,
            "detail": a.detail,
            "leaf": leaf,
            "grantee": None if a.record is None else to_checksum_address(a.record.grantee),
            "grant": None if a.record is None else _hex(a.record.grant),
            **(_purpose(a.record.purpose, texts) if a.record else {"purpose": None, "purpose_text": None}),
            "batch": a.batch,
            "state": a.state,
            "reason": a.reason,
            "time": utc(a.at),
            "tx": a.tx_hash,
            "block": None,
            "source": "monitor",
        }
        if leaf is not None and leaf in by_leaf:  # the store holds two alerts of one record: keep the first
            continue
        out.append(row)
        if leaf is not None:
            by_leaf[leaf] = row
    if consent is not None:
        known = _leaves(store, household)
        for e in consent.events("Breach", from_block):
            if str(e.args["household"]).lower() != who:
                continue
            leaf, reason = _hex(e.args["record"]), int(e.args["reason"])
            header = consent.gateway.header(e.block)
            chain = {"reason": reason, "tx": e.tx_hash, "block": e.block, "state": "reported"}
            if leaf in by_leaf:  # the monitor's alert, confirmed by the chain's event
                by_leaf[leaf].update(chain, source="monitor+chain")
                continue
            seq, record = known.get(bytes.fromhex(leaf[2:]), (None, None))
            row = {
                "kind": REASONS.get(reason, f"reason {reason}"),
                "on_chain": True,
                "household": to_checksum_address(str(e.args["household"])),
                "seq": seq,
                "detail": f"the consent contract logged a breach by {e.args['grantee']} ({REASONS.get(reason)})",
                "leaf": leaf,
                "grantee": to_checksum_address(str(e.args["grantee"])),
                "grant": _hex(e.args["grant"]),
                **(_purpose(record.purpose, texts) if record else {"purpose": None, "purpose_text": None}),
                "batch": None,
                "time": utc(header.timestamp if header else None),
                **chain,
                "source": "chain",
            }
            out.append(row)
            by_leaf[leaf] = row
    return sorted(out, key=lambda row: row["time"] or "")
