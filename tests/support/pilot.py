"""A small pilot folder written directly (gridchain.toml, cheap keystores, password file) for the config tests."""

from __future__ import annotations

from pathlib import Path

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
