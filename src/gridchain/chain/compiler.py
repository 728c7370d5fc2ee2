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
# GRIDCHAIN_CODEGEN=legacy|venom forces one pipeline on every contract (to compare them); venom:name1,name2 forces
# Venom on the listed contracts and legacy on every other (to compare where Venom does not compile everything).
# The coordinator on Venom (Prague receipts, issue 22): its close per request 1,315 at n = 500 (legacy 1,333), 2,413
# paged at n = 1,100 (legacy 2,478), a member submission 204 less, an anonymous request in a batch of 20 1,295 less,
# deploy 4.82M (legacy 5.07M). Its walk keeps few locals for it (`greedy_walk.walk`).
# The others (Vyper 0.4.3; `gridchain gas-report --chain embedded`, Prague receipts, run once with
# GRIDCHAIN_CODEGEN=legacy and once with venom:<every contract but call_market>), legacy -> venom; runtime bytes
# (EIP-170: 24,576), deploy gas, and the calls users pay for that decided:
#   access_log         6,019 -> 5,596; deploy 1,643,904 -> 1,549,841; attest 2-of-3 50,490 -> 49,834,
#                      5-of-7 71,970 -> 70,624
#   data_access        7,212 -> 6,547; deploy 1,689,420 -> 1,545,613; grant 55,536 -> 55,225, report 80,907 ->
#                      79,051, revoke_signed 37,439 -> 36,544
#   energy_coin        6,760 -> 6,582; deploy 1,664,542 -> 1,624,873; transfer 34,126 -> 33,974, mint 36,106 ->
#                      35,904, permit 74,138 -> 73,606 (the owner's set_minter +21)
#   lag_committee      6,758 -> 6,446; deploy (3) 1,782,459 -> 1,714,206; attest 2-of-3 66,900 -> 66,317,
#                      22-of-32 223,604 -> 218,141
#   market_settlement  9,864 -> 9,003; deploy 2,279,693 -> 2,093,064; settle per unit 103,500 -> 100,909, deposit
#                      58,944 -> 58,690, withdraw 49,445 -> 49,214 (request_withdrawal +17)
#   metering           17,700 -> 17,063; deploy 3,972,492 -> 3,834,339; settle_session 119,026 -> 116,453,
#                      reserve 72,671 -> 72,064, anchor_root 53,878 -> 53,835 (deposit +41, register_meter +21)
#   petcon_escrow      8,122 -> 7,797; deploy 1,863,509 -> 1,793,063; escrow 76,739 -> 76,341, but settle per
#                      entry 235,862 -> 238,428 and a settle of a single entry 312,010 -> 324,522 with energy_coin
#                      on legacy, 223,610 -> 226,176 per entry with it on Venom (issue 22's third session): legacy
#   trade_escrow       13,558 -> 13,322; deploy 3,104,382 -> 3,053,192; open (ETH, later lock) 72,139 -> 71,649,
#                      open (coin, later lock) 97,820 -> 97,170, release 85,098 -> 84,060
#   trade_notes        10,587 -> 10,116; deploy (ETH pool) 2,470,239 -> 2,368,639; deposit ETH 37,567 -> 37,494,
#                      redeem ETH 117,683 -> 116,371, redeem coin 117,460 -> 115,832
#   v2v_auction        10,303 -> 8,309; deploy 2,409,968 -> 1,983,376 (only Venom's meets the paper's 2,302,980);
#                      a trade with five bids 473,070 -> 472,767, settle 50,818 -> 50,064 (place_bid +65,
#                      start_auction +114)
#   call_market        11,246 on legacy; Venom stops with StackTooDeep ("Unsupported swap depth 23"): legacy.
# Each contract switched passes its tests (attack and stateful included) on Venom; energy_coin, metering and
# trade_escrow were switched last, with the demo transcripts in docs/escrow.md that print their gas.
CODEGEN: dict[str, tuple[bool, OptimizationLevel]] = {
    "charging_coordinator": (True, OptimizationLevel.GAS),
    **{
        name: (True, OptimizationLevel.GAS)
        for name in (
            "access_log",
            "data_access",
            "energy_coin",
            "lag_committee",
            "market_settlement",
            "metering",
            "trade_escrow",
            "trade_notes",
            "v2v_auction",
        )
    },
}


def compiler_settings(name: str) -> Settings:
    """The settings `name` compiles with: its entry in CODEGEN, unless $GRIDCHAIN_CODEGEN forces a pipeline."""
    venom, optimize = CODEGEN.get(name, (False, OptimizationLevel.GAS))
    forced = os.environ.get("GRIDCHAIN_CODEGEN", "")
    pipeline, listed, names = forced.partition(":")
    if pipeline not in ("", "legacy", "venom") or (listed and pipeline != "venom"):
        raise ValueError(f"GRIDCHAIN_CODEGEN must be legacy, venom or venom:name,..., not {forced!r}")
    if forced:
        venom = pipeline == "venom" and (not listed or name in names.split(","))
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
