"""PETCON (Kang et al., IEEE TII 2017): plug-in hybrids at a hotspot trade energy through an iterative double
auction run by local aggregators, who commit the result on chain by an M-of-N committee rule.

Sub-feature of market, with the same order inside (cli > scenarios | gas | plots > service > parties > client >
model); its model is pure (numpy, and a convex solver for the optimum it is measured against).
"""
