"""Charging coordination (Baza et al.): slot capacity C - P_R, anonymous requests, the greedy knapsack verified
on chain, the keeper, and everyone's verification.

Feature package. Inside: cli > scenarios | gas | plots > parties > client > model (anonymous/ is its own
sub-feature with the same order). Other features use coordination only through the names exported here.
"""

from gridchain.coordination.model.multislot import EsuArrival, simulate
from gridchain.coordination.model.policies import POLICIES, get_policy
from gridchain.coordination.model.request import POWER_MAX_W, ChargingRequest, Slot
from gridchain.coordination.model.schedule import Schedule

__all__ = ["POLICIES", "POWER_MAX_W", "ChargingRequest", "EsuArrival", "Schedule", "Slot", "get_policy", "simulate"]
