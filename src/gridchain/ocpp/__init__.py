"""OCPP 1.6-J for the features that talk to charge points: the central system and a charge point with its
integer meter.

Shared adapter: imports chain, crypto and the kernel at most; never net, experiments, ui, a feature or the CLI.
"""
