"""The utility's service: the member admin API (Bearer token, add and remove, exported to the members file) on
top of token issuance, and /health showing the loop on chain."""

from __future__ import annotations

import httpx
import pytest
from eth_account import Account
from eth_utils import to_checksum_address

from gridchain.coordination.anonymous.parties.issuer import Issuer
from gridchain.coordination.anonymous.parties.members import MemberRoll
from gridchain.coordination.anonymous.service.utility import utility_app
from gridchain.coordination.cli.config import read_members, write_members
from gridchain.errors import InputError
from gridchain.net.auth import bearer_ok, check_admin_token, read_admin_token
from gridchain.net.health import Health
from gridchain.net.server import LoopbackServer

COMMUNITY = to_checksum_address("0x" + "c0" * 20)
TOKEN = "an-admin-token-for-the-tests-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def utility(tmp_path):
    path = tmp_path / "members.txt"
    first = Account.create().address
    write_members(path, [first])
    issuer = Issuer(bytes(Account.create().key))
    issuer.admit(COMMUNITY, first)
    roll = MemberRoll(issuer, issuer_community(issuer), lambda ms: write_members(path, ms))
    state = {"ok": True, "alive": True, "steps": 3, "last_error": None}
    with LoopbackServer(utility_app(roll, TOKEN, Health({"duty": lambda: dict(state)}))) as server:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            yield http, roll, path, first, state


def issuer_community(issuer: Issuer) -> str:
    (community,) = issuer.members
    return community


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": TOKEN}, {"Authorization": f"Bearer {TOKEN[:-1]}x"}, {"Authorization": f"Basic {TOKEN}"}],
)
def test_admin_routes_need_the_token(utility, headers):
    http, roll, path, first, _ = utility
    before = path.read_text()
    stranger = Account.create().address
    for method, url in (("GET", "/members"), ("PUT", f"/members/{stranger}"), ("DELETE", f"/members/{first}")):
        r = http.request(method, url, headers=headers)
        assert r.status_code == 401 and r.json()["field"] == "authorization", (method, r.text)
        assert r.headers["www-authenticate"] == "Bearer"
    assert roll.members() == [first] and path.read_text() == before


def test_members_are_added_and_removed_and_saved(utility):
    http, roll, path, first, _ = utility
    new = Account.create().address
    r = http.put(f"/members/{new.lower()}", headers=AUTH)
    assert r.status_code == 201 and r.json() == {"identity": new, "member": True, "changed": True}
    assert http.put(f"/members/{new}", headers=AUTH).status_code == 200  # already one: no change
    assert sorted(read_members(path)) == sorted([first, new])  # a restart reads this file
    assert http.get("/members", headers=AUTH).json() == {"community": COMMUNITY, "members": sorted([first, new])}
    assert new in roll.issuer.members[COMMUNITY]  # issuance knows at once
    r = http.delete(f"/members/{first}", headers=AUTH)
    assert r.status_code == 200 and r.json()["member"] is False
    assert read_members(path) == [new] and first not in roll.issuer.members[COMMUNITY]
    gone = http.delete(f"/members/{first}", headers=AUTH)
    assert gone.status_code == 404 and gone.json()["field"] == "identity"
    assert not list(path.parent.glob(".members.txt.*"))  # no temporary file left behind


@pytest.mark.parametrize("bad", ["0x1234", "not-an-address", "0x" + "g" * 40])
def test_a_bad_identity_is_400_naming_it(utility, bad):
    http, roll, path, first, _ = utility
    for method in ("PUT", "DELETE"):
        r = http.request(method, f"/members/{bad}", headers=AUTH)
        assert r.status_code == 400 and r.json()["field"] == "identity", r.text
    assert read_members(path) == [first]


def test_a_failed_export_keeps_the_change_and_the_next_change_exports_it(tmp_path):
    """The book (the store, in the service) is the truth: the change is kept, the error goes up to the
    operator, and the next change rewrites the file with everything."""
    issuer = Issuer(bytes(Account.create().key))
    issuer.add_community(COMMUNITY)
    exported, disk_full = [], [True]

    def export(members):
        if disk_full[0]:
            raise OSError(28, "No space left on device")
        exported.append(members)

    roll = MemberRoll(issuer, COMMUNITY, export)
    first, second = Account.create().address, Account.create().address
    with pytest.raises(OSError):
        roll.add(first)
    assert roll.members() == [first] and exported == []
    disk_full[0] = False
    assert roll.add(second)
    assert exported == [sorted([first, second])]


def test_health_shows_the_loop_and_is_503_once_it_is_gone(utility):
    http, _, _, _, state = utility
    body = http.get("/health").json()
    assert body["ok"] and body["duty"]["alive"] and body["duty"]["steps"] == 3 and body["failed"] == []
    assert body["quota"] == 4 and body["communities"] == 1
    state.update(ok=False, alive=False, last_error="ChainRevert: coordinator: caller is not the owner")
    r = http.get("/health")
    assert r.status_code == 503 and r.json()["duty"]["last_error"].startswith("ChainRevert")
    assert r.json()["failed"] == ["duty"]


def test_no_docs_pages_but_the_openapi_schema_and_metrics(utility):
    http = utility[0]
    assert http.get("/docs").status_code == 404 and http.get("/redoc").status_code == 404
    assert "/tokens" in http.get("/openapi.json").json()["paths"]
    http.get("/members")  # 401
    text = http.get("/metrics").text
    assert 'gridchain_http_requests_total{method="GET",route="/members",status="401"} 1.0' in text
    assert 'gridchain_service_info{service="utility"} 1.0' in text


def test_admin_token_checks(tmp_path):
    with pytest.raises(InputError, match="^utility.admin_token_file: the admin token must be at least 16"):
        check_admin_token("utility.admin_token_file", "short")
    with pytest.raises(InputError, match="no spaces"):
        check_admin_token("x", "a token with spaces in it")
    with pytest.raises(InputError, match="^utility.admin_token_file: cannot read"):
        read_admin_token("utility.admin_token_file", tmp_path / "none")
    (tmp_path / "t").write_text(TOKEN + "\n")
    assert read_admin_token("f", tmp_path / "t") == TOKEN
    assert bearer_ok(f"bearer {TOKEN}", TOKEN) and not bearer_ok(None, TOKEN) and not bearer_ok("Bearer", TOKEN)
    with pytest.raises(ValueError):
        utility_app(MemberRoll(Issuer(b"\x01" * 32), COMMUNITY, lambda ms: None), "short")
