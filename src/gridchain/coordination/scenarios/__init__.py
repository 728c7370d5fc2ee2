"""Coordination's demos and experiments: a community's day in the model and on chain, the paper's Fig. 2.

Layer `scenarios`: composes the parties, clients and model with the shared experiment machinery; only the
feature's cli imports it.
"""
