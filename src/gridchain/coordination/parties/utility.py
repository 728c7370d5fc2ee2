"""The utility: owns a community's coordinator, admits its ESUs, posts each slot's capacity C - P_R."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gridchain.chain.gateway import Gateway, Receipt
from gridchain.coordination.client import CoordinatorClient


@dataclass
class Utility:
    client: CoordinatorClient
    account: str

    @classmethod
    def deploy(
        cls, gateway: Gateway, account: str, start_time: int, slot_length_s: int, beta1_pm: int, capacity_w: int
    ) -> tuple[Utility, Receipt]:
        client, receipt = CoordinatorClient.deploy(gateway, account, start_time, slot_length_s, beta1_pm, capacity_w)
        return cls(client, account), receipt

    def admit(self, members: Iterable[str]) -> list[Receipt]:
        """The non-anonymous mode: one member-list entry per ESU account (one request per slot each)."""
        return [self.client.set_member(self.account, m) for m in members]

    def limit_requests(self, member: str, limit: int) -> Receipt:
        """How many requests `member` may submit per slot (e.g. a depot with several chargers behind one account)."""
        return self.client.set_request_limit(self.account, member, limit)

    def register_epoch_key(self, epoch: int, modulus: bytes) -> Receipt:
        """The anonymous mode: the public key under which this community's tokens for `epoch` are signed."""
        return self.client.register_epoch_key(self.account, epoch, modulus)

    def post_capacity(self, slot: int, capacity_w: int) -> Receipt:
        return self.client.post_capacity(self.account, slot, capacity_w)
