"""GridMonitoring (issue 21): meter data encrypted to its household, consent on chain, every access recorded in the
household's thread and attested in batches by M-of-N consensus nodes, breaches alerted.

Feature: cli > scenarios | gas | plots > service > parties > client > model inside; uses metering and the committee
through their package roots.
"""
