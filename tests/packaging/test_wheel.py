"""`pip install .` gives a working gridchain: the wheel, built from a copy of the sources, installed with its
dependencies into a fresh venv, runs `gridchain demo --json` outside the repository with an empty artifact cache,
so it compiles the contracts it ships. Minutes of installing: `make package-test`, deselected by `make test`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.package]

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "src", "contracts")  # what a build reads
SHIPPED = ("*.vy", "modules/*.vy", "interfaces/*.vyi")  # contracts/ as package data; never mocks/


def run(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=900, **kwargs)


def checked(*args: str | Path, **kwargs) -> subprocess.CompletedProcess[str]:
    done = run(*args, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, args))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the checkout (no build/ or egg-info of earlier builds can leak into it)."""
    tmp = tmp_path_factory.mktemp("wheel")
    copy = tmp / "gridchain"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    copy.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=ignore)
        else:
            shutil.copy2(source, copy / name)
    checked(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp / "dist", copy)
    (built,) = (tmp / "dist").glob("gridchain-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no system site-packages) with the wheel and its dependencies (from pip's cache, mostly)."""
    env = tmp_path_factory.mktemp("venv") / "env"
    checked(sys.executable, "-m", "venv", env)
    checked(env / "bin" / "python", "-m", "pip", "install", "--quiet", "--no-compile", wheel)
    return env


@pytest.fixture
def outside(tmp_path: Path) -> dict:
    """Run from a folder outside the repository, with HOME and an empty artifact cache of its own, and no
    variable that would point the installed gridchain back at the checkout."""
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GRIDCHAIN_CONTRACTS", "VIRTUAL_ENV")}
    env |= {"HOME": str(tmp_path / "home"), "GRIDCHAIN_CACHE": str(tmp_path / "cache")}
    return {"cwd": tmp_path / "work", "env": env}


def test_the_wheel_ships_the_contracts_and_no_mocks_or_tests(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = ROOT / "contracts"
    expected = {f"gridchain/contracts/{path.relative_to(sources)}" for g in SHIPPED for path in sources.glob(g)}
    assert {"gridchain/contracts/charging_coordinator.vy", "gridchain/contracts/modules/greedy_walk.vy"} <= expected
    contracts = {n for n in names if n.startswith("gridchain/contracts/")}
    assert contracts == expected | {"gridchain/contracts/__init__.py"}
    assert not [n for n in names if "mocks/" in n or n.startswith(("tests/", "benchmarks/", "contracts/"))]
    assert "gridchain/cli/__init__.py" in names
    info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
    assert f"{info}/licenses/LICENSE" in names
    metadata = zipfile.ZipFile(wheel).read(f"{info}/METADATA").decode()
    assert "License-Expression: MIT" in metadata and "License-File: LICENSE" in metadata


def test_the_installed_gridchain_compiles_its_own_contracts_and_runs_the_demo(venv: Path, outside: dict):
    code = "from gridchain.chain.compiler import CONTRACTS_DIR; print(CONTRACTS_DIR)"
    where = checked(venv / "bin" / "python", "-c", code, **outside)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # the package data, not the checkout
    done = checked(venv / "bin" / "gridchain", "demo", "--json", **outside)
    day = json.loads(done.stdout)
    summary = day["summary"]
    assert summary["requests"] > 0 and summary["esus_verified"] == summary["requests"] == len(day["esus"])
    assert summary["mismatches"] == 0 and day["mismatches"] == [] and all(e["verified"] for e in day["esus"])
    assert day["chain"] == "embedded" and summary["slots"] > 0
    cache = Path(outside["env"]["GRIDCHAIN_CACHE"]) / "artifacts"
    assert list(cache.glob("charging_coordinator-*.json"))  # compiled here, from the shipped sources


def test_the_gas_report_needs_the_checkouts_benchmarks_and_says_so(venv: Path, outside: dict, tmp_path: Path):
    done = run(venv / "bin" / "gridchain", "gas-report", "--out", tmp_path / "out", **outside)
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.splitlines()  # one line, no traceback
    assert line.startswith("error: no folder ") and "benchmarks/baseline" in line


def test_the_installed_dashboard_has_its_pages_and_scripts(wheel: Path, venv: Path, outside: dict):
    """Templates, static files, the keccak module (copied by `make setup`) in the wheel; plotly.js from the
    installed plotly: an installed dashboard serves every file of its pages without a checkout or node_modules."""
    names = set(zipfile.ZipFile(wheel).namelist())
    ours = ROOT / "src" / "gridchain" / "dashboard"
    for folder in ("templates", "static"):
        for path in (ours / folder).rglob("*"):
            if path.is_file() and not path.name.startswith("."):  # not make setup's stamp
                assert f"gridchain/dashboard/{path.relative_to(ours)}" in names, path
    assert "gridchain/dashboard/static/vendor/noble-hashes/sha3.js" in names
    code = (
        "from gridchain.dashboard.app import HERE, plotly_js; "
        "assert plotly_js().stat().st_size > 1_000_000; print(HERE)"
    )
    where = checked(venv / "bin" / "python", "-c", code, **outside)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout
