"""The utility's service (`gridchain utility serve`): token issuance plus the operator's member admin API.

Everything of `issuance_app` (POST /tokens, GET /keys/..., GET /health, GET /metrics), and, for the admin token's
holder only (`Authorization: Bearer <token>`; 401 without it or with another):
GET    /members              the community's members
PUT    /members/{identity}   admit an ESU identity: 201 if new, 200 if it was a member already
DELETE /members/{identity}   remove it: 200, or 404 if it was not a member
A malformed identity answers 400 {"field": "identity", ...}. A change is made in the issuer's book (the
store) before it is answered, then the list is exported (the members file).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gridchain.checks import parse_address
from gridchain.coordination.anonymous.parties.members import MemberRoll
from gridchain.coordination.anonymous.service.issuance import issuance_app
from gridchain.net.auth import ADMIN_TOKEN_MIN_CHARS, bearer_ok
from gridchain.net.health import Health


def utility_app(roll: MemberRoll, admin_token: str, health: Health | None = None) -> FastAPI:
    """Issuance for `roll.issuer` with the member admin API on `roll`; `health` as for `issuance_app`."""
    if len(admin_token) < ADMIN_TOKEN_MIN_CHARS:
        raise ValueError(f"the admin token must have at least {ADMIN_TOKEN_MIN_CHARS} characters")
    app = issuance_app(roll.issuer, health)

    def denied(request: Request) -> JSONResponse | None:
        if bearer_ok(request.headers.get("authorization"), admin_token):
            return None
        return JSONResponse(
            {"field": "authorization", "reason": "needs the utility's admin token (Bearer)"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.get("/members")
    def members(request: Request) -> JSONResponse:
        return denied(request) or JSONResponse({"community": roll.community, "members": roll.members()})

    @app.put("/members/{identity}")
    def admit(identity: str, request: Request) -> JSONResponse:
        if refusal := denied(request):
            return refusal
        identity = parse_address("identity", identity)  # InputError -> 400 naming it (issuance_app's handler)
        added = roll.add(identity)
        return JSONResponse({"identity": identity, "member": True, "changed": added}, status_code=201 if added else 200)

    @app.delete("/members/{identity}")
    def remove(identity: str, request: Request) -> JSONResponse:
        if refusal := denied(request):
            return refusal
        identity = parse_address("identity", identity)
        if not roll.remove(identity):
            return JSONResponse({"field": "identity", "reason": f"{identity} is not a member"}, status_code=404)
        return JSONResponse({"identity": identity, "member": False, "changed": True})

    return app
