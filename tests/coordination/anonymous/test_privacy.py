"""The utility's best linking guess does no better than chance (Baza et al., Sections II-B, V-A, V-B, VI-C).

We play the utility with everything it has: its issuance view (`Issuer.view`: identities, blinded messages,
issuance times), the blind signatures it returned, the epoch's private key, and everything public on chain:
the relayer's transactions' calldata (pseudonyms, tokens, request fields) and the events (slot, packed
request words, arrival order). Each attack turns that into a guess identity -> on-chain request, and we
count how often the guess is right over many sessions.

A session is one community-day on a fresh embedded chain (BoaGateway): ESUS members, one token each, the
real `Issuer` and `TokenWallet` (in-process transport), `sign_request`, the `Relayer` (check, queue, shuffle,
batch per slot) and the coordinator contract; SLOTS slots of PER_SLOT requests. Two ways of obtaining
tokens: "ahead" (the utility registers the day's key on chain the day before, and every member takes its
token then, at a random time, in an order that has nothing to do with when it charges) and "just in time"
(a member takes its token just before it sends its request, as the demo did before it took tokens ahead).

Results (the numbers are in docs/privacy.md): the algebraic attack finds no relation at all between
issuances and tokens; the timing attack links at chance 1/ESUS when tokens are obtained ahead; with
just-in-time issuance the issuance time gives away the slot of the request (not which request in the slot:
the relayer's shuffle keeps that at chance 1/PER_SLOT). Two positive controls show the attacks work when the
scheme is broken: without blinding (r = 1) the algebraic attack links every token; without the relayer's
shuffle, just-in-time issuance links every request. Everything is seeded (random.Random): pseudonym keys
and blinding factors are drawn from the seeded generator by patching `Account.create` in the issuer module
and `blind.blind`'s rng; only the RSA keys come from OpenSSL, and no outcome below depends on them.
"""

from __future__ import annotations

import functools
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest
from eth_account import Account
from eth_utils import keccak, to_checksum_address

import gridchain.coordination.anonymous.parties.issuer as issuer_module
from gridchain.chain.boa_gateway import BoaGateway
from gridchain.chain.gateway import ChainRevert
from gridchain.coordination.anonymous.client import sign_request
from gridchain.coordination.anonymous.parties.issuer import (
    IssuanceError,
    IssuanceRecord,
    Issuer,
    TokenWallet,
)
from gridchain.coordination.anonymous.parties.relayer import Relayer
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import unpack
from gridchain.crypto import blind
from tests.support.linking import assert_chance, p_value

ESUS = 30
SLOTS = 3
PER_SLOT = ESUS // SLOTS
CONTROL_ESUS = 12  # the positive controls need fewer: they link (almost) everything
SLOT_S = 3600
DAY = blind.EPOCH_SECONDS
AHEAD_SEEDS = range(100, 104)  # 4 sessions x 30 requests
JUST_IN_TIME_SEEDS = range(200, 202)  # 2 sessions x 30 requests
_BLIND = blind.blind


# ---- one session -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnChain:
    """One request as anyone reads it from the chain (calldata + event)."""

    pseudonym: str
    token: int
    slot: int
    arrival: int
    demand_w: int


@dataclass
class Session:
    chain_id: int
    coordinator: str
    epoch: int
    start: int  # the coordinator's START_TIME (midnight of the epoch)
    key: blind.PrivateKey  # the utility's: it knows d
    records: list[IssuanceRecord]  # Issuer.view
    answers: dict[int, int]  # blinded z -> the blind signature z^d the utility returned
    onchain: list[OnChain]
    truth: dict[str, str] = field(default_factory=dict)  # pseudonym -> identity: the test's, never the attacker's
    slot_of: dict[str, int] = field(default_factory=dict)  # identity -> slot it charged in: the test's

    @property
    def identities(self) -> list[str]:
        return sorted({r.identity for r in self.records})


class _NoShuffle(random.Random):
    """A relayer rng that keeps batches in the order the requests arrived (the broken relayer)."""

    def shuffle(self, x: list) -> None:  # type: ignore[override]
        pass


class _NoBlinding:
    """A blinding rng whose r is always 1: z = m (the broken wallet)."""

    def randrange(self, start: int, stop: int) -> int:
        return 1


def _seeded_account(rng: random.Random) -> type[Account]:
    class SeededAccount(Account):
        @classmethod
        def create(cls, extra_entropy: str = ""):  # type: ignore[override]
            return Account.from_key(keccak(rng.randbytes(32)))

    return SeededAccount


def run_session(
    seed: int, just_in_time: bool, shuffle: bool = True, blinding: bool = True, esus: int = ESUS
) -> Session:
    rng = random.Random(seed)
    gateway = BoaGateway(accounts=2)
    gateway.advance_time(DAY - gateway.now() % DAY)  # midnight: the day before the session's day
    owner, relayer_account = gateway.accounts
    start = gateway.now() + DAY  # the coordinator starts the next midnight; its day is the tokens' epoch
    epoch = blind.epoch_of(start)
    client, _ = CoordinatorClient.deploy(gateway, owner, start, SLOT_S, 500, 1_000_000)
    now = [float(start - DAY)]
    issuer = Issuer(keccak(b"the utility %d" % seed), quota=4, clock=lambda: now[0])
    members = [Account.from_key(keccak(b"member %d %d" % (seed, i))) for i in range(esus)]
    for m in members:
        issuer.admit(client.address, m.address)
    key = issuer.epoch_key(client.address, epoch)
    modulus = key.public.modulus_bytes
    client.register_epoch_key(owner, epoch, modulus)  # a day ahead (any epoch from today on is accepted)
    chain_id, registered = client.chain_id(), client.epoch_key(epoch)

    answers: dict[int, int] = {}

    def desk(body: dict) -> dict:  # the in-process transport; the utility remembers what it answered
        answer = issuer.issue(body)
        answers.update({int(z, 16): int(s, 16) for z, s in zip(body["blinded"], answer["blind_signatures"])})
        return answer

    wallets = {m.address: TokenWallet(bytes(m.key), issuer.address, desk) for m in members}
    relayer = Relayer(client, relayer_account, rng=random.Random(seed + 1) if shuffle else _NoShuffle())
    order = [m.address for m in members]
    rng.shuffle(order)
    slot_of = {identity: i * SLOTS // esus for i, identity in enumerate(order)}
    truth: dict[str, str] = {}

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(issuer_module, "Account", _seeded_account(random.Random(seed + 2)))
        blinding_rng = random.Random(seed + 3) if blinding else _NoBlinding()
        mp.setattr(blind, "blind", functools.partial(_BLIND, rng=blinding_rng))

        def obtain(identity: str) -> None:
            wallets[identity].obtain(chain_id, client.address, epoch, modulus, registered, 1)

        if not just_in_time:  # every member takes its token yesterday, at a random time, in an unrelated order
            times = sorted(rng.uniform(start - DAY, start - 60) for _ in members)
            takers = [m.address for m in members]
            rng.shuffle(takers)
            for t, identity in zip(times, takers):
                now[0] = t
                obtain(identity)
        gateway.advance_time(start - gateway.now())
        for slot in range(SLOTS):
            senders = [i for i in order if slot_of[i] == slot]
            rng.shuffle(senders)
            offsets = sorted(rng.uniform(0, SLOT_S - 300) for _ in senders)
            for offset, identity in zip(offsets, senders):
                if just_in_time:
                    now[0] = start + slot * SLOT_S + offset
                    obtain(identity)
                pseudonym = wallets[identity].take(client.address, epoch)
                truth[pseudonym.address] = identity
                request = sign_request(
                    pseudonym.key,
                    chain_id,
                    client.address,
                    epoch,
                    slot,
                    rng.randrange(5_000, 60_000, 500),
                    rng.randrange(0, 1000),
                    rng.randint(1, 4),
                    pseudonym.token,
                )
                relayer.accept(request.to_json())
            assert {t.status for t in relayer.flush()} == {"submitted"}
            gateway.advance_time(SLOT_S)

    return Session(
        chain_id,
        client.address,
        epoch,
        start,
        key,
        list(issuer.view),
        answers,
        read_chain(gateway, client),
        truth,
        slot_of,
    )


def read_chain(gateway: BoaGateway, client: CoordinatorClient) -> list[OnChain]:
    """What anyone can read: each batch's event (slot, packed words with arrival numbers) and its calldata."""
    out = []
    for event in gateway.events(client.artifact, client.address, "RequestBatchSubmitted"):
        fn, args = gateway.transaction_input(client.artifact, event.tx_hash)
        assert fn == "submit_requests_anonymous"
        for request, word in zip(args["requests"], event.args["requests"], strict=True):
            pseudonym, demand_w, _, _, token_words, _, _ = request
            assert unpack(word).demand_w == demand_w
            token = int.from_bytes(b"".join(w.to_bytes(32, "big") for w in token_words), "big")
            arrival = unpack(word).arrival
            out.append(OnChain(to_checksum_address(pseudonym), token, event.args["slot"], arrival, demand_w))
    return out


# ---- the utility's attacks -----------------------------------------------------------------------------------


def algebraic_attack(s: Session, rng: random.Random) -> tuple[dict[str, str], int]:
    """For every issuance (z, and z^d it returned) and every on-chain token t on pseudonym p with message
    m = FDH(p): does t, m or t^e mod n equal z or z^d? A match names the identity; without one, guess
    uniformly among the members. Returns the guesses and the number of matches."""
    n, e = s.key.public.n, s.key.public.e
    derived: dict[int, str] = {}
    for record in s.records:
        for z in record.blinded:
            derived[z] = derived[s.answers[z]] = record.identity
    guesses, matches = {}, 0
    for item in s.onchain:
        m = blind.fdh(blind.token_seed(s.chain_id, s.coordinator, s.epoch, item.pseudonym))
        hit = next((derived[v] for v in (item.token, m, pow(item.token, e, n)) if v in derived), None)
        matches += hit is not None
        guesses[item.pseudonym] = hit if hit is not None else rng.choice(s.identities)
    return guesses, matches


def rank_attack(s: Session) -> dict[str, str]:
    """The k-th token issued is the k-th request to arrive on chain."""
    issued = [r.identity for r in sorted(s.records, key=lambda r: r.time) for _ in r.blinded]
    arrived = sorted(s.onchain, key=lambda o: o.arrival)
    return {o.pseudonym: identity for o, identity in zip(arrived, issued, strict=True)}


def slot_rank_attack(s: Session) -> dict[str, str]:
    """Tokens issued during slot k went to requests in slot k, matched in order within the slot; requests of
    a slot during which nothing was issued get the global rank guess."""
    issued: dict[int, list[str]] = defaultdict(list)
    for r in sorted(s.records, key=lambda r: r.time):
        issued[(int(r.time) - s.start) // SLOT_S] += [r.identity] * len(r.blinded)
    guesses = rank_attack(s)
    for slot, items in _by_slot(s.onchain).items():
        if len(issued.get(slot, [])) == len(items):
            guesses.update({o.pseudonym: i for o, i in zip(sorted(items, key=lambda o: o.arrival), issued[slot])})
    return guesses


def slot_of_identity(s: Session) -> dict[str, int]:
    """The utility's guess of the slot each member charged in: the slot its token was issued in."""
    return {r.identity: (int(r.time) - s.start) // SLOT_S for r in s.records}


def _by_slot(items: Iterable[OnChain]) -> dict[int, list[OnChain]]:
    out: dict[int, list[OnChain]] = defaultdict(list)
    for o in items:
        out[o.slot].append(o)
    return out


# ---- statistics -----------------------------------------------------------------------------------------------


def hits(sessions: list[Session], guesses: list[dict[str, str]]) -> tuple[int, int]:
    right = sum(g[p] == s.truth[p] for s, g in zip(sessions, guesses) for p in s.truth)
    return right, sum(len(s.truth) for s in sessions)


# ---- sessions, made once for the module ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def ahead() -> list[Session]:
    return [run_session(seed, just_in_time=False) for seed in AHEAD_SEEDS]


@pytest.fixture(scope="module")
def just_in_time() -> list[Session]:
    return [run_session(seed, just_in_time=True) for seed in JUST_IN_TIME_SEEDS]


# ---- (a) algebraic ------------------------------------------------------------------------------------------


def test_algebraic_attack_finds_no_relation_and_links_at_chance(ahead, just_in_time):
    sessions = ahead + just_in_time
    rng = random.Random(7)
    results = [algebraic_attack(s, rng) for s in sessions]
    assert sum(matches for _, matches in results) == 0  # z, z^d never equal t, m or t^e
    right, n = hits(sessions, [g for g, _ in results])
    assert n == len(sessions) * ESUS
    assert_chance(right, n, ESUS, "algebraic attack")


def test_positive_control_without_blinding_the_algebraic_attack_links_every_token():
    session = run_session(300, just_in_time=True, blinding=False, esus=CONTROL_ESUS)
    guesses, matches = algebraic_attack(session, random.Random(7))
    right, n = hits([session], [guesses])
    assert matches == n == right == CONTROL_ESUS
    assert p_value(right, n, CONTROL_ESUS) < 1e-12


def test_every_pairing_of_issuance_and_token_is_explained_by_some_blinding_factor(just_in_time):
    """Why the algebraic attack cannot work: for any blinded z and any token's message m there is exactly one
    r with z = m * r^e mod n (r = (z / m)^d), so the right pairing looks exactly like every wrong one."""
    s = just_in_time[0]
    n, e, d = s.key.public.n, s.key.public.e, s.key.d
    rng = random.Random(11)
    for item in rng.sample(s.onchain, 3):
        m = blind.fdh(blind.token_seed(s.chain_id, s.coordinator, s.epoch, item.pseudonym))
        for record in rng.sample(s.records, 2):
            z = record.blinded[0]
            r = pow(z * pow(m, -1, n) % n, d, n)
            assert z == m * pow(r, e, n) % n
            assert s.answers[z] == item.token * r % n  # and the blind signature is the token times that r


# ---- (b) timing ------------------------------------------------------------------------------------------------


def test_timing_attacks_link_at_chance_when_tokens_are_obtained_ahead(ahead):
    for attack in (rank_attack, slot_rank_attack):
        right, n = hits(ahead, [attack(s) for s in ahead])
        assert n == len(AHEAD_SEEDS) * ESUS
        assert_chance(right, n, ESUS, attack.__name__)
    slots = [(slot_of_identity(s)[i], s.slot_of[i]) for s in ahead for i in s.identities]
    assert all(guess < 0 for guess, _ in slots)  # every token was issued before the day began: no slot given away


def test_just_in_time_issuance_gives_away_the_slot_but_the_shuffle_hides_the_request(just_in_time):
    """The leak of taking a token just before use (the demo did, before it took tokens ahead): it tells the
    utility when its holder charges. Within the slot, the relayer's shuffle keeps the request itself at chance
    1/PER_SLOT."""
    slots = [(slot_of_identity(s)[i], s.slot_of[i]) for s in just_in_time for i in s.identities]
    assert all(guess == actual for guess, actual in slots)
    for attack in (rank_attack, slot_rank_attack):
        right, n = hits(just_in_time, [attack(s) for s in just_in_time])
        assert_chance(right, n, PER_SLOT, f"{attack.__name__} within a slot")


def test_positive_control_without_the_relayers_shuffle_just_in_time_issuance_links_every_request():
    session = run_session(301, just_in_time=True, shuffle=False, esus=CONTROL_ESUS)
    right, n = hits([session], [rank_attack(session)])
    assert right == n == CONTROL_ESUS
    assert p_value(right, n, CONTROL_ESUS // SLOTS) < 1e-6  # far above chance even knowing the slot


# ---- (c) key tagging ----------------------------------------------------------------------------------------


def test_key_tagging_is_detected_by_the_wallet_not_silent():
    """The utility tries to give one member a key of its own, so that member's tokens would stand out."""
    gateway = BoaGateway(accounts=1)
    owner = gateway.accounts[0]
    client, _ = CoordinatorClient.deploy(gateway, owner, gateway.now(), SLOT_S, 500, 1_000_000)
    epoch = blind.epoch_of(gateway.now())
    issuer = Issuer(keccak(b"the utility"), clock=lambda: float(gateway.now()))
    member = Account.from_key(keccak(b"the tagged member"))
    issuer.admit(client.address, member.address)
    # the tagging modulus is the larger, so that the utility can sign every blinded message under it
    honest, tag = sorted((blind.PrivateKey.generate() for _ in range(2)), key=lambda k: k.public.n)
    issuer.book.keys[(to_checksum_address(client.address), epoch)] = honest
    client.register_epoch_key(owner, epoch, honest.public.modulus_bytes)
    registered, chain_id = client.epoch_key(epoch), client.chain_id()
    sent: list[dict] = []

    def desk(body: dict) -> dict:
        sent.append(body)
        return issuer.issue(body)

    wallet = TokenWallet(bytes(member.key), issuer.address, desk)
    # 1. it hands the member the tagging modulus: refused before any request leaves the wallet
    with pytest.raises(IssuanceError, match="not the one registered on chain"):
        wallet.obtain(chain_id, client.address, epoch, tag.public.modulus_bytes, registered, 2)
    assert sent == [] and issuer.view == []
    # 2. it cannot register the tagging key as well: one key per epoch, never replaced
    with pytest.raises(ChainRevert, match="epoch key already registered"):
        client.register_epoch_key(owner, epoch, tag.public.modulus_bytes)
    assert client.epoch_key(epoch) == registered
    # 3. it shows the registered modulus but signs with the tagging key: the tokens do not verify
    issuer.book.keys[(to_checksum_address(client.address), epoch)] = tag
    with pytest.raises(blind.TokenError, match="blind signature out of range|does not unblind to a valid token"):
        wallet.obtain(chain_id, client.address, epoch, honest.public.modulus_bytes, registered, 2)
    assert wallet.unused == {}  # nothing kept; the member knows the utility cheated
    # under the honest key, a message has exactly one valid token (RSA is a permutation): no room for a tag
    issuer.book.keys[(to_checksum_address(client.address), epoch)] = honest
    wallet.obtain(chain_id, client.address, epoch, honest.public.modulus_bytes, registered, 1)
    [pseudonym] = wallet.unused[(to_checksum_address(client.address), epoch)]
    m = blind.fdh(blind.token_seed(chain_id, client.address, epoch, pseudonym.address))
    assert pseudonym.token == pow(m, honest.d, honest.public.n)
