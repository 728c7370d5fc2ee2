"""Grid impact: coordinated versus uncontrolled EV charging on a SimBench low-voltage feeder, with a power flow
per slot (lightsim2grid's solver on pandapower's model of the net, or pandapower's own).

Feature: cli > scenarios | gas | plots > service > parties > client > model inside; schedules with
coordination's policies, imported only through gridchain.coordination (the declared direction grid ->
coordination). The market uses grid only through the names exported here; nothing else imports grid but the
root CLI.
"""

from gridchain.grid.model.network import (
    SIMBENCH_DAYS,
    SIMBENCH_LV_GRIDS,
    STEPS_PER_DAY,
    Feeder,
    Flow,
    simbench_feeder,
)

__all__ = ["SIMBENCH_DAYS", "SIMBENCH_LV_GRIDS", "STEPS_PER_DAY", "Feeder", "Flow", "simbench_feeder"]
