"""The services' admin endpoints: one bearer token, read from a private file, compared in constant time.

An admin token is at least ADMIN_TOKEN_MIN_CHARS characters without spaces (`gridchain init` writes 48 random
hex digits). It never comes from argv (visible in `ps`): from a file, or for the relayer an environment variable.
"""

from __future__ import annotations

import hmac
from pathlib import Path

from gridchain.errors import InputError

ADMIN_TOKEN_MIN_CHARS = 16


def check_admin_token(field: str, token: str) -> str:
    """`token` if it is long enough and has no whitespace; an InputError naming `field` otherwise."""
    if len(token) < ADMIN_TOKEN_MIN_CHARS or any(c.isspace() for c in token):
        raise InputError(field, f"the admin token must be at least {ADMIN_TOKEN_MIN_CHARS} characters, no spaces")
    return token


def read_admin_token(field: str, path: Path) -> str:
    """The admin token held in `path` (surrounding whitespace stripped), checked; errors name `field`."""
    try:
        token = path.read_text().strip()
    except OSError as e:
        raise InputError(field, f"cannot read {str(path)!r}: {e.strerror or e}") from None
    return check_admin_token(field, token)


def bearer_ok(authorization: str | None, token: str) -> bool:
    """Whether an `Authorization` header value presents `token` as `Bearer <token>` (constant-time compare)."""
    scheme, _, presented = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.encode(), token.encode())
