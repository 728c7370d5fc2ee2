"""The one error family of gridchain: every bad input, refusal and contract revert is one of these.

Kernel: imports nothing of gridchain.
"""

from __future__ import annotations


class InputError(ValueError):
    """A value outside the model's domain. `field` names where it is (e.g. `requests[3].soc_pm`)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)

    def within(self, prefix: str) -> InputError:
        """The same error, located under `prefix` (e.g. `[2]` or `requests[3]`)."""
        if not self.field:
            return InputError(prefix, self.reason)
        sep = "" if self.field.startswith("[") else "."
        return InputError(f"{prefix}{sep}{self.field}", self.reason)
