"""Anonymous requests on chain (contracts/modules/anonymous_requests.vy through the coordinator): the honest
path against the model twin, and every attack of the issue rejected with its reason and nothing recorded."""

from __future__ import annotations

import boa
import pytest
from eth.exceptions import Revert
from eth_account import Account
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gridchain.coordination.anonymous.client import (
    AnonymousRequest,
    compact,
    sign_request,
    signer_of,
    words,
)
from gridchain.coordination.model.coordinator import (
    RING,
    AnonymousSubmission,
    pack,
    submit_chain,
)
from gridchain.crypto import blind
from tests.support import exponents
from tests.support.community import Community, refused
from tests.support.events import logs
from tests.support.mirrored import fresh_traces

KEYS = [blind.PrivateKey.generate() for _ in range(3)]  # generated once: cryptography's RSA-2048 keygen


class Anonymous(Community):
    """A community with the utility's epoch key registered, minting tokens the way the ESU and the utility
    do (blind, sign blindly, unblind), and submitting through the model and the contract together (`mirror`)."""

    def __init__(self, key: blind.PrivateKey = KEYS[0]):
        super().__init__(members=0)
        self.key = key
        self.chain_id = self.c.eip712Domain()[3]
        self.model.address, self.model.chain_id = str(self.c.address), self.chain_id
        self.register(self.epoch, words(key.public.modulus_bytes))

    @property
    def epoch(self) -> int:
        return blind.epoch_of(self.start + self.c.current_slot() * self.model.slot_length)

    def snapshot(self) -> tuple:
        """The contract's storage and the balances (spent pseudonyms included), and the keys of this epoch and the
        next (each in a data contract of its own)."""
        epoch = self.epoch
        return super().snapshot(), self.c.epoch_key(epoch), self.c.epoch_key(epoch + 1)

    def register(self, epoch: int, modulus: list[int], sender=None) -> None:
        """The owner (or `sender`) registers the key of `epoch`, given as the contract takes it: 8 words."""
        sender = self.owner if sender is None else sender
        n = int.from_bytes(b"".join(w.to_bytes(32, "big") for w in modulus), "big")
        self.mirror(
            sender,
            lambda: self.model.register_epoch_key(str(sender), self.now, epoch, n),
            lambda: self.c.register_epoch_key(epoch, modulus),
        )

    def token(
        self,
        pseudonym: str,
        epoch: int | None = None,
        key: blind.PrivateKey | None = None,
        coordinator: str | None = None,
    ) -> int:
        key = key or self.key
        seed = blind.token_seed(
            self.chain_id, coordinator or str(self.c.address), self.epoch if epoch is None else epoch, pseudonym
        )
        state = blind.blind(key.public, blind.fdh(seed))
        return blind.finalize(key.public, state, blind.blind_sign(key, state.blinded))

    def request(self, demand_w=5_000, soc_pm=300, tcc=3, *, epoch=None, slot=None, token=None, account=None):
        account = account or Account.create()
        epoch = self.epoch if epoch is None else epoch
        token = self.token(account.address, epoch) if token is None else token
        slot = self.c.current_slot() if slot is None else slot
        return sign_request(account.key, self.chain_id, str(self.c.address), epoch, slot, demand_w, soc_pm, tcc, token)

    def state(self):
        slot = self.c.current_slot()
        return self.c.submit_hash(slot)

    def submit(
        self,
        requests: list[AnonymousRequest],
        batch: bool = False,
        slot: int | None = None,
        epoch: int | None = None,
        sender=None,
    ) -> list[int]:
        """Submit through the model, then the contract, from `sender` (the account sending now by default: a
        relayer's, in a `boa.env.prank`); both must agree on the outcome (arrivals, or the revert reason with
        nothing recorded), and every pseudonym is spent on chain exactly when it is in the model."""
        sender = boa.env.eoa if sender is None else sender
        first = requests[0] if requests else None
        slot = first.slot if slot is None else slot
        epoch = first.epoch if epoch is None else epoch
        subs = [
            AnonymousSubmission(
                r.pseudonym,
                signer_of(self.chain_id, str(self.c.address), r),
                r.demand_w,
                r.soc_pm,
                r.tcc,
                int.from_bytes(r.token, "big"),
            )
            for r in requests
        ]

        def chain_call():
            if batch:
                return self.c.submit_requests_anonymous(slot, epoch, [r.as_abi() for r in requests])
            return self.c.submit_request_anonymous(slot, epoch, requests[0].as_abi())

        try:
            expected, first_arrival = self.mirror(
                sender, lambda: self.model.submit_anonymous(self.now, slot, epoch, subs, batch=batch), chain_call
            )
        finally:  # refused: nothing spent that the model did not spend before (snapshot); else all of them
            assert [self.c.spent(r.pseudonym) for r in requests] == [
                r.pseudonym.lower() in self.model.spent for r in requests
            ]
        assert list(range(first_arrival, first_arrival + len(requests))) == expected
        assert self.c.submit_hash(slot) == submit_chain(self.model.submitted[slot])
        return expected


def rejected(community: Anonymous, reason: str, requests, **kw) -> None:
    with refused(f"coordinator: {reason}"):
        community.submit(requests, **kw)


@pytest.fixture
def anon():
    with boa.env.anchor():
        yield Anonymous()


# ---- the honest path ----------------------------------------------------------------------------------


def test_single_relayed_request_is_recorded_under_its_pseudonym(anon):
    request = anon.request(7_000, 120, 2)
    relayer = boa.env.generate_address()
    with boa.env.prank(relayer):  # the relayer pays; the pseudonym has no funds and never sends
        [arrival] = anon.submit([request])
    [event] = anon.events["RequestSubmitted"]
    assert event["sender"] == request.pseudonym.lower() and event["request"] == pack(7_000, 120, 2, arrival)
    assert boa.env.get_balance(request.pseudonym) == 0


def test_batch_records_every_request_in_one_event(anon):
    requests = [anon.request(1_000 * (k + 1), 100 * k, k + 1) for k in range(5)]
    arrivals = anon.submit(requests, batch=True)
    [event] = anon.events["RequestBatchSubmitted"]
    assert event["requests"] == [pack(r.demand_w, r.soc_pm, r.tcc, a) for r, a in zip(requests, arrivals)]


def test_anonymous_and_member_requests_close_together(anon):
    member = boa.env.generate_address()
    anon.set_member(member, True)
    anon.members = [member]
    Community.submit(anon, 0, 40_000, 500, 1)
    anon.submit([anon.request(90_000, 10, 1), anon.request(30_000, 900, 4)], batch=True)
    anon.to_end_of(0)
    result = anon.close(0)
    assert result.event()["requests"] == 3


def test_the_ring_refuses_anonymous_requests_while_its_word_holds_a_slot_not_closed(anon):
    """Slot 0 has a request and the keepers idle until slot RING, which shares its word: one request or a batch
    is refused with nothing spent (a batch reads the word before its requests, one request after its checks,
    in the contract as in the model); once slot 0 is closed both go through, the chain starts afresh."""
    anon.submit([anon.request()])
    anon.travel_to(anon.model.slot_end(RING - 1))
    anon.register(anon.epoch, words(anon.key.public.modulus_bytes))
    rejected(anon, "too many slots not closed", [anon.request()])
    rejected(anon, "too many slots not closed", [anon.request(), anon.request()], batch=True)
    rejected(anon, "token does not verify", [anon.request(token=12345)])  # its checks come first
    rejected(anon, "too many slots not closed", [anon.request(), anon.request(token=12345)], batch=True)
    for slot in range(RING):
        anon.close(slot)
    assert anon.submit([anon.request()]) == [(RING << 32) | 1]
    assert anon.submit([anon.request(), anon.request()], batch=True) == [(RING << 32) | 2, (RING << 32) | 3]


def test_funded_pseudonym_may_submit_its_own_request(anon):
    account = Account.create()
    request = anon.request(account=account)
    boa.env.set_balance(account.address, 10**18)
    with boa.env.prank(account.address):
        anon.submit([request])


def test_contract_token_check_agrees_with_core_blind():
    """The on-chain FDH is core.blind's: a token minted by core verifies, one for another pseudonym does not."""
    with boa.env.anchor():
        anon = Anonymous()
        a, b = Account.create(), Account.create()
        anon.submit([anon.request(account=a)])
        rejected(anon, "token does not verify", [anon.request(account=b, token=anon.token(a.address))])


# ---- attacks, each rejected with its reason and nothing recorded ------------------------------------------


def test_forged_token(anon):
    rejected(anon, "token does not verify", [anon.request(token=12345)])


def test_token_under_the_utilitys_key_for_a_message_it_never_signed(anon):
    account = Account.create()
    token = pow(blind.fdh(b"\x00" * 32), KEYS[0].d, KEYS[0].public.n)  # a real signature, on the wrong message
    rejected(anon, "token does not verify", [anon.request(account=account, token=token)])


@pytest.mark.parametrize("kind", exponents.OTHER)
def test_token_under_another_public_exponent(anon, kind):
    """The utility's modulus, the right message, a valid RSA signature under e = 65537 (the old tokens) or another
    exponent: refused, by the contract and its twin; the same pseudonym then spends with its e = 3 token."""
    account = Account.create()
    seed = blind.token_seed(anon.chain_id, str(anon.c.address), anon.epoch, account.address)
    token = exponents.sign_with(KEYS[0], exponents.exponent(KEYS[0], kind), blind.fdh(seed))
    rejected(anon, "token does not verify", [anon.request(account=account, token=token)])
    anon.submit([anon.request(account=account)])


def test_token_reused_by_the_same_pseudonym(anon):
    account = Account.create()
    anon.submit([anon.request(account=account)])
    rejected(anon, "pseudonym already used", [anon.request(9_000, account=account)])


def test_token_reused_inside_one_batch(anon):
    account = Account.create()
    requests = [anon.request(account=account), anon.request(account=Account.create()), anon.request(8, account=account)]
    rejected(anon, "pseudonym already used", requests, batch=True)


def test_token_from_another_community(anon):
    other = boa.env.generate_address()  # another community's coordinator, with its own key for the epoch
    while True:  # a token below our modulus (else the contract stops earlier: "token is not below the modulus")
        account = Account.create()
        token = anon.token(account.address, key=KEYS[1], coordinator=str(other))
        if token < anon.key.public.n:
            break
    request = anon.request(account=account, token=token)
    rejected(anon, "token does not verify", [request])
    # the same key would not help either: the message binds the community
    rejected(
        anon,
        "token does not verify",
        [anon.request(account=account, token=anon.token(account.address, coordinator=str(other)))],
    )


def test_token_from_another_epoch(anon):
    account = Account.create()
    yesterday = anon.epoch - 1
    rejected(anon, "token epoch is over", [anon.request(account=account, epoch=yesterday)])
    rejected(anon, "token epoch not begun", [anon.request(account=account, epoch=anon.epoch + 1)])
    # a token signed for another epoch under today's key, presented as today's
    rejected(
        anon, "token does not verify", [anon.request(account=account, token=anon.token(account.address, yesterday))]
    )


def test_expired_epoch_after_midnight(anon):
    request = anon.request()
    boa.env.time_travel(seconds=blind.EPOCH_SECONDS)
    anon.to_end_of(anon.c.current_slot() - 1)
    rejected(anon, "slot closed", [request])
    rejected(anon, "token epoch is over", [request], slot=anon.c.current_slot())


def test_key_never_registered(anon):
    boa.env.time_travel(seconds=blind.EPOCH_SECONDS)
    request = anon.request()
    rejected(anon, "no key registered for the epoch", [request])


def test_key_registration_rules(anon):
    n = words(KEYS[1].public.modulus_bytes)
    with refused("coordinator: caller is not the owner"):
        anon.register(anon.epoch + 1, n, sender=boa.env.generate_address())
    with refused("coordinator: epoch is over"):
        anon.register(anon.epoch - 1, n)
    with refused("coordinator: epoch key already registered"):
        anon.register(anon.epoch, n)
    with refused("coordinator: modulus is not 2048 bits"):
        anon.register(anon.epoch + 1, [0] + n[1:])
    with refused("coordinator: modulus is even"):
        anon.register(anon.epoch + 1, n[:-1] + [n[-1] - 1])
    anon.register(anon.epoch + 1, n)
    [event] = logs(anon.c, "EpochKeyRegistered")
    assert event["epoch"] == anon.epoch + 1 and list(event["modulus"]) == n
    assert anon.c.epoch_key(anon.epoch + 1) == blind.keccak(KEYS[1].public.modulus_bytes)
    assert anon.c.epoch_key(anon.epoch + 2) == b"\x00" * 32


def test_the_key_lives_in_a_data_contract_only_the_coordinator_creates(anon):
    key = anon.c.epoch_key_address(anon.epoch)
    assert boa.env.get_code(key) == b"\x00" + KEYS[0].public.modulus_bytes  # STOP, then n
    assert boa.env.get_code(anon.c.epoch_key_address(anon.epoch + 1)) == b""  # none yet for tomorrow
    # the address is CREATE2 from the coordinator with salt = epoch: no other account can put code there
    initcode_hash = keccak(bytes.fromhex("63c75543a160005261010060216004601c335afa506101016020f3"))
    expected = keccak(b"\xff" + bytes.fromhex(str(anon.c.address)[2:]) + anon.epoch.to_bytes(32, "big") + initcode_hash)
    assert key.lower() == "0x" + expected[12:].hex()
    assert anon.c.staged_key() == [0] * 8  # transient: set only while registering
    boa.env.raw_call(key, data=b"\x01\x02")  # calling it runs STOP: nothing happens, nothing reverts


def test_signature_by_another_key(anon):
    honest = anon.request()
    thief = Account.create()
    stolen = anon.request(account=thief)
    forged = AnonymousRequest(honest.pseudonym, honest.epoch, honest.slot, 99_000, 0, 1, honest.token, stolen.signature)
    rejected(anon, "signature is not the pseudonym's", [forged])


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("demand_w", 50_000, "signature is not the pseudonym's"),
        ("soc_pm", 0, "signature is not the pseudonym's"),
        ("tcc", 1, "signature is not the pseudonym's"),
        ("pseudonym", "0x" + "11" * 20, "signature is not the pseudonym's"),
        ("token", b"\x01" * 256, "token does not verify"),
        ("slot", 1, "slot not open"),
    ],
)
def test_relayer_alters_a_field(anon, field, value, reason):
    other, honest = anon.request(), anon.request(5_000, 300, 3)
    altered = AnonymousRequest(**{**honest.__dict__, field: value})
    rejected(anon, reason, [other, altered] if field != "slot" else [altered], batch=field != "slot")
    anon.submit([other, honest], batch=True)  # both still good: nothing was spent


def test_token_not_below_the_modulus(anon):
    rejected(anon, "token is not below the modulus", [anon.request(token=KEYS[0].public.n)])


def test_bad_fields_rejected_before_anything_is_spent(anon):
    rejected(anon, "demand is 0", [anon.request(0)])
    rejected(anon, "soc_pm above 999", [anon.request(soc_pm=1000)])
    rejected(anon, "tcc is 0", [anon.request(tcc=0)])
    rejected(anon, "no requests", [], batch=True, slot=anon.c.current_slot(), epoch=anon.epoch)


def test_malformed_lengths_are_refused():
    """Token and signature have fixed sizes on chain: the client refuses wrong lengths with a reason,
    and a calldata cut short reverts in the ABI decoder with nothing recorded."""
    with pytest.raises(ValueError, match="expected 256 bytes, got 255"):
        words(b"\x01" * 255)
    with pytest.raises(ValueError, match="expected a 65-byte signature, got 64"):
        compact(b"\x01" * 64)
    with boa.env.anchor():
        anon = Anonymous()
        request = anon.request()
        calldata = anon.c.submit_request_anonymous.prepare_calldata(request.slot, request.epoch, request.as_abi())
        before = anon.state()
        with pytest.raises(Revert):
            boa.env.raw_call(anon.c.address, data=calldata[:-40])
        assert anon.state() == before and not anon.c.spent(request.pseudonym)


# ---- differential: random mixes of honest and faulty requests, contract vs model ---------------------------

FAULTS = ["ok", "ok", "ok", "reuse", "forged", "other_signer", "bad_demand", "other_epoch_token"]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.lists(st.sampled_from(FAULTS), min_size=1, max_size=4), st.booleans()), min_size=1, max_size=4
    )
)
def test_random_submissions_match_the_model(plan):
    with boa.env.anchor():
        fresh_traces()  # each example deploys at the same address: its snapshots read only its own slots
        anon = Anonymous()
        used: list[Account] = []
        for faults, batch in plan:
            requests = []
            for fault in faults if batch else faults[:1]:
                account = used[0] if fault == "reuse" and used else Account.create()
                if fault == "forged":
                    requests.append(anon.request(account=account, token=7))
                elif fault == "other_signer":
                    r = anon.request(account=account)
                    requests.append(AnonymousRequest(**{**r.__dict__, "signature": anon.request().signature}))
                elif fault == "bad_demand":
                    requests.append(anon.request(0, account=account))
                elif fault == "other_epoch_token":
                    requests.append(anon.request(account=account, token=anon.token(account.address, anon.epoch + 3)))
                else:
                    requests.append(anon.request(account=account))
                used.append(account)
            anon.attempt(lambda requests=requests, batch=batch: anon.submit(requests, batch=batch), "submit")
        slot = anon.c.current_slot()
        assert anon.c.submit_hash(slot) == submit_chain(anon.model.submitted.get(slot, []))
