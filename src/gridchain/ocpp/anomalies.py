"""What the central system answered but did not apply: the kinds (the frames, the message parsers and the backend
each find some) and the record kept for the operator."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gridchain.ocpp.messages.meter_values import MeterSample


class AnomalyKind(StrEnum):
    """Why the central system kept something a charge point sent apart instead of applying it."""

    CALL_ERROR = "call error"  # a CALL answered with a CallError (its code and description in `detail`)
    IGNORED_FRAME = "ignored frame"  # a frame with no CALL to answer (not JSON, no message id, unknown type...)
    BAD_VALUE = "bad value"  # a sampled value that is not a reading in range, or has a wrong unit: not stored
    CONFLICT = "conflict"  # a reading that contradicts the one kept for the same sample: not stored
    UNKNOWN_TRANSACTION = "unknown transaction"  # readings or a stop for a transaction not of this charge point
    STOPPED_AGAIN = "stopped again"  # a StopTransaction for a stopped transaction, with other values
    AFTER_STOP = "after stop"  # readings of a stopped transaction dated after its stop: not stored
    BAD_METER_STOP = "bad meter stop"  # meterStop below meterStart or above MAX_READING: the stop kept without it
    BAD_METER_START = "bad meter start"  # meterStart outside 0..MAX_READING: the transaction refused


@dataclass(frozen=True)
class Anomaly:
    """Something a charge point sent that the central system answered but did not apply, kept for the operator:
    `detail` names the field and the value; `samples` are the readings concerned, as received."""

    kind: AnomalyKind
    cp_id: str
    detail: str
    transaction_id: int | None = None
    samples: tuple[MeterSample, ...] = ()
