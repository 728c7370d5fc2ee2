import random

import pytest

from gridchain.chain.boa_gateway import BoaGateway
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import CoordinatorModel

SLOT = 3600


class Town:
    """A coordinator on the embedded chain with an owner and members, and a way to fill slots. The tests fill a
    slot from a few accounts, so each member may submit `request_limit` requests per slot (the owner sets it;
    the contract's default is one)."""

    def __init__(self, members: int = 4, capacity_w: int = 100_000, seed: int = 1, request_limit: int = 8):
        self.gateway = BoaGateway(accounts=members + 2)
        self.owner, self.keeper_account, *self.members = self.gateway.accounts
        self.client, _ = CoordinatorClient.deploy(self.gateway, self.owner, self.gateway.now(), SLOT, 500, capacity_w)
        for m in self.members:
            self.client.set_member(self.owner, m)
            self.client.set_request_limit(self.owner, m, request_limit)
        self.request_limit = request_limit
        self.rng = random.Random(seed)

    def model(self) -> CoordinatorModel:
        """The contract's twin as deployed (clock, weights, capacity, members and their limits)."""
        start, capacity_w = int(self.client.view("START_TIME")), int(self.client.view("last_capacity_w"))
        model = CoordinatorModel(start, SLOT, 500, capacity_w, self.owner, set(self.members))
        model.limits = {m: self.request_limit for m in self.members}
        return model

    def fill(self, count: int) -> list[int]:
        """Submit `count` random requests into the current slot; their arrival numbers."""
        arrivals = []
        for _ in range(count):
            sub, _ = self.client.submit_request(
                self.rng.choice(self.members),
                self.rng.randint(5_000, 60_000),
                self.rng.randint(0, 999),
                self.rng.randint(1, 4),
            )
            arrivals.append(sub.request >> 112)
        return arrivals

    def next_slot(self) -> None:
        slot = (self.gateway.now() - int(self.client.view("START_TIME"))) // SLOT
        self.gateway.advance_time(self.client.slot_end(slot) - self.gateway.now())


@pytest.fixture
def town():
    return Town()
