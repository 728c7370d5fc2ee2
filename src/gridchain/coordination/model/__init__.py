"""The executable specification: pure domain types and reference algorithms (no chain, no I/O, no clocks).

Every rule a contract enforces has its twin here, in exact integer arithmetic with the same tie rules, so
that differential tests can demand equality between this model and the chain.
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
