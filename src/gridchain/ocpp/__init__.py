"""OCPP 1.6-J for the features that talk to charge points, by message: the OCPP-J frames, each message's builder
beside its parser, the central system with its backend, and a charge point with its integer meter.

Shared adapter: imports chain, crypto and the kernel at most; never net, experiments, ui, a feature or the CLI.
"""
