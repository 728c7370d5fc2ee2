"""Charging coordination (Baza et al.): each slot's capacity C - P_R, charging requests, the greedy knapsack
verified on chain, the keeper and everyone's verification; anonymous/ makes the requests anonymous.

Feature: cli > scenarios | gas | plots > service > parties > client > model inside; imports shared adapters and
the kernel, no other feature. grid and metering use coordination only through the names exported here.
"""

from gridchain.coordination.model.multislot import EsuArrival, simulate
from gridchain.coordination.model.policies import POLICIES, get_policy
from gridchain.coordination.model.request import POWER_MAX_W, ChargingRequest, Slot
from gridchain.coordination.model.schedule import Schedule

__all__ = ["POLICIES", "POWER_MAX_W", "ChargingRequest", "EsuArrival", "Schedule", "Slot", "get_policy", "simulate"]
