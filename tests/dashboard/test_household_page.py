"""The household page in a real browser (Debian's chromium) against `gridchain dashboard` on a pilot on anvil: a
wallet's anonymous requests in two slots, exported by `gridchain esu export`, uploaded; the allocations shown are
what `gridchain esu allocations` prints and what the chain recorded, the browser sends nothing secret, a request
the chain does not know is shown as such, and bad input is refused naming the field."""

from __future__ import annotations

import json

import httpx
import pytest

from gridchain.chain.anvil import start_anvil
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import request_id
from gridchain.coordination.parties.verifier import fetch_records
from gridchain.coordination.parties.wallet_public import FORMAT
from tests.dashboard.household_pilot import WALLET, Household, cli
from tests.support.browser import PHONE, no_horizontal_overflow, shoot
from tests.support.processes import kill, read_banner, start, stop

pytestmark = pytest.mark.integration
REFUSED = "Failed to load resource: the server responded with a status of 422"


@pytest.fixture(scope="module")
def house(tmp_path_factory):
    """The household's pilot: requests in two slots, three slots closed and indexed; its public view exported;
    `gridchain dashboard` on its config, started as its own process while the slots are played (`h.server`)."""
    node = start_anvil(accounts=6)
    h = server = None
    try:
        h = Household(node, tmp_path_factory.mktemp("household"))
        h.server = server = start("dashboard", "--listen", "127.0.0.1:0", "--json", config=h.config)
        h.slots = h.play()
        h.view_file = h.config.parent / "house-public.json"
        cli(["esu", "export", "--wallet", WALLET, "--out", str(h.view_file), "--config", str(h.config)])
        yield h
    finally:
        if server is not None:
            kill(server)
        if h is not None:
            h.town.close()
        node.stop()


@pytest.fixture(scope="module")
def dashboard(house):
    """The dashboard's URL."""
    url = read_banner(house.server)["url"]
    yield url
    stop(house.server)


@pytest.fixture
def page(page):
    """conftest's page, whose posts to /api/household are kept (`page.posted`)."""
    page.posted = []
    page.on("request", lambda r: page.posted.append(r.post_data) if r.url.endswith("/api/household") else None)
    return page


def kw(watts: int) -> str:
    return f"{watts / 1000:g}"


def shown_slots(page) -> list[dict[str, str]]:
    """Every row of every request's story as the page shows it: field -> text, with its arrival."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#household-result tr[data-arrival]')].map(tr => Object.assign(
             {arrival: tr.dataset.arrival}, Object.fromEntries([...tr.querySelectorAll('[data-field]')].map(td =>
             [td.dataset.field, td.textContent.trim()]))))"""
    )


def upload(page, dashboard: str, path) -> None:
    page.goto(dashboard + "/household")
    page.set_input_files("#view-file", str(path))
    page.wait_for_selector("#household-result article.request")


def test_the_export_holds_no_secret_of_the_wallet(house):
    text = house.view_file.read_text().lower()
    secrets = house.secrets()
    assert len(secrets) > 20  # identity key, keys, tokens, tickets, bodies, signatures, blinding factors
    assert [s for s in secrets if s in text] == []
    view = json.loads(text)
    assert view["format"] == FORMAT and view["chain_id"] == 31337
    assert view["community"] == house.town.client.address.lower()
    assert len(view["requests"]) == 3
    assert {k for r in view["requests"] for k in r} == {"pseudonym", "arrival", "slot", "tx"}
    assert [r["slot"] for r in view["requests"]] == [house.slots[0], house.slots[0], house.slots[1]]


def test_the_allocations_shown_are_the_wallets_and_the_chains(house, dashboard, page):
    upload(page, dashboard, house.view_file)
    shown = shown_slots(page)
    expected = json.loads(cli(["esu", "allocations", "--wallet", WALLET, "--json", "--config", str(house.config)]))
    assert expected["ok"] and len(expected["allocations"]) >= 4  # a request carried over a slot at least
    assert [(int(r["arrival"]), int(r["slot"]), r["granted_w"], r["status"]) for r in shown] == sorted(
        (a["arrival"], a["slot"], kw(a["granted_w"]), a["status"]) for a in expected["allocations"]
    )
    assert all(r["verdict"] == "✓ ok" for r in shown)
    # the chain's own records (read from the node, not the index) give the same ranks and priorities
    records = fetch_records(CoordinatorClient(house.town.gateway, house.town.client.address))
    from gridchain.coordination.model.verify import recompute

    results = recompute(records, max(records.closed))
    for r in shown:
        result = results[int(r["slot"])]
        a = next(a for a in result.schedule.allocations if a.id == request_id(int(r["arrival"])))
        assert (r["id"], r["priority"], r["rank"]) == (
            a.id,
            str(a.priority),
            f"{a.rank + 1} of {len(result.schedule.allocations)}",
        )
        assert r["granted_w"] == kw(a.granted_w)
    carried = [r for r in shown if "carried to slot" in r["why"]]
    assert carried, "no request was carried: the pilot is too generous"
    # totals and the energy table: the grants times the slot length
    length = records_slot_length(house)
    granted: dict[int, int] = {}
    for a in expected["allocations"]:
        granted[a["slot"]] = granted.get(a["slot"], 0) + a["granted_w"]
    energy = page.evaluate(
        """() => [...document.querySelectorAll('#energy tbody tr')].map(tr => Object.fromEntries(
             [...tr.querySelectorAll('[data-field]')].map(td => [td.dataset.field, td.textContent.trim()])))"""
    )
    assert [(int(e["slot"]), e["granted_w"], e["energy_kwh"]) for e in energy] == [
        (s, kw(g), f"{g * length / 3600 / 1000:.3f}") for s, g in sorted(granted.items())
    ]
    total = sum(granted.values()) * length / 3600 / 1000
    assert page.text_content('#totals [data-field="energy_kwh"]') == f"{total:.3f}"
    assert page.text_content('#totals [data-field="requests"]') == "3"
    assert page.locator("#household-chart .main-svg").count() > 0  # plotly drew the chart
    assert page.get_attribute("#household-chart", "aria-label")
    # what the browser sent: the public view's fields, nothing else and nothing secret
    assert len(page.posted) == 1
    sent = json.loads(page.posted[0])
    assert sent == json.loads(house.view_file.read_text())
    assert [s for s in house.secrets() if s in page.posted[0].lower()] == []
    shoot(page, "household")


def records_slot_length(house) -> int:
    return house.town.client.slot_clock()[1]


def test_a_file_with_more_in_it_sends_only_its_public_fields_and_an_unknown_request_is_shown(
    house, dashboard, page, tmp_path
):
    """A file with a request's key and token beside the public fields, and a request the chain never saw: the page
    sends only the public fields, and shows the stranger as not on chain beside the others."""
    view = json.loads(house.view_file.read_text())
    keys = sorted(s for s in house.secrets() if len(s) == 64)
    view["identity_key"] = keys[0]
    for i, r in enumerate(view["requests"]):
        r["key"], r["token"] = "0x" + keys[i % len(keys)], "0x" + keys[-1]
    ghost = (house.slots[1] << 32) | 999
    view["requests"].append({"pseudonym": "0x" + "11" * 20, "arrival": ghost, "slot": house.slots[1], "key": keys[0]})
    tainted = tmp_path / "tainted.json"
    tainted.write_text(json.dumps(view))
    upload(page, dashboard, tainted)
    assert len(page.posted) == 1 and [s for s in house.secrets() if s in page.posted[0].lower()] == []
    public = json.loads(house.view_file.read_text())
    public["requests"].append({"pseudonym": "0x" + "11" * 20, "arrival": ghost, "slot": house.slots[1]})
    assert json.loads(page.posted[0]) == public
    article = page.locator(f'article.request[data-arrival="{ghost}"]')
    assert article.locator('[data-field="outcome"]').text_content() == "not on chain"
    assert f"the chain holds no request {request_id(ghost)}" in article.text_content()
    assert "not spent on chain" in article.text_content()
    assert page.text_content('#totals [data-field="unknown"]') == "1"
    assert page.locator("#household-result article.request").count() == 4  # the others still shown


def test_bad_input_is_named_and_the_page_stays_usable_on_a_phone_by_keyboard(house, dashboard, page):
    page.expected_errors = [REFUSED]  # the browser logs the 422 it was given
    page.set_viewport_size(PHONE)
    view = json.loads(house.view_file.read_text())
    view["requests"][1]["arrival"] = view["requests"][1]["slot"] << 32  # k = 0: no request's number
    page.goto(dashboard + "/household")
    page.fill("#view-text", json.dumps(view))
    page.click("#view-show")
    page.wait_for_function("document.getElementById('household-error').textContent.length > 0")
    assert "requests[1].arrival: " in page.text_content("#household-error")
    page.fill("#view-text", "{not json")
    page.click("#view-show")
    page.wait_for_function("document.getElementById('household-error').textContent.includes('not JSON')")
    page.fill("#view-text", house.view_file.read_text())
    page.focus("#view-text")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "view-show"
    page.keyboard.press("Enter")
    page.wait_for_selector("#household-result article.request")
    assert page.text_content("#household-error") == ""
    assert no_horizontal_overflow(page), overflowing(page)
    assert page.evaluate("document.querySelector('label[for=view-file]') !== null")


def overflowing(page) -> list[str]:
    """The elements wider than the screen outside scroll regions (to say what breaks the layout)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')].filter(e => !e.closest('.scroll')
             && e.getBoundingClientRect().right > window.innerWidth + 1).map(e => e.tagName + '.' + e.className)"""
    )


def view_with(house, **changes) -> dict:
    view = json.loads(house.view_file.read_text())
    for path, value in changes.items():
        if path.startswith("r1_"):
            view["requests"][1][path[3:]] = value
        else:
            view[path] = value
    return view


@pytest.mark.parametrize(
    "changes, status, message",
    [
        (
            {"format": "gridchain-esu-public/0"},
            422,
            "format: \"gridchain-esu-public/0\" is not 'gridchain-esu-public/1'",
        ),
        ({"chain_id": 1}, 422, "chain_id: 1 is not this dashboard's chain (31337)"),
        ({"community": "0x" + "22" * 20}, 422, "community: 0x2222222222222222222222222222222222222222 is not this"),
        ({"community": "town"}, 422, "community: 'town' is not an address"),
        ({"requests": {}}, 422, "requests: {} is not a list"),
        ({"r1_arrival": -5}, 422, "requests[1].arrival: -5 is outside 1..18446744073709551615"),
        ({"r1_arrival": "12"}, 422, 'requests[1].arrival: "12" is not an integer'),
        ({"r1_pseudonym": "0x12"}, 422, "requests[1].pseudonym: '0x12' is not an address"),
        ({"r1_slot": 99}, 422, "requests[1].slot: 99 is not the slot of arrival"),
        ({"r1_tx": "0x12"}, 422, "requests[1].tx: expected 32 bytes, got 1"),
        ({"r1_key": "0x12"}, 422, "requests[1].key: unknown field"),
        ({"token": "0x12"}, 422, "token: unknown field"),
    ],
)
def test_bad_input_to_the_api_names_the_field_and_value(house, dashboard, changes, status, message):
    r = httpx.post(dashboard + "/api/household", json=view_with(house, **changes))
    assert r.status_code == status and message in r.json()["detail"], r.text


def test_a_body_that_is_not_a_view_is_refused(dashboard):
    r = httpx.post(dashboard + "/api/household", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"].startswith("body: not JSON"), r.text
    r = httpx.post(dashboard + "/api/household", content=b"x" * 2_000_001)
    assert r.status_code == 413 and r.json()["detail"] == "body: 2000001 bytes, at most 2000000", r.text
    twice = {"pseudonym": "0x" + "11" * 20, "arrival": 2**32 + 1}
    r = httpx.post(
        dashboard + "/api/household",
        json={"format": FORMAT, "chain_id": 31337, "community": "0x" + "11" * 20, "requests": [twice, twice]},
    )
    assert r.status_code == 422 and "requests[1].arrival: 4294967297 is listed twice (requests[0])" in r.text


def test_the_api_answers_json(house, dashboard):
    r = httpx.post(dashboard + "/api/household", json=json.loads(house.view_file.read_text()))
    assert r.status_code == 200, r.text
    state = r.json()
    assert [q["arrival"] for q in state["requests"]] == [
        q["arrival"] for q in json.loads(house.view_file.read_text())["requests"]
    ]
    assert all(q["known"] and q["spent"] for q in state["requests"])
    assert state["totals"]["requests"] == 3
