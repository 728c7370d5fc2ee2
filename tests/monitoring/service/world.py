"""A small world on the embedded chain for the monitor service's tests: one household, a utility granted its
billing data, a rogue processing node, 2 of 3 consensus nodes, and the store the service reads."""

from __future__ import annotations

from dataclasses import replace

from eth_utils import keccak

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.crypto.keys import address_of
from gridchain.monitoring.consent_client import ConsentClient
from gridchain.monitoring.log_client import AccessLogClient
from gridchain.monitoring.model.consent import Grant
from gridchain.monitoring.model.records import DAY_S, Access, RecordBatch, purpose_tag
from gridchain.monitoring.parties import Attestor, ConsensusNode, DataRequest, Grantee, Household
from gridchain.monitoring.scenarios import RogueNode
from gridchain.monitoring.service import MonitorService
from gridchain.monitoring.store import AccessStore

BILLING, MARKETING = purpose_tag("billing"), purpose_tag("marketing")


def k(name: str) -> bytes:
    return keccak(text=f"monitor service test {name}")


class Days:
    def days(self, household: str, first_day: int, last_day: int) -> list[bytes]:
        return [f"{household} {d}".encode() for d in range(first_day, last_day + 1)]


NODE_KEYS = [k(f"consensus {i}") for i in range(3)]
NODES = [address_of(x) for x in NODE_KEYS]  # the access log's nodes, 2 of 3


class World:
    def __init__(self, store: AccessStore, gw=None, deployed: tuple[AccessLogClient, ConsentClient] | None = None):
        """On `gw` (the embedded chain by default), on fresh contracts or `deployed` ones (nodes NODES, m 2)."""
        self.gw = gw or BoaGateway(accounts=3)
        deployer, self.relayer, self.watcher = self.gw.accounts[:3]
        keys = NODE_KEYS
        if deployed is None:
            self.log, _ = AccessLogClient.deploy(self.gw, deployer, NODES, 2)
            self.consent, _ = ConsentClient.deploy(self.gw, deployer, self.log.address)
        else:
            self.log, self.consent = deployed
        self.store = store
        self.node = RogueNode(k("processing"), self.consent, Days(), self.gw.now)
        self.attestor = Attestor(
            self.log, self.relayer, [ConsensusNode(x, [self.node.address], self.gw.now) for x in keys]
        )
        self.house = Household(k("household"))
        self.utility = Grantee(k("utility"))
        self.today = self.gw.now() // DAY_S
        self.g = Grant(self.house.address, self.utility.address, self.today - 5, self.today - 1, BILLING,
                       self.gw.now() + 30 * DAY_S, b"\x00" * 32)  # fmt: skip
        self.gid = self.house.grant(self.consent, self.relayer, self.g)

    def request(self, purpose: bytes = BILLING) -> tuple[DataRequest, bytes]:
        return self.utility.request(self.consent.domain(), self.gid, self.today - 2, self.today - 2, purpose,
                                    self.gw.now())  # fmt: skip

    def honest(self) -> Access:
        return self.node.serve(*self.request(), self.g).record

    def breach(self) -> Access:
        """Billing data used for marketing: a breach the contract judges ("another purpose")."""
        request, _ = self.request(MARKETING)
        return self.node.serve_anyway(self.house.address, self.utility.address, request).record

    def show(self) -> None:
        """The processing node's thread into the store."""
        self.store.put_records(self.node.thread(self.house.address).records)

    def attest(self, publish: bool = True) -> RecordBatch:
        """The node's outbox attested as the next batch (and published to the store)."""
        assert self.attestor.attest(self.node.take()) is not None
        batch = self.attestor.published[-1]
        if publish:
            self.store.publish(batch)
        self.show()
        return batch

    def service(self, consent: ConsentClient | None = None, **kw) -> MonitorService:
        kw.setdefault("grace_s", 0)
        return MonitorService(consent or self.consent, self.log, self.store, self.watcher, self.gw.now, **kw)

    def breaches(self) -> list:
        return self.consent.events("Breach")

    def rewrite(self, seq: int, **change) -> Access:
        r = replace(self.node.thread(self.house.address).records[seq], **change)
        self.store.put_records([r])
        return r
