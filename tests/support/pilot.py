"""Pilot folders for tests: `write_pilot` writes a small one directly (gridchain.toml, cheap keystores, password
file) for the config tests; `init_pilot` runs `gridchain init` (light keystores) and edits its TOML."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gridchain.crypto.keystore import new_key, write_keystore, write_private

PASSWORD = "pilot-password"
SCRYPT_N = 2**4  # the tests check the format and the refusals, not the keystores' strength

COMMUNITY = """
[community]
slot_length_s = 60
beta1_pm = 500
initial_capacity_w = 50000
members = "members.txt"
"""


def write_pilot(
    folder: Path,
    rpc_url: str = "http://127.0.0.1:8545",
    chain_id: int = 31337,
    accounts: dict[str, str | None] | None = None,
    dev_funding: bool = True,
    extra: str = COMMUNITY,
) -> Path:
    """Write `folder/gridchain.toml` with a keystore per account (a given key, or a new one if None);
    returns the config's path."""
    folder.mkdir(parents=True, exist_ok=True)
    write_private(folder / "secrets/keystore-password", PASSWORD + "\n")
    (folder / "members.txt").write_text("")
    lines = []
    for name, key in (accounts if accounts is not None else {"owner": None}).items():
        write_keystore(folder / f"keys/{name}.json", key or new_key(), PASSWORD, SCRYPT_N)
        lines.append(f'{name} = "keys/{name}.json"\n')
    text = f"""[network]
rpc_url = "{rpc_url}"
chain_id = {chain_id}

[keys]
password_env = "GRIDCHAIN_TEST_NO_SUCH_VARIABLE"
password_file = "secrets/keystore-password"
dev_funding = {"true" if dev_funding else "false"}

[accounts]
{"".join(lines)}
[deployment]
record = "deployment.json"
{extra}"""
    path = folder / "gridchain.toml"
    path.write_text(text)
    return path


def init_pilot(
    folder: Path,
    members: int = 2,
    port_base: int = 8700,
    rpc_url: str = "http://127.0.0.1:8545",
    edits: dict[str, object] | None = None,
    **keys: object,
) -> Path:
    """`gridchain init` (light keystores) into `folder`; returns the config's path. `keys` replace the one line
    `key = ...` of the TOML (e.g. slot_length_s=12); `edits` the same by "section.key" (a key in several
    sections, e.g. {"ocpp.listen": '"127.0.0.1:0"'})."""
    from gridchain.cli import app

    args = ["init", str(folder), "--members", str(members), "--light-keystores", "--port-base", str(port_base)]
    r = CliRunner().invoke(app, [*args, "--rpc-url", rpc_url, "--json"])
    assert r.exit_code == 0, r.output
    config = Path(json.loads(r.stdout)["config"])
    for key, value in {**keys, **(edits or {})}.items():
        edit_toml(config, key, value)
    return config


def edit_toml(config: Path, key: str, value: object) -> None:
    """Replace the line `key = ...` (the only one; "section.key": the one in [section]) by `key = value`."""
    section, _, name = key.rpartition(".")
    lines = config.read_text().splitlines()
    current, hits = "", []
    for i, line in enumerate(lines):
        if line.startswith("["):
            current = line.split("]")[0][1:]
        elif line.startswith(f"{name} = ") and (not section or current == section):
            hits.append(i)
    assert len(hits) == 1, (key, hits)
    lines[hits[0]] = f"{name} = {value}"
    config.write_text("\n".join(lines) + "\n")
