"""The metering page in a real browser (Debian's chromium) against `gridchain dashboard` on a metering pilot on
anvil: the bills shown are the chain's and `gridchain metering bill`'s, a reading's proof computed by the page's
JavaScript succeeds and a tampered one fails, the page's keccak256 Merkle check agrees with the model's
(`verify_proof`, `merkle_proof`), and no page logs an error or asks anything of a host but 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import random
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from typer.testing import CliRunner

from gridchain.chain.anvil import start_anvil
from gridchain.cli import app
from gridchain.crypto import eip712
from gridchain.dashboard.app import create_app
from gridchain.dashboard.deployment import Deployment
from gridchain.dashboard.pages import metering as page_module
from gridchain.metering import model as m
from tests.dashboard.metering_pilot import ENERGY_WH, PRICES, MeteringPilot, gridchain_cli
from tests.dashboard.serve import dashboard_process
from tests.support.browser import PHONE, no_horizontal_overflow, shoot

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pilot(tmp_path_factory):
    node = start_anvil(accounts=2)
    p = None
    try:
        p = MeteringPilot(node, tmp_path_factory.mktemp("metering"))
        yield p
    finally:
        if p is not None:
            p.close()
        node.stop()


@pytest.fixture(scope="module")
def served(pilot):
    """`gridchain dashboard` on the pilot's config, as its own process; its URL."""
    with dashboard_process(pilot.config) as url:
        yield url


def values(page, selector: str) -> dict[str, str]:
    """data-field -> data-value of the cells under `selector`."""
    return page.evaluate(
        """(s) => Object.fromEntries([...document.querySelectorAll(s + ' [data-field]')].filter(e => e.dataset.value)
             .map(e => [e.dataset.field, e.dataset.value]))""",
        selector,
    )


def test_the_bills_shown_are_the_chains_and_the_bill_commands(pilot, served, page):
    page.goto(served + "/metering")
    now = pilot.chain.now()
    settled = pilot.client.settlements(pilot.start_block)
    assert len(settled) == 1 and settled[0].energy_wh == sum(ENERGY_WH)
    cost = m.energy_cost([m.Tariff(pilot.t0, PRICES)], pilot.t0 // m.INTERVAL_S, ENERGY_WH)
    assert settled[0].cost_wei == settled[0].paid_wei == cost == pilot.settled["cost_wei"]
    for name in ("ev_owner", "host"):
        cli = gridchain_cli(pilot.config, "metering", "bill", "--party", name, "--to", now)
        shown = values(page, f'#bills tr[data-party="{cli["party"]}"]')
        assert {k: int(shown[k]) for k in ("energy_wh", "charged_wei", "unpaid_wei", "credited_wei")} == {
            k: cli[k] for k in ("energy_wh", "charged_wei", "unpaid_wei", "credited_wei")
        }
        assert int(shown["escrow_wei"]) == pilot.client.escrow(cli["party"])
        assert int(shown["credit_wei"]) == pilot.client.credit(cli["party"])
        assert httpx.get(served + "/api/metering/bill", params={"party": name, "to": now}).json() == cli
    assert pilot.client.escrow(settled[0].payer) > 0 and pilot.client.credit(settled[0].host) == cost
    # the anchored day: its root is the chain's, every reading of it in the archive
    day = pilot.t0 // m.PERIOD_S
    row = page.locator(f'#days tr[data-day="{day}"]')
    assert (
        row.locator('[data-field="root"]').get_attribute("title")
        == "0x" + pilot.client.root(pilot.meter["meter"], day).hex()
    )
    assert (
        row.locator('[data-field="count"]').text_content()
        == row.locator('[data-field="archived"]').text_content()
        == "6"
    )
    states = page.evaluate("[...document.querySelectorAll('#sessions [data-field=state]')].map(e => e.textContent)")
    assert sorted(states) == ["reserved", "settled"]
    assert values(page, f'#sessions tr[data-session="0x{settled[0].session.hex()}"]') == {
        "cost_wei": str(cost),
        "paid_wei": str(cost),
    }
    assert "✓ now" in page.text_content("#tariffs [data-field=in_force]")
    shoot(page, "metering")
    page.click(f'#bills tr[data-party="{settled[0].payer}"] a')
    page.wait_for_selector("#bill-lines")
    cli = gridchain_cli(pilot.config, "metering", "bill", "--party", "ev_owner")
    assert {k: int(v) for k, v in values(page, "#bill-totals").items()} == {
        k: cli[k] for k in ("energy_wh", "charged_wei", "unpaid_wei", "credited_wei")
    }
    line = values(page, "#bill-lines tbody tr")
    assert {k: int(v) for k, v in line.items()} == {k: cli["sessions"][0][k] for k in line}
    shown_prices = page.evaluate("[...document.querySelectorAll('#bill-tariff td')].map(td => td.dataset.value)")
    assert shown_prices == [str(p) for p in cli["tariff"]["prices_wei_per_kwh"]] == [str(p) for p in PRICES]
    shoot(page, "metering-bill")


def prove(page, text: str | None = None) -> str:
    """Submit the proof form (with `text` in the box, if given); the verdict the page shows."""
    if text is not None:
        page.fill("#reading-json", text)
    page.evaluate("(e => { e.textContent = ''; e.className = ''; })(document.getElementById('proof-result'))")
    page.click("#prove-button")
    page.wait_for_selector("#proof-result.ok, #proof-result.bad")  # a verdict, either way
    return page.text_content("#proof-result")


def test_a_reading_proves_in_the_page_and_a_tampered_one_does_not(pilot, served, page):
    page.goto(served + "/metering")
    page.wait_for_selector("#proof-form[data-ready=true]")
    page.select_option("#reading-pick", "2")
    picked = json.loads(page.input_value("#reading-json"))
    day = picked["intervalStart"] // m.PERIOD_S
    on_chain = "0x" + pilot.client.root(picked["meter"], day).hex()
    assert prove(page) == "✓ The reading matches the root on chain."
    assert page.text_content("#proof-onchain") == page.text_content("#proof-recomputed") == on_chain
    leaf = eip712.digest(pilot.domain, m.Reading(picked["meter"], picked["intervalStart"], picked["activeWh"], 0))
    assert page.text_content("#proof-leaf") == "0x" + leaf.hex()
    assert page.locator("#proof-path tbody tr").count() == 1 + 3  # the leaf, then 6 leaves: 3 levels
    shoot(page, "metering-proof")

    tampered = {**picked, "activeWh": picked["activeWh"] + 1}
    verdict = prove(page, json.dumps(tampered))
    recomputed = page.text_content("#proof-recomputed")
    assert verdict == f"✗ The reading does not match the root on chain: recomputed {recomputed}, on chain {on_chain}."
    assert recomputed != on_chain and recomputed.startswith("0x") and len(recomputed) == 66

    # `gridchain meter prove --json`'s output pasted as it is (snake-case names) proves too
    archive = pilot.config.parent / "readings.json"
    gridchain_cli(pilot.config, "metering", "anchor", "--archive", archive)
    r = CliRunner().invoke(
        app,
        [
            "meter",
            "prove",
            "--archive",
            str(archive),
            "--meter",
            picked["meter"],
            "--interval-start",
            str(picked["intervalStart"]),
            "--rpc-url",
            pilot.url,
            "--json",
        ],
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["verified_on_chain"] is True, r.output
    assert prove(page, r.stdout) == "✓ The reading matches the root on chain."
    assert prove(page, "{not json").startswith("✗ reading: not JSON")
    assert (
        prove(page, json.dumps({**picked, "meter": "0x12"}))
        == '✗ meter: "0x12" is not an address (0x and 40 hex digits)'
    )


def test_the_pages_merkle_check_agrees_with_the_models(pilot, served, page):
    """The page's JavaScript (leaf, path) and the model's Python (digest, merkle_proof, verify_proof) on the same
    readings and on random trees of 1..9 leaves: the same leaves, the same nodes, the same verdicts."""
    page.goto(served + "/metering")
    page.wait_for_selector("#proof-form[data-ready=true]")
    js = """async ([domain, readings, trees]) => {
      const noble = {sha3: await import('/static/vendor/noble-hashes/sha3.js'),
                     utils: await import('/static/vendor/noble-hashes/utils.js')};
      const v = (await import('/static/metering.js')).verifier(noble);
      return {leaves: readings.map(r => v.leaf(domain, r)),
              paths: trees.map(([leaf, proof]) => v.path(leaf, proof).map(step => step[1]))};
    }"""
    readings = [m.Reading(pilot.meter["meter"], pilot.t0 + i * m.INTERVAL_S, 400 + i, i) for i in range(5)]
    rng = random.Random(18)
    trees = []
    for n in range(1, 10):
        leaves = [rng.randbytes(32) for _ in range(n)]
        for i in range(n):
            trees.append((leaves, i, m.merkle_proof(leaves, i)))
    domain = {
        "name": m.DOMAIN_NAME,
        "version": m.DOMAIN_VERSION,
        "chainId": pilot.client.chain_id(),
        "contract": pilot.address,
    }
    out = page.evaluate(
        js,
        [
            domain,
            [r.message() for r in readings],
            [[leaves[i].hex(), ["0x" + p.hex() for p in proof]] for leaves, i, proof in trees],
        ],
    )
    assert out["leaves"] == [eip712.digest(pilot.domain, r).hex() for r in readings]
    for (leaves, i, proof), nodes in zip(trees, out["paths"], strict=True):
        root = m.merkle_root(leaves)
        assert (bytes.fromhex(nodes[-1]) if nodes else leaves[i]) == root
        assert m.verify_proof(proof, root, leaves[i])
        node = leaves[i]
        for sibling, shown in zip(proof, nodes, strict=True):
            node = m.hash_pair(node, sibling)
            assert shown == node.hex()
    # a tampered leaf: neither side reaches the root
    leaves, i, proof = trees[-1]
    bad = bytes([leaves[i][0] ^ 1]) + leaves[i][1:]
    tampered = page.evaluate(js, [domain, [], [[bad.hex(), ["0x" + p.hex() for p in proof]]]])["paths"][0]
    assert not m.verify_proof(proof, m.merkle_root(leaves), bad) and bytes.fromhex(tampered[-1]) != m.merkle_root(
        leaves
    )


def test_the_page_fits_a_phone_and_is_usable_by_keyboard(served, page):
    page.set_viewport_size(PHONE)
    page.goto(served + "/metering")
    page.wait_for_selector("#proof-form[data-ready=true]")
    assert no_horizontal_overflow(page)
    page.focus("#reading-pick")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")  # to the text box
    page.keyboard.press("Tab")  # to the button
    assert page.evaluate("document.activeElement.id") == "prove-button"
    page.keyboard.press("Enter")
    page.wait_for_selector("#proof-result.ok")
    assert no_horizontal_overflow(page)


def test_without_the_browsers_keccak_the_page_says_what_to_run(pilot, monkeypatch):
    monkeypatch.setattr(page_module, "VENDOR", ("no-such-file.js",))
    deployment = Deployment.open(pilot.config)
    try:
        with ThreadPoolExecutor(1) as pool:  # off Playwright's thread, whose event loop may be running
            html = pool.submit(asyncio.run, _get(create_app(deployment), "/metering")).result().text
    finally:
        deployment.close()
    assert 'id="vendor-missing"' in html and "run <code>make setup</code>" in html
    assert "/static/metering.js" not in html and 'id="prove-button" disabled' in html


def test_a_deployment_without_metering_says_what_to_deploy(dashboard):
    """The community pilot's dashboard (conftest's `dashboard`): no metering contract in its record."""
    r = httpx.get(dashboard + "/metering")
    assert r.status_code == 200 and "no metering contract deployed (gridchain deploy metering)" in r.text
    r = httpx.get(dashboard + "/api/metering/proof", params={"meter": "0x" + "11" * 20, "interval_start": 900})
    assert r.status_code == 404 and "metering: no metering contract deployed" in r.text


async def _get(asgi_app, path: str) -> httpx.Response:
    """One request to the app in this process (no server)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi_app), base_url="http://127.0.0.1") as c:
        return await c.get(path)


@pytest.mark.parametrize(
    "path, status, message",
    [
        ("/api/metering/proof?meter=xyz&interval_start=900", 422, "meter: "),
        (
            "/api/metering/proof?meter=0x" + "11" * 20 + "&interval_start=901",
            422,
            "interval_start: 901 is not a multiple of 900",
        ),
        ("/api/metering/proof?meter=0x" + "11" * 20 + "&interval_start=-1", 422, "interval_start"),
        ("/api/metering/bill?party=nobody", 422, "party: 'nobody' is neither an account name"),
        ("/api/metering/bill?party=ev_owner&from=10&to=5", 422, "to: 5 is not after from 10"),
        ("/api/metering/bill?party=ev_owner&from=x", 422, "from"),
        ("/metering/bill", 422, "party"),
    ],
)
def test_bad_input_to_a_route_names_the_field(served, path, status, message):
    r = httpx.get(served + path)
    assert r.status_code == status and message in r.text, r.text


def test_a_reading_not_in_the_archive_has_the_chains_root_and_no_path(pilot, served):
    r = httpx.get(
        served + "/api/metering/proof", params={"meter": pilot.meter["meter"], "interval_start": pilot.t0 - 900}
    )
    body = r.json()
    assert r.status_code == 200 and body["archive"] is None and "holds no reading" in body["note"]
    assert body["root"] == "0x" + pilot.client.root(pilot.meter["meter"], pilot.t0 // m.PERIOD_S).hex()


@pytest.mark.parametrize(
    "wei, shown",
    [(None, "-"), (0, "0"), (20 * 10**15, "20,000"), (711_700_000_000_000, "711.7"), (1, "0.000000000001")],
)
def test_money_is_shown_exactly_in_micro_eth(wei, shown):
    assert page_module.ueth(wei) == shown
