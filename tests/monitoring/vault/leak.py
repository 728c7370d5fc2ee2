"""Why a gateway must not keep a day's leaves in the clear: a reading's leaf (its EIP-712 digest) hashes only
(meter, interval, activeWh, reactiveVarh), all public or guessable, so trying the plausible energies finds the
reading from its leaf in milliseconds (a household's 15-minute import is a few thousand Wh at most)."""

from __future__ import annotations

from gridchain.crypto import eip712
from gridchain.metering import model as m


def guess_reading(
    domain: eip712.Domain, meter: str, interval_start: int, leaf: bytes, max_wh: int = 20_000, max_varh: int = 0
) -> tuple[int, int] | None:
    """(activeWh, reactiveVarh) of the reading whose leaf is `leaf`, by trying every value up to the bounds."""
    for varh in range(max_varh + 1):
        for wh in range(max_wh + 1):
            if eip712.digest(domain, m.Reading(meter, interval_start, wh, varh)) == leaf:
                return wh, varh
    return None
