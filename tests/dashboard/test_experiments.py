"""The experiments page on copies of docs/figures' JSON outputs: the listing names every file (malformed ones as
such, others skipped), each result page's tables and charts hold the JSON's numbers, and no path leads out of
the results folder. No chain: the page reads files only."""

from __future__ import annotations

import json
import re
import shutil
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.dashboard.pages import Tables, file_client

FIGURES = Path(__file__).resolve().parents[2] / "docs" / "figures"
GRID = "grid_rural2_200ev_1d_s0.json"
FIG2 = "fig2_runs80_seed0_lam2-4-6-8-10-12-14-16.json"
GAS = {"gas_osaka_anvil_seed0.json": "Osaka", "gas_prague_embedded_seed0.json": "Prague"}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pilot")
    results = root / "results"
    results.mkdir()
    for name in (GRID, FIG2, *GAS):
        shutil.copy(FIGURES / name, results / name)
    (results / "grid_broken.json").write_text('{"config": {"grid": "x"},\n "series": [1, 2', encoding="utf-8")
    doc = json.loads((FIGURES / GRID).read_text())
    del doc["series"]["greedy"]["loading_pct"][5:]
    (results / "grid_short.json").write_text(json.dumps(doc), encoding="utf-8")
    (results / "notes.json").write_text('{"what": "not an experiment"}', encoding="utf-8")
    (results / "grid_rural2_200ev_1d_s0.png").write_bytes(b"\x89PNG")
    shutil.copy(FIGURES / FIG2, root / "outside.json")  # a result, but not in the folder
    (results / "link.json").symlink_to(root / "outside.json")
    return results


@pytest.fixture(scope="module")
def client(folder):
    return file_client(folder)


def load(name: str) -> dict:
    return json.loads((FIGURES / name).read_text(encoding="utf-8"))


def charts(html: str) -> dict:
    block = re.search(r'<script type="application/json" id="charts-data">(.*?)</script>', html, re.S)
    return json.loads(block.group(1))


def test_listing_names_every_file_its_kind_and_configuration(client):
    r = client.get("/experiments")
    assert r.status_code == 200
    page = Tables(r.text)
    found = {row[0][0]: [text for text, _ in row[1:]] for row in page.tables["results"]["rows"]}
    assert set(found) == {GRID, FIG2, *GAS, "grid_broken.json", "grid_short.json"}
    assert found[GRID][:2] == ["Grid impact", "1-LV-rural2--0-sw, 200 EVs, 1 day from 2016-12-09, seed 0, 7 policies"]
    assert found[FIG2][:2] == ["Fig. 2", "80 runs, seed 0, λ = 2..16, greedy, fcfs, optimal"]
    assert found["gas_osaka_anvil_seed0.json"][:2] == ["Gas report", "Osaka on anvil, seed 0"]
    for name in (GRID, FIG2, *GAS):
        assert found[name][2] == "ok"
        assert f'href="/experiments/{name}"' in r.text


def test_malformed_files_are_listed_with_what_is_wrong(client):
    page = Tables(client.get("/experiments").text)
    status = {row[0][0]: row[3][0] for row in page.tables["results"]["rows"]}
    assert status["grid_broken.json"].startswith("malformed: not JSON:")
    assert "line 2" in status["grid_broken.json"]
    assert status["grid_short.json"] == "malformed: series.greedy.loading_pct: has 5 values, expected 96"
    r = client.get("/experiments/grid_short.json")
    assert r.status_code == 200
    assert "series.greedy.loading_pct: has 5 values, expected 96" in error_of(r.text)
    assert "grid_short.json" in r.text
    assert "charts-data" not in r.text


def test_other_files_are_skipped_and_said_so(client):
    r = client.get("/experiments")
    skipped = {row[0][0]: row[1][0] for row in Tables(r.text).tables["skipped"]["rows"]}
    assert skipped == {
        "notes.json": "not the output of gridchain experiment grid, experiment fig2 or gas-report",
        "link.json": "a link out of the results folder",
    }
    assert "1 other file (not JSON, e.g. the plots) is not read: grid_rural2_200ev_1d_s0.png." in r.text


def test_grid_page_tables_and_charts_hold_the_json_numbers(client):
    doc = load(GRID)
    r = client.get(f"/experiments/{GRID}")
    assert r.status_code == 200
    page, series, policies = Tables(r.text), doc["series"], list(doc["policies"])
    assert page.row_names("summary") == ["base", *policies]
    for column, key in (
        ("peak transformer %", "peak_trafo_loading_pct"),
        ("max line %", "max_line_loading_pct"),
        ("min V p.u.", "min_vm_pu"),
        ("energy delivered", "energy_delivered"),
        ("peak EV kW", "peak_ev_kw"),
    ):
        assert page.column("summary", column) == [doc["base"][key], *(doc["policies"][p][key] for p in policies)]
    assert page.row_names("loading")[:2] == ["2016-12-09 12:00", "2016-12-09 12:15"]
    assert page.column("loading", "base %") == series["base_loading_pct"]
    assert page.column("power", "C − P_R kW") == series["capacity_kw"]
    for p in policies:
        assert page.column("loading", f"{p} %") == series[p]["loading_pct"]
        assert page.column("voltage", f"{p} min") == series[p]["min_vm_pu"]
        assert page.column("power", f"{p} kW") == series[p]["ev_kw"]
    assert page.column("sweep", "EVs") == [point["evs"] for point in doc["sweep"]]
    assert page.column("sweep", "greedy") == [point["greedy"]["energy_delivered"] for point in doc["sweep"]]
    drawn = charts(r.text)
    assert set(drawn) == {"summary", "loading", "voltage", "power", "sweep"}
    assert {t["name"]: t["y"] for t in drawn["loading"]["traces"]} == {
        "base load only": series["base_loading_pct"],
        **{p: series[p]["loading_pct"] for p in policies},
    }
    assert sorted(s["y0"] for s in drawn["voltage"]["layout"]["shapes"]) == [0.90, 0.95]  # no max in the file
    assert [s["y0"] for s in drawn["loading"]["layout"]["shapes"]] == [100]


def test_fig2_page_has_every_policy_with_its_interval(client):
    doc = load(FIG2)
    r = client.get(f"/experiments/{FIG2}")
    page, drawn = Tables(r.text), charts(r.text)
    for metric, half in (("charging_index", "ci95"), ("energy_delivered", "energy_delivered_ci95")):
        assert page.column(metric, "λ") == doc["lambdas"]
        for name, entry in doc["policies"].items():
            assert page.column(metric, f"{name} mean") == entry[metric]
            assert page.column(metric, f"{name} ± 95 %") == entry[half]
        traces = drawn[metric]["traces"]
        assert [t["y"] for t in traces] == [e[metric] for e in doc["policies"].values()]
        assert [t["error_y"]["array"] for t in traces] == [e[half] for e in doc["policies"].values()]


@pytest.mark.parametrize("name", list(GAS))
def test_gas_page_names_its_hardfork_and_shows_every_figure(client, name):
    doc = load(name)
    r = client.get(f"/experiments/{name}")
    page = Tables(r.text)
    assert re.search(rf'<strong id="hardfork">{GAS[name]}</strong>', r.text)
    assert page.row_names("targets") == list(doc["targets"])
    measured = [next(t[k] for k in ("gas", "ratio", "gas_per_request", "n") if k in t) for t in doc["targets"].values()]
    assert page.column("targets", "measured") == measured
    for section in ("coordination", "v2v", "metering", "paper"):
        rows = page.tables[f"gas-{section}"]["rows"]
        scalars = {k: v for k, v in doc[section].items() if not isinstance(v, dict)}
        assert {row[0][0]: row[1][1] for row in rows if not row[0][0].startswith("setup:")} == scalars
    sizes = sorted(int(n) for n in doc["baseline"]["knapsack"])
    assert page.column("sized-baseline", "requests") == sizes
    assert page.column("sized-baseline", "knapsack") == [doc["baseline"]["knapsack"][str(n)] for n in sizes]
    assert page.column("sized-coordination", "close_slot") == list(doc["coordination"]["close_slot"].values())
    before = doc["before_security_fixes"]["functions"]
    assert page.column("before", "after") == [f["after"] for f in before.values()]
    drawn = charts(r.text)
    bars = drawn["gas-coordination"]["traces"][0]
    assert dict(zip(bars["y"], bars["x"])) == {k: v for k, v in doc["coordination"].items() if not isinstance(v, dict)}


def test_every_chart_has_an_aria_label_and_a_table_below(client):
    for name in (GRID, FIG2, *GAS):
        html = client.get(f"/experiments/{name}").text
        page = Tables(html)
        for key in charts(html):
            div = page.ids[f"chart-{key}"]
            assert div["role"] == "img" and len(div["aria-label"]) > 20, (name, key)
            assert page.tables[key]["rows"], (name, key)


@pytest.mark.parametrize(
    "path",
    [
        "..%2Foutside.json",
        "%2E%2E%2Foutside.json",
        "%2E%2E",  # a bare ".." the client resolves itself (to /)
        "link.json",
        "nothing.json",
        "grid_rural2_200ev_1d_s0.png",
        "sub%2F..%2F" + FIG2,
        "%5C..%5Coutside.json",
    ],
)
def test_a_name_outside_the_folder_is_404_naming_the_field(client, folder, path):
    expected = f"file: {unquote(path)!r} is not a JSON file in the results folder"
    page = client.get(f"/experiments/{path}")
    assert page.status_code == 404
    assert error_of(page.text) == expected
    assert '<a href="/experiments">' in page.text  # the way back
    api = client.get(f"/api/experiments/{path}")
    assert (api.status_code, api.json()) == (404, {"detail": expected})


def error_of(html: str) -> str:
    return unescape(re.search(r'<p class="bad" role="alert" id="error">(.*?)</p>', html, re.S).group(1))


def test_an_absolute_path_is_404(client, folder):
    outside = folder.parent / "outside.json"
    r = client.get(f"/api/experiments/{outside}")  # /api/experiments//tmp/...: the value is the absolute path
    assert r.status_code == 404
    assert r.json()["detail"] == f"file: {str(outside)!r} is not a JSON file in the results folder"


def test_the_api_gives_the_listing_and_each_view(client):
    files = {f["name"]: f for f in client.get("/api/experiments").json()["files"]}
    assert files[GRID]["status"] == "ok" and files["grid_short.json"]["status"] == "malformed"
    assert files["link.json"]["status"] == "skipped"
    view = client.get(f"/api/experiments/{FIG2}").json()["view"]
    assert [s["id"] for s in view["sections"]] == ["charging_index", "energy_delivered", "fully_served"]


def test_a_missing_results_folder_is_said_on_the_page(tmp_path):
    r = file_client(tmp_path / "nowhere").get("/experiments")
    assert r.status_code == 200
    assert "The results folder does not exist yet" in r.text
