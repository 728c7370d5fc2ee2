"""Grid impact: coordinated versus uncontrolled EV charging on a SimBench low-voltage feeder, with a power flow
(pandapower) per slot.

Feature: cli > scenarios | gas | plots > service > parties > client > model inside; schedules with
coordination's policies, imported only through gridchain.coordination (the declared direction grid ->
coordination). Nothing imports grid but the root CLI.
"""
