"""The `[community.capacity]` section: where the utility's C - P_R comes from, one source per community.

```toml
[community.capacity]
source = "constant"           # constant | csv | simbench (and whatever else the CLI's registry holds)
capacity_w = 50000            # constant: every slot [W]
# file = "capacity.csv"       # csv: a step schedule, rows utc_time,capacity_w (gridchain.coordination.parties.capacity)
```

A source is built by a factory `(section) -> CapacitySource` that reads its own keys from the section. The
root CLI collects every feature's `CAPACITY_SOURCES` into one registry (grid adds `simbench`), so coordination
never imports the features that compute a capacity.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gridchain.config.file import Config, Section
from gridchain.coordination.parties.capacity import MAX_CAPACITY_W, CapacitySource, ConstantCapacity, read_schedule
from gridchain.errors import InputError

CapacityFactory = Callable[[Section], CapacitySource]
SECTION = "community.capacity"


def constant_source(section: Section) -> CapacitySource:
    return ConstantCapacity(section.int("capacity_w", 0, MAX_CAPACITY_W))


def csv_source(section: Section) -> CapacitySource:
    return read_schedule(section.option("file"), section.path("file"))


CAPACITY_SOURCES: dict[str, CapacityFactory] = {"constant": constant_source, "csv": csv_source}


def capacity_source(config: Config, sources: Mapping[str, CapacityFactory]) -> CapacitySource:
    """The source `[community.capacity]` names, built by its factory from the section's other keys."""
    if not config.has(SECTION):
        raise InputError(SECTION, f'{config.path} has no [{SECTION}] section (e.g. source = "constant")')
    section = config.section(SECTION)
    name = section.str("source", choices=tuple(sources))
    source = sources[name](section)
    section.done()
    return source
