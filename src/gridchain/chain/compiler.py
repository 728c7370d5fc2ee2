"""Compile the Vyper sources in contracts/ (with snekmate's modules) and cache the artifacts on disk.

The contracts are package data: setup.py installs the top-level contracts/ as `gridchain.contracts`, so a wheel
compiles the sources it ships. Other folders (a benchmark's baseline, test mocks) are passed as `directory`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import vyper
from vyper.compiler import compile_code
from vyper.compiler.input_bundle import FilesystemInputBundle
from vyper.compiler.settings import OptimizationLevel, Settings


def _contracts_dir() -> Path:
    """$GRIDCHAIN_CONTRACTS if set; else, run from a source checkout (<root>/src/gridchain), <root>/contracts: what
    the editable install maps `gridchain.contracts` to, and still this checkout's when its src/ is put before
    another checkout's editable install on the path; else the installed package data, `gridchain.contracts`."""
    if override := os.environ.get("GRIDCHAIN_CONTRACTS"):
        return Path(override)
    package = Path(resources.files("gridchain"))
    if package.parent.name == "src" and (package.parent.parent / "contracts").is_dir():
        return package.parent.parent / "contracts"
    return Path(resources.files("gridchain.contracts"))


CONTRACTS_DIR = _contracts_dir()

# Per contract, the compiler settings that measured best (issue 22): Venom (`experimental_codegen`) and the
# optimisation mode (a contract's own `#pragma optimize` must agree). A contract not listed compiles with Vyper's
# defaults (the legacy pipeline, optimize gas).
# GRIDCHAIN_CODEGEN=legacy|venom forces one pipeline on every contract (to compare them). The coordinator on Venom
# (Prague receipts, issue 22): its close per request 1,315 at n = 500 (legacy 1,333), 2,413 paged at n = 1,100
# (legacy 2,478), a member submission 204 less, an anonymous request in a batch of 20 1,295 less, deploy 4.82M
# (legacy 5.07M). Its walk keeps few locals for it (`greedy_walk.walk`). Other contracts are not measured yet.
CODEGEN: dict[str, tuple[bool, OptimizationLevel]] = {"charging_coordinator": (True, OptimizationLevel.GAS)}


def compiler_settings(name: str) -> Settings:
    """The settings `name` compiles with: its entry in CODEGEN, unless $GRIDCHAIN_CODEGEN forces a pipeline."""
    venom, optimize = CODEGEN.get(name, (False, OptimizationLevel.GAS))
    forced = os.environ.get("GRIDCHAIN_CODEGEN", "")
    if forced not in ("", "legacy", "venom"):
        raise ValueError(f"GRIDCHAIN_CODEGEN must be legacy or venom, not {forced!r}")
    if forced:
        venom = forced == "venom"
    return Settings(
        experimental_codegen=venom or None, optimize=None if optimize is OptimizationLevel.GAS else optimize
    )


CACHE_DIR = Path(os.environ.get("GRIDCHAIN_CACHE", Path.home() / ".cache" / "gridchain")) / "artifacts"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict]
    bytecode: bytes
    source_sha256: str
    compiler: str


def _search_paths(directory: Path) -> list[Path]:
    # snekmate is a namespace package in site-packages: `from snekmate.auth import ownable` resolves there
    return [directory, *(Path(p) for p in sys.path if p and Path(p).is_dir())]


def source_path(name: str, directory: Path = CONTRACTS_DIR) -> Path:
    path = directory / f"{name}.vy"
    if not path.is_file():
        raise FileNotFoundError(f"no contract {name!r} in {directory}")
    return path


def _label(settings: Settings) -> str:
    """What the settings add to the compiler's name (and to the cache key): nothing for Vyper's defaults."""
    venom = " venom" if settings.experimental_codegen else ""
    optimize = f" optimize={settings.optimize.name.lower()}" if settings.optimize else ""
    return venom + optimize


def compile_contract(name: str, use_cache: bool = True, directory: Path = CONTRACTS_DIR) -> Artifact:
    """The ABI and deployment bytecode of <directory>/<name>.vy (default contracts/); cached by source hash
    and compiler version.

    The cache key covers the contract's source, the project's modules and interfaces (<directory>/modules,
    <directory>/interfaces) and the compiler settings (`compiler_settings`); modules from packages are pinned
    with the compiler (snekmate 0.1.2); `use_cache=False` rebuilds.
    """
    path = source_path(name, directory)
    source = path.read_text(encoding="utf-8")
    settings = compiler_settings(name)
    digest = hashlib.sha256(source.encode())
    label = _label(settings)
    digest.update(label.encode())  # empty for the defaults: their artifacts keep the hashes they had
    for pattern in ("modules/*.vy", "interfaces/*.vyi"):  # the project's own imported modules and interfaces
        for module in sorted(directory.glob(pattern)):
            digest.update(module.read_bytes())
    sha = digest.hexdigest()
    cached = CACHE_DIR / f"{name}-{sha[:16]}-vyper{vyper.__version__}.json"
    if use_cache and cached.is_file():
        data = json.loads(cached.read_text())
        return Artifact(name, data["abi"], bytes.fromhex(data["bytecode"]), sha, data["compiler"])
    out = compile_code(
        source,
        contract_path=path,
        input_bundle=FilesystemInputBundle(_search_paths(directory)),
        output_formats=["abi", "bytecode"],
        settings=settings,
    )
    bytecode = bytes.fromhex(out["bytecode"].removeprefix("0x"))
    artifact = Artifact(name, out["abi"], bytecode, sha, f"vyper {vyper.__version__}{label}")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(
        json.dumps({"abi": artifact.abi, "bytecode": artifact.bytecode.hex(), "compiler": artifact.compiler})
    )
    tmp.replace(cached)  # atomic: a crash never leaves half an artifact
    return artifact
