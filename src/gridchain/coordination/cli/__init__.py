"""Coordination's commands: schedule a slot, a demo day on chain, verify slots, the keeper, an ESU's wallet, the
Fig. 2 experiment.

Entry point of the coordination feature: nothing imports it but the root CLI, which mounts what its registry lists
(COMMANDS, APPS, ...: in `registry`, imported on first use of one of those names, so that `gridchain schedule`
imports its one command and not the chain), and anonymous/'s cli (`utility serve` reads the community's sections
with the parsers here).
"""

REGISTRY = ("COMMANDS", "EXPERIMENTS", "APPS", "INIT", "DEPLOY", "INDEX", "CAPACITY_SOURCES", "PLUGS")


def __getattr__(name: str) -> object:
    if name not in REGISTRY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from gridchain.coordination.cli import registry

    return getattr(registry, name)
