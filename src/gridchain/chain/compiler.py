"""Compile the Vyper sources in contracts/ (with snekmate's modules) and cache the artifacts on disk."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import vyper
from vyper.compiler import compile_code
from vyper.compiler.input_bundle import FilesystemInputBundle

CONTRACTS_DIR = Path(os.environ.get("GRIDCHAIN_CONTRACTS", Path(__file__).resolve().parents[3] / "contracts"))
CACHE_DIR = Path(os.environ.get("GRIDCHAIN_CACHE", Path.home() / ".cache" / "gridchain")) / "artifacts"


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: list[dict]
    bytecode: bytes
    source_sha256: str
    compiler: str


BASELINE_DIR = CONTRACTS_DIR.parent / "benchmarks" / "baseline"


def _search_paths(directory: Path) -> list[Path]:
    # snekmate is a namespace package in site-packages: `from snekmate.auth import ownable` resolves there
    return [directory, *(Path(p) for p in sys.path if p and Path(p).is_dir())]


def source_path(name: str, directory: Path = CONTRACTS_DIR) -> Path:
    path = directory / f"{name}.vy"
    if not path.is_file():
        raise FileNotFoundError(f"no contract {name!r} in {directory}")
    return path


def compile_contract(name: str, use_cache: bool = True, directory: Path = CONTRACTS_DIR) -> Artifact:
    """The ABI and deployment bytecode of <directory>/<name>.vy (default contracts/); cached by source hash
    and compiler version.

    The cache key covers the contract's source and the project's modules and interfaces (contracts/modules,
    contracts/interfaces); modules from packages are pinned with the compiler (snekmate 0.1.2); `use_cache=False`
    rebuilds.
    """
    path = source_path(name, directory)
    source = path.read_text(encoding="utf-8")
    digest = hashlib.sha256(source.encode())
    imported = [*sorted((directory / "modules").glob("*.vy")), *sorted((directory / "interfaces").glob("*.vyi"))]
    for module in imported:  # the project's own imported modules and interfaces
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
    )
    artifact = Artifact(name, out["abi"], bytes.fromhex(out["bytecode"].removeprefix("0x")), sha,
                        f"vyper {vyper.__version__}")  # fmt: skip
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps({"abi": artifact.abi, "bytecode": artifact.bytecode.hex(), "compiler": artifact.compiler}))
    tmp.replace(cached)  # atomic: a crash never leaves half an artifact
    return artifact
