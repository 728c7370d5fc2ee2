"""The gas report's runner: each feature's `gas.py` is a section that measures its contracts and checks its
targets; the runner puts the sections' parts in one report, in the order of the registry it is given
(`gridchain.cli.gas_report.SECTIONS`), and adds what the security fixes of issue 14 cost.

Shared: imports no feature. A section is a module with `steps(config) -> int`, `measure(config, gateway,
progress) -> dict` (its parts of the report, in order), `targets(report) -> dict` and `show(report, console, where)`
(prints its tables in the terminal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from types import ModuleType

from gridchain.chain.gateway import Gateway
from gridchain.experiments import gas_before

BEFORE_FIXES_COMMIT = "b3d15a8"  # the last commit before issue 14's security fixes


@dataclass(frozen=True)
class GasReportConfig:
    """One report's configuration; the slot sizes are the coordination section's, kept here so that the report's
    `config` and name stay what they have been."""

    hardfork: str = "prague"
    chain: str = "embedded"  # or "anvil"
    coordination_sizes: tuple[int, ...] = (10, 50, 100, 200, 500, 1000, 10_000)  # above 1,024: in pages
    baseline_sizes: tuple[int, ...] = (10, 50, 100, 200, 500)
    seed: int = 0
    # the call market's section: clears of n orders (2,048 is the contract's bound), and lemlab's baseline on the
    # same books (105 the most it clears in one Osaka transaction, 106 the first it cannot; 500 the size)
    market_sizes: tuple[int, ...] = (100, 500, 1000, 2048)
    market_baseline_sizes: tuple[int, ...] = (50, 100, 105, 106, 500)

    @property
    def name(self) -> str:
        return f"gas_{self.hardfork}_{self.chain}_seed{self.seed}"

    @property
    def accounts(self) -> int:
        return 2 + max(self.baseline_sizes, default=0)


def steps(config: GasReportConfig, sections: Sequence[ModuleType]) -> int:
    """Progress steps of the whole report."""
    return sum(section.steps(config) for section in sections)


def run(
    config: GasReportConfig,
    gateway: Callable[[], Gateway],
    sections: Sequence[ModuleType],
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Measure every section; `gateway()` gives a fresh (embedded) chain or the same node each time."""
    report: dict = {
        "hardfork": config.hardfork,
        "chain": config.chain,
        "config": asdict(config) | {"name": config.name},
    }
    for section in sections:
        report |= section.measure(config, gateway, progress or (lambda label: None))
    report["targets"] = {}
    for section in sections:
        report["targets"] |= section.targets(report)
    before = gas_before.before_report(config.name)
    if before is not None:
        report["before_security_fixes"] = {
            "commit": BEFORE_FIXES_COMMIT,
            "functions": gas_before.compare(report, before),
        }
    return report
