"""The issuer's book in the store, on SQLite and PostgreSQL: what a new Issuer on the same store (a restart) still
has (the epoch keys, sealed at rest; the quota book; the records; the members), the quota held under
concurrent requests, one key when two processes make it at once, and a store opened with another issuer's key."""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from sqlalchemy import insert, select, update

from gridchain.coordination.anonymous.parties.issuer import (
    IssuanceRefused,
    Issuer,
    TokenWallet,
    request_digest,
)
from gridchain.coordination.anonymous.parties.issuer_book import IssuanceRecord, MemoryBook, OverQuota
from gridchain.coordination.anonymous.parties.issuer_store import (
    NONCE_BYTES,
    SCHEMA,
    SEAL_INFO,
    IssuerStore,
    ObsoleteKeyError,
    SealedKeyError,
    epoch_keys,
)
from gridchain.coordination.anonymous.parties.rate_limit import RateLimit
from gridchain.crypto import blind
from gridchain.crypto.keys import sign_personal
from tests.support import exponents

COMMUNITY = to_checksum_address("0x" + "c0" * 20)
SECRET = keccak(b"the issuer account's key")
QUOTA = 4


@pytest.fixture(scope="module")
def rsa_keys():
    """Two epoch keys made once for the module (RSA generation is the slow part)."""
    return [blind.PrivateKey.generate() for _ in range(2)]


@pytest.fixture
def migrated(store):
    store.migrate(SCHEMA)
    return store


def new_issuer(store, secret: bytes = SECRET, **kw) -> Issuer:
    """What `utility serve` builds at each start: an Issuer on a fresh IssuerStore over the same database."""
    return Issuer(secret, quota=QUOTA, book=IssuerStore(store, secret), **kw)


def body(member, epoch: int, blinded: list[int]) -> dict:
    digest = request_digest(member.address, COMMUNITY, epoch, blinded)
    return {
        "identity": member.address,
        "community": COMMUNITY,
        "epoch": epoch,
        "blinded": [hex(z) for z in blinded],
        "signature": "0x" + sign_personal(bytes(member.key), digest).hex(),
    }


def obtain(issuer: Issuer, member, count: int) -> int:
    """`count` tokens through the ESU's wallet (in-process transport), each checked by the wallet; the epoch."""
    epoch = blind.epoch_of(int(issuer.clock()))
    modulus = issuer.epoch_key(COMMUNITY, epoch).public.modulus_bytes
    wallet = TokenWallet(bytes(member.key), issuer.address, issuer.issue)
    wallet.obtain(1, COMMUNITY, epoch, modulus, keccak(modulus), count)
    assert len(wallet.unused[(COMMUNITY, epoch)]) == count
    return epoch


def test_a_restart_keeps_keys_quota_records_and_members(migrated):
    member, other = Account.create(), Account.create()
    first = new_issuer(migrated)
    assert first.add_community(COMMUNITY, [member.address, other.address])
    epoch = obtain(first, member, 3)
    modulus = first.epoch_key(COMMUNITY, epoch).public.n
    records = first.view

    again = new_issuer(migrated)  # a restart: nothing of `first` in memory
    assert not again.add_community(COMMUNITY, [])  # not seeded again
    assert again.members == {COMMUNITY: {member.address, other.address}}
    assert again.epoch_key(COMMUNITY, epoch).public.n == modulus
    assert again.issued == {(COMMUNITY, epoch, member.address): 3} and again.view == records
    assert [r.blinded for r in records] == [r.blinded for r in first.book.records()] and len(records[0].blinded) == 3
    with pytest.raises(IssuanceRefused) as e:
        obtain(again, member, 2)
    assert e.value.status == 429 and e.value.reason == f"2 tokens asked, 1 of {QUOTA} left for epoch {epoch}"
    obtain(again, member, 1)  # the one left, under the same key as before the restart
    assert new_issuer(migrated).issued[(COMMUNITY, epoch, member.address)] == QUOTA


def test_the_epoch_key_is_sealed_at_rest(migrated):
    issuer = new_issuer(migrated)
    issuer.add_community(COMMUNITY)
    epoch = blind.epoch_of(int(issuer.clock()))
    key = issuer.epoch_key(COMMUNITY, epoch)
    row = migrated.read(lambda c: c.execute(select(epoch_keys)).one())
    assert row.modulus == key.public.modulus_bytes.hex() and row.sealed_by == issuer.address
    assert len(row.sealed) == NONCE_BYTES + 3 * blind.MODULUS_BYTES + 16  # d || p || q and the GCM tag
    for secret in (key.d, key.p, key.q):
        raw = secret.to_bytes(blind.MODULUS_BYTES, "big").lstrip(b"\0")
        assert raw not in bytes(row.sealed) and raw[:16] not in bytes(row.sealed)


def test_a_key_sealed_before_the_crt_still_signs(migrated, rsa_keys):
    """A row sealed as before the CRT (the exponent d alone): opened, its primes recovered, the same key, and
    tokens under it verify (the wallet checks each)."""
    member, key = Account.create(), rsa_keys[0]
    issuer = new_issuer(migrated)
    issuer.add_community(COMMUNITY, [member.address])
    epoch = blind.epoch_of(int(issuer.clock()))
    modulus = key.public.modulus_bytes
    aead = AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SEAL_INFO).derive(SECRET))
    nonce = os.urandom(NONCE_BYTES)
    aad = COMMUNITY.encode() + epoch.to_bytes(8, "big") + modulus
    sealed = nonce + aead.encrypt(nonce, key.d.to_bytes(blind.MODULUS_BYTES, "big"), aad)
    row = {"modulus": modulus.hex(), "sealed": sealed, "sealed_by": issuer.address, "created_ms": 0}
    migrated.atomic(lambda c: c.execute(insert(epoch_keys).values(community=COMMUNITY, epoch=epoch, **row)))

    again = new_issuer(migrated)
    again.book.check_secret()
    opened = again.epoch_key(COMMUNITY, epoch)
    assert opened == key and (opened.p, opened.q) == (key.p, key.q)
    assert obtain(again, member, 2) == epoch


def test_a_key_made_for_65537_is_refused_naming_the_exponent(migrated):
    """A row sealed before issue 22 (a key made for e = 65537; the contracts now check e = 3): it opens with the
    issuer's secret, but is refused at the start (`check_secret`) and on use, naming the exponent, its value, the
    row, and how to get a new key; nothing is signed with it."""
    old = exponents.legacy_key()
    issuer = new_issuer(migrated)
    issuer.add_community(COMMUNITY)
    epoch = blind.epoch_of(int(issuer.clock()))
    modulus = old.public_numbers.n.to_bytes(blind.MODULUS_BYTES, "big")
    aead = AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SEAL_INFO).derive(SECRET))
    nonce = os.urandom(NONCE_BYTES)
    raw = b"".join(v.to_bytes(blind.MODULUS_BYTES, "big") for v in (old.d, old.p, old.q))
    sealed = nonce + aead.encrypt(nonce, raw, COMMUNITY.encode() + epoch.to_bytes(8, "big") + modulus)
    row = {"modulus": modulus.hex(), "sealed": sealed, "sealed_by": issuer.address, "created_ms": 0}
    migrated.atomic(lambda c: c.execute(insert(epoch_keys).values(community=COMMUNITY, epoch=epoch, **row)))
    again = new_issuer(migrated)
    for attempt in (again.book.check_secret, lambda: again.epoch_key(COMMUNITY, epoch)):
        with pytest.raises(ObsoleteKeyError) as e:
            attempt()
        assert e.value.field == "e" and f"community {COMMUNITY}, epoch {epoch}" in e.value.reason
        assert "was made for e = 65537; the contracts of this version check tokens with e = 3" in e.value.reason
        assert "makes a new key per community and epoch on first use" in e.value.reason


def test_another_issuer_s_key_cannot_open_the_store(migrated):
    issuer = new_issuer(migrated)
    issuer.add_community(COMMUNITY)
    epoch = blind.epoch_of(int(issuer.clock()))
    issuer.epoch_key(COMMUNITY, epoch)
    stranger = keccak(b"another account's key")
    book = IssuerStore(migrated, stranger)
    with pytest.raises(SealedKeyError) as e:
        book.check_secret()
    assert e.value.field == "accounts.issuer" and str(e.value).startswith("accounts.issuer: the epoch key of")
    assert f"sealed by the issuer {issuer.address}, not by this account {book.address}" in e.value.reason
    with pytest.raises(SealedKeyError):
        Issuer(stranger, book=book).epoch_key(COMMUNITY, epoch)


def test_an_altered_sealed_key_is_refused(migrated):
    issuer = new_issuer(migrated)
    issuer.add_community(COMMUNITY)
    issuer.epoch_key(COMMUNITY, blind.epoch_of(int(issuer.clock())))
    sealed = bytes(migrated.read(lambda c: c.execute(select(epoch_keys.c.sealed)).scalar()))
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    migrated.atomic(lambda c: c.execute(update(epoch_keys).values(sealed=flipped)))
    with pytest.raises(SealedKeyError, match="does not open with the key of"):
        IssuerStore(migrated, SECRET, "accounts.issuer").check_secret()


def test_two_processes_making_one_key_at_once_both_use_the_winner_s(migrated, rsa_keys):
    """Two books (two processes: nothing shared but the database) both find no key, both make one, both try
    to keep it: one insert wins, and both answer with the winner's key."""
    books = [IssuerStore(migrated, SECRET) for _ in range(2)]
    books[0].add_community(COMMUNITY)
    both_made = threading.Barrier(2)

    def make(i):
        def made():
            both_made.wait(timeout=30)  # both have read "no key" before either keeps one
            return rsa_keys[i]

        return made

    with ThreadPoolExecutor(2) as pool:
        keys = list(pool.map(lambda i: books[i].epoch_key(COMMUNITY, 7, make(i)), range(2)))
    assert keys[0] == keys[1] and keys[0] in rsa_keys
    assert IssuerStore(migrated, SECRET).epoch_key(COMMUNITY, 7, lambda: pytest.fail("made again")) == keys[0]


def test_concurrent_takes_never_pass_the_quota(migrated):
    takes_race(IssuerStore(migrated, SECRET))


def test_concurrent_takes_never_pass_the_quota_in_memory():
    takes_race(MemoryBook())


def takes_race(shelf) -> None:
    """16 threads, one token each, for one member with a quota of 5: exactly 5 counted and recorded."""
    member = Account.create().address
    shelf.add_community(COMMUNITY, [member])
    start = threading.Barrier(16)

    def take(i: int) -> bool:
        start.wait(timeout=30)
        try:
            shelf.take(IssuanceRecord(member, COMMUNITY, 1, (i + 1,), 1.0), 5)
        except OverQuota:
            return False
        return True

    with ThreadPoolExecutor(16) as pool:
        passed = list(pool.map(take, range(16)))
    assert sum(passed) == 5
    assert shelf.counts() == {(COMMUNITY, 1, member): 5} and len(shelf.records()) == 5


def test_two_concurrent_requests_of_one_member_never_both_pass(migrated):
    """Two signed requests of 3 tokens each, a quota of 4, sent at once: one answered, one refused (429)."""
    member = Account.create()
    issuer = new_issuer(migrated)
    issuer.add_community(COMMUNITY, [member.address])
    epoch = blind.epoch_of(int(issuer.clock()))
    n = issuer.epoch_key(COMMUNITY, epoch).public.n
    bodies = [body(member, epoch, [(n // 7) * k + i for k in (1, 2, 3)]) for i in range(2)]
    start = threading.Barrier(2)

    def send(b: dict) -> int:
        start.wait(timeout=30)
        try:
            issuer.issue(b)
        except IssuanceRefused as e:
            return e.status
        return 200

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(send, bodies))
    assert statuses == [200, 429]
    assert new_issuer(migrated).issued == {(COMMUNITY, epoch, member.address): 3}


def test_members_seed_once_and_the_store_stays_the_truth(migrated):
    a, b = Account.create().address, Account.create().address
    issuer = new_issuer(migrated)
    assert issuer.add_community(COMMUNITY, [a])
    assert issuer.remove(COMMUNITY, a) and not issuer.remove(COMMUNITY, a)
    again = new_issuer(migrated)
    assert not again.add_community(COMMUNITY, [a, b])  # the file is not read again: nobody comes back
    assert again.members == {COMMUNITY: set()}
    assert again.admit(COMMUNITY, b) and not again.admit(COMMUNITY, b)
    assert new_issuer(migrated).members == {COMMUNITY: {b}}


def test_a_removed_member_is_refused_and_counts_nothing(migrated):
    member = Account.create()
    issuer = new_issuer(migrated)
    issuer.add_community(COMMUNITY, [member.address])
    issuer.remove(COMMUNITY, member.address)
    with pytest.raises(IssuanceRefused) as e:
        obtain(issuer, member, 1)
    assert e.value.status == 403 and e.value.field == "identity" and issuer.issued == {} and issuer.view == []


def test_a_member_over_the_rate_limit_is_refused_naming_identity():
    now = [1000.0]
    member = Account.create()
    issuer = Issuer(SECRET, quota=64, rate=RateLimit(2, clock=lambda: now[0]))
    issuer.add_community(COMMUNITY, [member.address])
    obtain(issuer, member, 1)
    obtain(issuer, member, 1)
    with pytest.raises(IssuanceRefused) as e:
        obtain(issuer, member, 1)
    assert e.value.status == 429 and e.value.field == "identity"
    assert e.value.reason == f"{member.address} sent more than 2 issuance requests in a minute"
    assert sum(issuer.issued.values()) == 2
    now[0] += 60
    obtain(issuer, member, 1)  # a minute later: allowed again


def test_the_rate_limit_is_per_key_and_slides():
    now = [0.0]
    limit = RateLimit(3, clock=lambda: now[0])
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
    assert limit.allow("b")
    now[0] = 59.9
    assert not limit.allow("a")
    now[0] = 60.0  # the three of t = 0 are a minute old
    assert [limit.allow("a") for _ in range(4)] == [True, True, True, False]
