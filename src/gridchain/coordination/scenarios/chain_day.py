"""A day of one community on a chain: the utility posts capacity, ESUs submit as they arrive, the keeper
closes each slot, and every ESU verifies its allocations. Runs on any gateway (embedded or JSON-RPC)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from eth_account import Account

from gridchain.chain.gateway import ChainRevert, Gateway
from gridchain.chain.locked import LockedGateway
from gridchain.coordination.anonymous.parties.issuer import Issuer, TokenWallet
from gridchain.coordination.anonymous.parties.relayer import Relayer
from gridchain.coordination.anonymous.service.issuance import (
    IssuanceClient,
    issuance_app,
)
from gridchain.coordination.anonymous.service.relayer import RelayerClient, relayer_app
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.multislot import capacity_at
from gridchain.coordination.model.request import DEFAULT_BETA1_PM, PM
from gridchain.coordination.model.verify import verify_slots
from gridchain.coordination.parties.esu import Esu
from gridchain.coordination.parties.keeper import Keeper
from gridchain.coordination.parties.utility import Utility
from gridchain.coordination.parties.verifier import fetch_records
from gridchain.coordination.scenarios.community_day import CommunityDay
from gridchain.crypto import blind
from gridchain.net.server import LoopbackServer

SLOT_LENGTH_S = 3600
FIRST_ACCOUNTS = 2  # the utility and the keeper; ESUs use the accounts after them


@dataclass
class ChainDayResult:
    address: str
    gateway: str
    slots: list[dict[str, int]] = field(default_factory=list)  # per closed slot: the SlotClosed event + gas
    esus: list[dict[str, object]] = field(default_factory=list)  # per ESU: its request, story and verdict
    gas: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # per transaction kind
    mismatches: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        granted = sum(s["granted_w"] for s in self.slots)
        required = sum(int(e["required_wh"]) for e in self.esus)
        return {
            "requests": len(self.esus),
            "slots": len(self.slots),
            "energy_required_wh": required,
            "energy_granted_wh": granted,
            "deferred": sum(s["carried"] for s in self.slots),
            "expired": sum(s["expired"] for s in self.slots),
            "esus_verified": sum(1 for e in self.esus if e["verified"]),
            "mismatches": len(self.mismatches),
            "gas": {
                kind: {"transactions": len(g), "total": sum(g), "mean": sum(g) // len(g)}
                for kind, g in sorted(self.gas.items())
            },
        }


def accounts_needed(day: CommunityDay) -> int:
    return FIRST_ACCOUNTS + day.esus


MODES = ("anonymous", "members")
TOKENS_PER_EPOCH = 4


def run(
    gateway: Gateway,
    day: CommunityDay,
    beta1_pm: int = DEFAULT_BETA1_PM,
    progress: Callable[[str], None] | None = None,
    mode: str = "anonymous",
) -> ChainDayResult:
    """Play the day slot by slot until every request is served or expired. Needs a development chain
    (it moves the clock) and `accounts_needed(day)` funded accounts.

    mode "anonymous": ESUs get blind tokens from the utility's issuance service and send requests signed by
    one-time pseudonyms to the relayer service (both HTTP on 127.0.0.1), which submits them in batches; the
    ESU accounts never touch the chain. mode "members": each ESU submits from its member account."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if len(gateway.accounts) < accounts_needed(day):
        raise ValueError(f"the chain offers {len(gateway.accounts)} accounts; this day needs {accounts_needed(day)}")
    if mode == "anonymous":
        with AnonymousServices(LockedGateway(gateway)) as services:
            return _run(services.gateway, day, beta1_pm, progress, services)
    return _run(gateway, day, beta1_pm, progress, None)


class AnonymousServices:
    """The utility's issuance service and a relayer, each on its own loopback port, for one day."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.issuer = Issuer(bytes(Account.create().key), quota=TOKENS_PER_EPOCH)
        self.issuance = LoopbackServer(issuance_app(self.issuer))
        self.relayer: Relayer | None = None
        self.relayer_server: LoopbackServer | None = None

    def start_relayer(self, client: CoordinatorClient, account: str) -> RelayerClient:
        self.relayer = Relayer(client, account, rng=random.Random(0))
        self.relayer_server = LoopbackServer(relayer_app(self.relayer)).start()
        return RelayerClient(self.relayer_server.url)

    def __enter__(self) -> AnonymousServices:
        self.issuance.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.issuance.stop()
        if self.relayer_server is not None:
            self.relayer_server.stop()


def _run(
    gateway: Gateway,
    day: CommunityDay,
    beta1_pm: int,
    progress: Callable[[str], None] | None,
    services: AnonymousServices | None,
) -> ChainDayResult:
    play = _ChainDay(gateway, day, beta1_pm, services)
    slot = 0
    while slot < len(day.arrivals) or play.client.view("carry_count"):  # arrivals to come, or requests carried
        play.slot(slot)
        if progress is not None:
            progress(f"slot {slot} closed")
        slot += 1
    return play.verify()


@dataclass
class _Anonymous:
    """The ESUs' side of the anonymous mode: their token wallets, the issuance and the relayer clients."""

    wallets: dict[str, TokenWallet]
    issuance: IssuanceClient
    relayer: RelayerClient


class _ChainDay:
    """One day being played: the deployed coordinator, the parties, the ESUs and the result so far."""

    def __init__(self, gateway: Gateway, day: CommunityDay, beta1_pm: int, services: AnonymousServices | None) -> None:
        utility_account, keeper_account, *esu_accounts = gateway.accounts
        self.gateway, self.day, self.services = gateway, day, services
        self.start = gateway.now()
        self.utility, receipt = Utility.deploy(
            gateway, utility_account, self.start, SLOT_LENGTH_S, beta1_pm, day.capacities[0]
        )
        self.client = self.utility.client
        self.result = ChainDayResult(self.client.address, gateway.kind)
        self.result.gas["deploy"].append(receipt.gas_used)
        self.keeper = Keeper(self.client, keeper_account)
        self.specs = [spec for batch in day.arrivals for spec in batch]
        self.anonymous: _Anonymous | None = None
        if services is None:
            self.esus = {spec.id: Esu(spec.id, self.client, account) for spec, account in zip(self.specs, esu_accounts)}
            for r in self.utility.admit(e.account for e in self.esus.values()):
                self.result.gas["set_member"].append(r.gas_used)
        else:
            self._go_anonymous(services, keeper_account)

    def _go_anonymous(self, services: AnonymousServices, keeper_account: str) -> None:
        """Long-term identities known to the utility, never used on chain; the relayer pays (the keeper's
        account). Tokens are taken ahead, all alike: the utility registers the key of every day the run
        touches, and every ESU, in a random order, takes one token for each of those days. Taking a token just
        before using it would tell the utility the slot of its holder's request (docs/privacy.md measures it)."""
        client, result = self.client, self.result
        identities = {spec.id: Account.create() for spec in self.specs}
        self.esus = {spec.id: Esu(spec.id, client, identities[spec.id].address) for spec in self.specs}
        for identity in identities.values():
            services.issuer.admit(client.address, identity.address)
        issuance = IssuanceClient(services.issuance.url)
        relayer = services.start_relayer(client, keeper_account)
        chain_id = client.chain_id()
        wallets = {i: TokenWallet(bytes(a.key), services.issuer.address, issuance) for i, a in identities.items()}
        self.anonymous = _Anonymous(wallets, issuance, relayer)
        epochs = sorted({blind.epoch_of(self.start + s * SLOT_LENGTH_S) for s in range(len(self.day.arrivals))})
        for epoch in epochs:
            modulus = issuance.modulus(client.address, epoch)
            result.gas["register_epoch_key"].append(self.utility.register_epoch_key(epoch, modulus).gas_used)
            order = list(wallets.values())
            random.Random(epoch).shuffle(order)
            for wallet in order:
                wallet.obtain(chain_id, client.address, epoch, modulus, client.epoch_key(epoch), 1)

    def slot(self, slot: int) -> None:
        """Post the slot's capacity if it changed, submit its arrivals, move the clock to its end, close it."""
        day, result = self.day, self.result
        capacity = capacity_at(day.capacities, slot)
        if slot == 0 or capacity != capacity_at(day.capacities, slot - 1):
            result.gas["post_capacity"].append(self.utility.post_capacity(slot, capacity).gas_used)
        arriving = day.arrivals[slot] if slot < len(day.arrivals) else []
        socs = [min(PM - 1, spec.energy_wh * PM // spec.battery_wh) for spec in arriving]
        if self.anonymous is None:  # the members' submissions, sent at once (pipelined on a node)
            requests = [(self.esus[s.id].account, s.required_wh, soc, s.tcc) for s, soc in zip(arriving, socs)]
            for spec, sent in zip(arriving, self.client.submit_requests(requests)):
                if isinstance(sent, ChainRevert):
                    raise sent
                result.gas["submit_request"].append(self.esus[spec.id].submitted(*sent).gas_used)
        else:
            for spec, soc_pm in zip(arriving, socs):
                wallet, relayer = self.anonymous.wallets[spec.id], self.anonymous.relayer
                self.esus[spec.id].request_anonymous(wallet, relayer, spec.required_wh, soc_pm, spec.tcc)
        if self.services is not None and arriving:
            for _tx, gas in sorted({(t.tx_hash, t.gas_used) for t in self.services.relayer.flush() if t.tx_hash}):
                result.gas["submit_requests_anonymous"].append(gas)
        self.gateway.advance_time(self.client.slot_end(slot) - self.gateway.now())
        for receipt in self.keeper.close_due():
            event = receipt.named("SlotClosed")[0].args
            result.gas["close_slot"].append(receipt.gas_used)
            result.slots.append({**event, "gas_used": receipt.gas_used})

    def verify(self) -> ChainDayResult:
        """Every ESU checks its allocations against the chain's records; the result."""
        result = self.result
        records = fetch_records(self.client)
        if self.anonymous is not None:
            for esu in self.esus.values():
                result.mismatches += esu.learn_arrival(self.anonymous.relayer, records)
            self.anonymous.issuance.close()
            self.anonymous.relayer.close()
        last = len(result.slots) - 1
        verdicts = {v.slot: v for v in verify_slots(records, last)}
        for spec in self.specs:
            esu = self.esus[spec.id]
            story = esu.story(records, last)
            problems = esu.check(story, verdicts)
            result.mismatches += problems
            result.esus.append(
                {
                    "id": spec.id,
                    "arrival": esu.arrival,
                    "slot": esu.slot,
                    "required_wh": spec.required_wh,
                    "received_wh": sum(g for _, g, _ in story),
                    "slots_pending": len(story),
                    "verified": not problems,
                }
            )
        return result
