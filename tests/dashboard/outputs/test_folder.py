"""The results folder: a name resolves only to a file inside it, each file is read once per modification, and a
malformed file becomes an error naming the field (every kind checked field by field), never an exception."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from gridchain.dashboard.outputs import folder as folder_module
from gridchain.dashboard.outputs.folder import ResultsFolder

FIGURES = Path(__file__).resolve().parents[3] / "docs" / "figures"
GRID = "grid_rural2_200ev_1d_s0.json"
FIG2 = "fig2_runs80_seed0_lam2-4-6-8-10-12-14-16.json"
GAS = "gas_osaka_anvil_seed0.json"


@pytest.fixture
def results(tmp_path) -> Path:
    root = tmp_path / "results"
    root.mkdir()
    for name in (GRID, FIG2, GAS):
        shutil.copy(FIGURES / name, root / name)
    return root


def test_names_resolve_only_inside_the_folder(results, tmp_path):
    (tmp_path / "secret.json").write_text("{}")
    (results / "out.json").symlink_to(tmp_path / "secret.json")
    (results / "in.json").symlink_to(results / FIG2)
    (results / "sub").mkdir()
    (results / "sub" / "deep.json").write_text("{}")
    folder = ResultsFolder(results)
    assert folder.path_of(FIG2) == results.resolve() / FIG2
    assert folder.path_of("in.json") == results.resolve() / "in.json"  # a link that stays inside
    bad = ["", ".", "..", "../secret.json", str(tmp_path / "secret.json"), "out.json", "sub", "sub/deep.json"]
    bad += ["..\\secret.json", "nothing.json", "a\x00.json"]
    assert [name for name in bad if folder.path_of(name) is not None] == []


def test_each_file_is_read_once_per_modification(results, monkeypatch):
    loads = []
    real = folder_module.load
    monkeypatch.setattr(folder_module, "load", lambda *a: loads.append(a[0]) or real(*a))
    folder = ResultsFolder(results)
    first = folder.read(FIG2)
    assert folder.read(FIG2) is first
    folder.listing()
    folder.listing()
    assert sorted(loads) == sorted([FIG2, GRID, GAS])
    doc = json.loads((results / FIG2).read_text())
    doc["runs"] = 7
    (results / FIG2).write_text(json.dumps(doc))
    stat = (results / FIG2).stat()
    os.utime(results / FIG2, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = folder.read(FIG2)
    assert again is not first and again.configuration.startswith("7 runs")
    assert loads.count(FIG2) == 2


def test_a_removed_file_leaves_the_listing(results):
    folder = ResultsFolder(results)
    assert len(folder.listing()) == 3
    (results / GAS).unlink()
    assert [r.name for r in folder.listing()] == [FIG2, GRID]
    assert folder.read(GAS) is None


def _set(doc: dict, path: tuple, value) -> None:
    for key in path[:-1]:
        doc = doc[key]
    if value is KeyError:
        del doc[path[-1]]
    else:
        doc[path[-1]] = value


@pytest.mark.parametrize(
    "name, path, value, error",
    [
        (GRID, ("series", "fcfs", "min_vm_pu", 3), "low", "series.fcfs.min_vm_pu[3]: is a string, not a number"),
        (GRID, ("series", "capacity_kw"), {}, "series.capacity_kw: is an object, not a list"),
        (GRID, ("series", "edf"), KeyError, "series.edf: missing"),
        (GRID, ("policies", "llf", "min_vm_pu"), True, "policies.llf.min_vm_pu: is a boolean, not a number"),
        (GRID, ("date",), "yesterday", "date: 'yesterday' is not an ISO date and time"),
        (GRID, ("slot_minutes",), 0, "slot_minutes: 0 is not positive"),
        (GRID, ("sweep", 2, "greedy"), KeyError, "sweep[2].greedy: missing"),
        (GRID, ("policies",), {}, "policies: names no policy"),
        (FIG2, ("policies", "fcfs", "ci95"), [0.1], "policies.fcfs.ci95: has 1 values, expected 8"),
        (FIG2, ("lambdas",), "2,4", "lambdas: is a string, not a list"),
        (FIG2, ("policies", "greedy", "charging_index", 0), None, "policies.greedy.charging_index[0]: is null"),
        (GAS, ("coordination", "deploy"), "a lot", "coordination.deploy: is neither gas, gas per size nor notes"),
        (GAS, ("coordination", "close_slot", "50"), [1], "coordination.close_slot.50: is not a number"),
        (GAS, ("targets", "v2v.settle"), 5, "targets.v2v.settle: is not an object"),
        (GAS, ("hardfork",), 14, "hardfork: is a number, not a string"),
        (GAS, ("v2v",), [1, 2], "v2v: is not an object of gas figures"),
    ],
)
def test_a_malformed_file_is_an_error_naming_the_field(results, name, path, value, error):
    doc = json.loads((FIGURES / name).read_text())
    _set(doc, path, value)
    (results / name).write_text(json.dumps(doc))
    result = ResultsFolder(results).read(name)
    assert result.status == "malformed"
    assert result.error.startswith(error), result.error
    assert result.view == {}


def test_a_document_that_is_not_an_object_is_malformed_by_its_name(results):
    (results / "fig2_x.json").write_text("[1, 2]")
    (results / "gas_y.json").write_text('{"hardfork": "osaka"}')
    folder = ResultsFolder(results)
    assert folder.read("fig2_x.json").error == "the document is list, not an object"
    assert folder.read("gas_y.json").error == "chain: missing"
    assert folder.read("gas_y.json").kind == "gas"
