"""The utility's issuance desk in the deployment's database (schema `issuer`): an `IssuerBook` that survives a
restart and a SIGKILL.

- Epoch keys: made once per (community, epoch) and kept, so that the key registered on chain still signs after
  a restart. The private key (d || p || q, `blind.PrivateKey.to_bytes`; rows sealed before the CRT hold d
  alone, and p, q are recovered from it when opened) is sealed at rest with AES-256-GCM under a key derived
  (HKDF-SHA256) from the issuer's own secret (the `issuer` account's key), bound to the community, the epoch
  and the modulus, which stays in clear; who sealed it (the issuer's address) is kept beside it, so a store
  opened with another account's key is refused naming that account, and a key made for e = 65537 (before issue
  22: the contracts now verify e = 3) is refused naming the exponent (`ObsoleteKeyError`). Two processes making
  the same key at once: one insert wins (the primary key), both use the winner's.
- Members per community, quotas (tokens issued per community, epoch and identity) and issuance records:
  `take` checks membership and quota, counts and records in ONE serializable transaction, so two concurrent
  requests of one member never both pass a quota that fits one, and a crash leaves both or neither.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from gridchain.coordination.anonymous.parties.issuer_book import IssuanceRecord, NotMember, OverQuota
from gridchain.crypto import blind
from gridchain.crypto.keys import address_of
from gridchain.errors import InputError
from gridchain.store.engine import Store
from gridchain.store.migrate import Schema

SEAL_INFO = b"gridchain.issuer.epoch-key-seal.v1"
NONCE_BYTES = 12
ADDRESS = 42  # characters of a checksummed address

metadata = MetaData()
communities = Table(
    "issuer_communities",
    metadata,
    Column("community", String(ADDRESS), primary_key=True),
    Column("since_ms", BigInteger, nullable=False),  # when the issuer began to serve it (and seeded its members)
)
members = Table(
    "issuer_members",
    metadata,
    Column("community", String(ADDRESS), ForeignKey("issuer_communities.community"), primary_key=True),
    Column("identity", String(ADDRESS), primary_key=True),
)
epoch_keys = Table(
    "issuer_epoch_keys",
    metadata,
    Column("community", String(ADDRESS), primary_key=True),
    Column("epoch", BigInteger, primary_key=True),
    Column("modulus", Text, nullable=False),  # hex, 256 bytes: the public key (its keccak256 is on chain)
    Column("sealed", LargeBinary, nullable=False),  # nonce || AES-GCM(d || p || q, 768 bytes; or d, 256)
    Column("sealed_by", String(ADDRESS), nullable=False),  # the issuer account whose key seals it
    Column("created_ms", BigInteger, nullable=False),
)
quotas = Table(
    "issuer_quotas",
    metadata,
    Column("community", String(ADDRESS), primary_key=True),
    Column("epoch", BigInteger, primary_key=True),
    Column("identity", String(ADDRESS), primary_key=True),
    Column("issued", Integer, nullable=False),
)
records = Table(
    "issuer_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("community", String(ADDRESS), nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("identity", String(ADDRESS), nullable=False),
    Column("blinded", Text, nullable=False),  # JSON list of hex numbers
    Column("time_ms", BigInteger, nullable=False),
)
SCHEMA = Schema("issuer", metadata, Path(__file__).parent / "migrations" / "issuer")


class SealedKeyError(InputError):
    """A stored epoch key does not open with this issuer's secret (another account's, or altered)."""


class ObsoleteKeyError(InputError):
    """A stored epoch key opens but cannot sign for contracts of this version (made for e = 65537)."""


def _now_ms() -> int:
    return int(time.time() * 1000)


class IssuerStore:
    """The issuer's book in `store` (migrated to `SCHEMA` by the caller), epoch keys sealed with `secret` (the
    issuer account's 32-byte key); `secret_field` is what a refusal to unseal names (the config's account)."""

    def __init__(self, store: Store, secret: bytes, secret_field: str = "accounts.issuer") -> None:
        self.store = store
        self.address = address_of(secret)
        self.secret_field = secret_field
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SEAL_INFO).derive(secret)
        self._aead = AESGCM(derived)
        self._keys: dict[tuple[str, int], blind.PrivateKey] = {}  # unsealed keys (they never change once made)
        self._keys_lock = threading.Lock()

    # -- communities and members ---------------------------------------------------------------------------
    def add_community(self, community: str, seed: Iterable[str] = ()) -> bool:
        seed = sorted(set(seed))

        def work(c: Connection) -> bool:
            if c.execute(select(communities.c.community).where(communities.c.community == community)).first():
                return False
            c.execute(insert(communities).values(community=community, since_ms=_now_ms()))
            if seed:
                c.execute(insert(members), [{"community": community, "identity": i} for i in seed])
            return True

        return self.store.atomic(work)

    def communities(self) -> list[str]:
        return self.store.read(
            lambda c: list(c.execute(select(communities.c.community).order_by(communities.c.community)).scalars())
        )

    def members(self, community: str) -> set[str]:
        query = select(members.c.identity).where(members.c.community == community)
        return self.store.read(lambda c: set(c.execute(query).scalars()))

    def is_member(self, community: str, identity: str) -> bool:
        return self.store.read(lambda c: _is_member(c, community, identity))

    def admit(self, community: str, identity: str) -> bool:
        def work(c: Connection) -> bool:
            if not c.execute(select(communities.c.community).where(communities.c.community == community)).first():
                c.execute(insert(communities).values(community=community, since_ms=_now_ms()))
            if _is_member(c, community, identity):
                return False
            c.execute(insert(members).values(community=community, identity=identity))
            return True

        return self.store.atomic(work)

    def remove(self, community: str, identity: str) -> bool:
        where = (members.c.community == community) & (members.c.identity == identity)
        return self.store.atomic(lambda c: c.execute(delete(members).where(where)).rowcount > 0)

    # -- epoch keys ------------------------------------------------------------------------------------------
    def epoch_key(self, community: str, epoch: int, make: Callable[[], blind.PrivateKey]) -> blind.PrivateKey:
        slot = (community, epoch)
        with self._keys_lock:  # this process makes a key once; another process racing us is settled below
            if slot not in self._keys:
                row = self.store.read(lambda c: _key_row(c, community, epoch))
                if row is None:
                    row = self._keep(community, epoch, make())
                self._keys[slot] = self._unseal(community, epoch, row)
            return self._keys[slot]

    def _keep(self, community: str, epoch: int, key: blind.PrivateKey) -> tuple:
        """Insert `key` for (community, epoch) unless one is there already; the row that is kept."""
        modulus = key.public.modulus_bytes
        nonce = os.urandom(NONCE_BYTES)
        sealed = nonce + self._aead.encrypt(nonce, key.to_bytes(), _aad(community, epoch, modulus))
        row = (modulus.hex(), sealed, self.address)

        def work(c: Connection) -> tuple:
            if (kept := _key_row(c, community, epoch)) is not None:
                return kept  # another process made it first: its key is the one
            values = dict(zip(("modulus", "sealed", "sealed_by"), row))
            c.execute(insert(epoch_keys).values(community=community, epoch=epoch, created_ms=_now_ms(), **values))
            return row

        try:
            return self.store.atomic(work)
        except IntegrityError:  # the other insert committed between our read and our write: read the winner
            return self.store.read(lambda c: _key_row(c, community, epoch))

    def _unseal(self, community: str, epoch: int, row: tuple) -> blind.PrivateKey:
        modulus_hex, sealed, sealed_by = row
        modulus = bytes.fromhex(modulus_hex)
        where = f"the epoch key of community {community}, epoch {epoch}, in the store"
        if sealed_by != self.address:
            raise SealedKeyError(
                self.secret_field, f"{where} is sealed by the issuer {sealed_by}, not by this account {self.address}"
            )
        try:
            raw = self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _aad(community, epoch, modulus))
        except InvalidTag:
            raise SealedKeyError(
                self.secret_field, f"{where} does not open with the key of {self.address} (altered?)"
            ) from None
        try:
            return blind.PrivateKey.from_bytes(blind.PublicKey.from_bytes(modulus), raw)
        except blind.LegacyKeyError:
            raise ObsoleteKeyError(
                "e",
                f"{where} was made for e = {blind.LEGACY_E}; the contracts of this version check tokens with e = "
                f"{blind.E} (issue 22), so it cannot sign them. Deploy the coordinator anew and start the issuer on "
                "a new store (or delete this community's rows of issuer_epoch_keys): it makes a new key per "
                "community and epoch on first use",
            ) from None

    def check_secret(self) -> None:
        """Refuse (SealedKeyError naming the account) a store whose newest epoch key this secret cannot open."""
        query = select(epoch_keys).order_by(epoch_keys.c.created_ms.desc()).limit(1)
        newest = self.store.read(lambda c: c.execute(query).first())
        if newest is not None:
            self._unseal(newest.community, newest.epoch, (newest.modulus, newest.sealed, newest.sealed_by))

    # -- quotas and records ----------------------------------------------------------------------------------
    def used(self, community: str, epoch: int, identity: str) -> int:
        return self.store.read(lambda c: _issued(c, community, epoch, identity) or 0)

    def take(self, record: IssuanceRecord, quota: int) -> int:
        community, epoch, identity, count = record.community, record.epoch, record.identity, len(record.blinded)

        def work(c: Connection) -> int:
            if not _is_member(c, community, identity):
                raise NotMember(identity)
            used = _issued(c, community, epoch, identity)
            if (used or 0) + count > quota:
                raise OverQuota(used or 0)
            key = {"community": community, "epoch": epoch, "identity": identity}
            if used is None:
                c.execute(insert(quotas).values(**key, issued=count))
            else:
                where = [quotas.c[k] == v for k, v in key.items()]
                c.execute(update(quotas).where(*where).values(issued=used + count))
            blinded = json.dumps([hex(z) for z in record.blinded])
            c.execute(insert(records).values(**key, blinded=blinded, time_ms=round(record.time * 1000)))
            return (used or 0) + count

        return self.store.atomic(work)

    def records(self) -> list[IssuanceRecord]:
        rows = self.store.read(lambda c: c.execute(select(records).order_by(records.c.id)).all())
        return [
            IssuanceRecord(
                r.identity, r.community, r.epoch, tuple(int(z, 16) for z in json.loads(r.blinded)), r.time_ms / 1000
            )
            for r in rows
        ]

    def counts(self) -> dict[tuple[str, int, str], int]:
        rows = self.store.read(lambda c: c.execute(select(quotas)).all())
        return {(r.community, r.epoch, r.identity): r.issued for r in rows}


def _aad(community: str, epoch: int, modulus: bytes) -> bytes:
    """What a sealed key is bound to: a sealed exponent moved to another row does not open."""
    return community.encode() + epoch.to_bytes(8, "big") + modulus


def _key_row(c: Connection, community: str, epoch: int) -> tuple | None:
    query = select(epoch_keys.c.modulus, epoch_keys.c.sealed, epoch_keys.c.sealed_by).where(
        (epoch_keys.c.community == community) & (epoch_keys.c.epoch == epoch)
    )
    row = c.execute(query).first()
    return None if row is None else (row.modulus, bytes(row.sealed), row.sealed_by)


def _is_member(c: Connection, community: str, identity: str) -> bool:
    query = select(members.c.identity).where((members.c.community == community) & (members.c.identity == identity))
    return c.execute(query).first() is not None


def _issued(c: Connection, community: str, epoch: int, identity: str) -> int | None:
    query = select(quotas.c.issued).where(
        (quotas.c.community == community) & (quotas.c.epoch == epoch) & (quotas.c.identity == identity)
    )
    return c.execute(query).scalar()
