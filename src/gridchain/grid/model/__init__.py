"""Grid's model: a feeder (SimBench's, as a pandapower net) with its base load, and the power flow that gives its
loading and voltages; no chain.

Layer `model`: imports only the kernel, crypto and libraries such as numpy and pandapower; the rest of grid
builds on it.
"""
