"""Shared experiment machinery: statistics, plotting helpers, and the gas report's runner, which runs the
sections (each feature's gas.py) that the CLI's registry hands it.

Shared adapter: imports ocpp, net, chain, crypto and the kernel at most; never ui, a feature or the CLI. A
feature's own experiment lives in its scenarios, gas and plots.
"""
