"""The community page in a real browser (Debian's chromium) against `gridchain dashboard` on a pilot on anvil:
the numbers shown are the chain's, a slot closing while the page is open appears without a reload, a slot's
page explains each request's place, and no page logs an error or asks anything of a host but 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest

from gridchain.chain.events import read_events
from gridchain.coordination.client import CoordinatorClient
from gridchain.coordination.model.coordinator import request_id
from gridchain.coordination.parties.verifier import verify_range
from tests.support.browser import PHONE, no_horizontal_overflow, shoot

pytestmark = pytest.mark.integration


def kw(watts: int) -> str:
    return f"{watts / 1000:g}"


def shown_rows(page) -> dict[int, dict[str, str]]:
    """The slots table as the page shows it: slot -> field -> text."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#slots tbody tr')].map(tr => [tr.dataset.slot,
             Object.fromEntries([...tr.querySelectorAll('[data-field]')].map(td => [td.dataset.field,
             td.textContent.trim()]))]))"""
    )


def chain_closes(town) -> dict[int, dict]:
    """SlotClosed events read from the node itself (not the index), with their transactions' gas."""
    c = town.client
    events = read_events(c.gateway, c.artifact, c.address, ("SlotClosed",), town.start_block)
    return {
        e.args["slot"]: {**e.args, "tx": e.tx_hash, "gas": c.gateway.receipt(None, e.tx_hash).gas_used} for e in events
    }


def test_the_slots_shown_are_the_chains(town, dashboard, page):
    page.goto(dashboard + "/community")
    closes = chain_closes(town)
    rows = shown_rows(page)
    assert sorted(int(s) for s in rows) == sorted(closes)
    for slot, event in closes.items():
        row = rows[str(slot)]
        assert row["capacity_w"] == kw(event["capacity_w"]) and row["granted_w"] == kw(event["granted_w"])
        assert (row["requests"], row["scheduled"], row["expired"]) == tuple(
            str(event[k]) for k in ("requests", "scheduled", "expired")
        )
        assert row["partial_w"] == kw(event["partial_w"])
        assert row["gas"] == str(event["gas"]) and row["verdict"] == "✓ ok"
    verdicts = verify_range(CoordinatorClient(town.gateway, town.client.address), 0, max(closes))
    assert all(v.ok for v in verdicts)
    for v in verdicts:
        assert rows[str(v.slot)]["carried"] == str(len(v.result.carried))
    assert page.text_content("#verified") == str(len(closes)) and page.text_content("#closed") == str(len(closes))
    assert page.locator("#chart .main-svg").count() > 0  # plotly drew the chart
    shoot(page, "community")


def test_a_slot_closing_while_the_page_is_open_appears_without_a_reload(town, dashboard, page):
    page.goto(dashboard + "/community")
    page.evaluate("window.notReloaded = true")
    before = page.evaluate("document.getElementById('chart').data[1].x.length")
    slot = town.slot(6, 20_000)
    page.wait_for_selector(f'#slots tbody tr[data-slot="{slot}"]', timeout=15_000)
    assert page.evaluate("window.notReloaded") is True
    event = chain_closes(town)[slot]
    row = shown_rows(page)[str(slot)]
    assert row["granted_w"] == kw(event["granted_w"]) and row["requests"] == str(event["requests"])
    assert page.evaluate("document.getElementById('chart').data[1].x.length") == before + 1
    assert page.locator("#slots tbody tr").first.get_attribute("data-slot") == str(slot)  # newest first
    assert f"Slot {slot} closed" in page.text_content("#live")
    assert page.text_content("#closed") == str(len(chain_closes(town)))


def test_a_slots_page_gives_each_request_its_place_in_the_rules_order(town, dashboard, page):
    verdict = verify_range(CoordinatorClient(town.gateway, town.client.address), 1, 1)[0]
    page.goto(dashboard + "/community")
    page.click('#slots tbody tr[data-slot="1"] a')
    page.wait_for_selector("#allocations")
    shown = page.evaluate(
        """() => [...document.querySelectorAll('#allocations tbody tr')].map(tr =>
             [...tr.children].map(td => td.textContent.trim()))"""
    )
    expected = sorted(verdict.result.schedule.allocations, key=lambda a: a.rank)
    assert [r[1] for r in shown] == [a.id for a in expected]
    assert [(r[0], r[2], r[4], r[5]) for r in shown] == [
        (f"{a.rank + 1} of {len(expected)}", str(a.priority), kw(a.granted_w), str(a.status)) for a in expected
    ]
    carried = {request_id(w >> 112) for w in verdict.result.carried}
    for r in shown:
        assert ("carried to slot 2" in r[6]) == (r[1] in carried), r
    shoot(page, "community-slot")


def test_the_page_fits_a_phone_and_is_usable_by_keyboard(dashboard, page):
    page.set_viewport_size(PHONE)
    page.goto(dashboard + "/community")
    assert no_horizontal_overflow(page)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the first link inside the page, after the skip
    assert page.evaluate("document.activeElement.closest('main') !== null")


@pytest.mark.parametrize(
    "path, status, message",
    [
        ("/community/slots/999", 404, "slot: 999 is not closed"),
        ("/community/slots/x", 422, "slot"),
        ("/api/community?after=-2", 422, "after"),
        ("/api/community?after=x", 422, "after"),
    ],
)
def test_bad_input_to_a_route_names_the_field(dashboard, path, status, message):
    r = httpx.get(dashboard + path)
    assert r.status_code == status and message in r.text, r.text
