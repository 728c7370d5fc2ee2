"""Local energy markets: a community's prosumers trade in a sealed-bid call market per interval (commit, then
reveal; cleared off chain, verified on chain in O(n)), and PETCON's iterative double auction among plug-in
hybrids at a hotspot (petcon/), both settling in the energy coin against metered energy.

Feature: cli > scenarios | gas | plots > service > parties > client > model inside; uses the coin and metering
features through their package roots. Nothing imports market but the root CLI and the dashboard.
"""
