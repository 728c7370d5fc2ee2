"""Grid's experiment: EV sessions and household load on the feeder, scheduled slot by slot by each policy
against the transformer's headroom, swept over the EV penetration.

Layer `scenarios`: imports grid's model, coordination through its package root, the shared experiment
machinery and the kernel; only grid's cli imports it.
"""
