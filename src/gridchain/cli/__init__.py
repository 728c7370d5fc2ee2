"""The `gridchain` command line: `main` runs it; the root app and the features' registries are in `root`.

Entry point: nothing imports it. `gridchain schedule` runs its one command without importing `root`, hence
without the chain, the store or the other features (their imports take seconds; scheduling a large slot takes
less). `app`, `FEATURES` and the other names of `root` are served from here on first use.
"""

from __future__ import annotations

import os
import sys

ROOT = ("app", "experiment_app", "FEATURES", "SCHEMAS", "INDEX", "CAPACITY_SOURCES", "seams")


def main() -> None:
    if sys.argv[1:2] == ["schedule"] and "--help" not in sys.argv:  # help: the root app's, tidied by HelpGroup
        # no linear algebra here: OpenBLAS need not start its threads at numpy's import (~30 ms on 2 busy cores)
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
        from gridchain.coordination.cli.schedule_run import run_alone

        run_alone(sys.argv[2:])
    else:
        from gridchain.cli.root import app

        app()


def __getattr__(name: str) -> object:
    if name not in ROOT:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from gridchain.cli import root

    return getattr(root, name)
