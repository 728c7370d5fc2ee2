"""The executable specification of coordination: the coordinator contract's twin, pure (no chain, no I/O, no
clocks). Every rule the contract enforces is here in exact integer arithmetic with the same tie rules and revert
reasons, so that differential tests demand equality between this model and the chain.

Layer `model`: imports only the kernel, crypto and pure libraries such as numpy; the rest of
coordination builds on it.
"""

from gridchain.coordination.model.policies import POLICIES, SchedulingPolicy, get_policy
from gridchain.coordination.model.request import ChargingRequest, Slot
from gridchain.coordination.model.schedule import Allocation, Schedule, Status

__all__ = [
    "Allocation",
    "ChargingRequest",
    "POLICIES",
    "Schedule",
    "SchedulingPolicy",
    "Slot",
    "Status",
    "get_policy",
]
