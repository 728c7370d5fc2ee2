"""The one error family of gridchain: every bad input, refusal and contract revert is one of these.

`InputError(field, reason)`: a value outside its domain, naming where it is (the CLI exits 2 with it, services
answer 400). `Refused(reason, field)`: a party or service will not do what it is asked (a token issuer, a
relayer, a charging station, an EV in mutual authentication). `ContractRevert(reason)`: a call a contract
reverts, or would revert (the twins raise the contract's exact reason, `"<contract>: <reason>"`).

Kernel: imports nothing of gridchain.
"""

from __future__ import annotations


class GridchainError(Exception):
    """The base of every error gridchain raises on purpose."""


class InputError(GridchainError, ValueError):
    """A value outside the model's domain. `field` names where it is (e.g. `requests[3].soc_pm`)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        Exception.__init__(self, f"{field}: {reason}" if field else reason)

    def within(self, prefix: str) -> InputError:
        """The same error, located under `prefix` (e.g. `[2]` or `requests[3]`)."""
        if not self.field:
            return InputError(prefix, self.reason)
        sep = "" if self.field.startswith("[") else "."
        return InputError(f"{prefix}{sep}{self.field}", self.reason)


class Refused(GridchainError):
    """A party or service refuses a request; `reason` says why, `field` (if any) names what failed."""

    def __init__(self, reason: str, field: str = "") -> None:
        self.field = field
        self.reason = reason
        Exception.__init__(self, f"{field}: {reason}" if field else reason)


class ContractRevert(GridchainError):
    """A call a contract reverts (or, raised by a twin, would revert); `reason` is its revert string."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        Exception.__init__(self, reason)
