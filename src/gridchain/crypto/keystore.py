"""Encrypted JSON keystores (Web3 Secret Storage v3, what geth, MetaMask exports and eth-account write).

Every key a gridchain party holds lives in one of these files, encrypted with scrypt; the password comes from
an environment variable or a file (`gridchain.config.accounts`), never from the command line. Files are written
atomically with mode 0600: a crash leaves the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from eth_account import Account

from gridchain.errors import InputError

STANDARD_SCRYPT_N = 2**18  # eth-account's default: about 1 s per key here, the cost an attacker pays per guess
LIGHT_SCRYPT_N = 2**14  # 16x cheaper: local pilots and tests only (`gridchain init --light-keystores`)


def new_key() -> str:
    """A fresh private key from the operating system's randomness, as 0x-prefixed hex."""
    return "0x" + bytes(Account.create().key).hex()


def write_keystore(path: Path, key: str, password: str, scrypt_n: int = STANDARD_SCRYPT_N) -> str:
    """Encrypt `key` with `password` into `path` (atomically, mode 0600); returns the key's address."""
    if not password:
        raise InputError("password", "a keystore needs a non-empty password")
    keystore = Account.encrypt(key, password, kdf="scrypt", iterations=scrypt_n)
    write_private(path, json.dumps(keystore, indent=1) + "\n")
    return Account.from_key(key).address


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` readable by its owner only, atomically (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json_file(path: Path, field: str, what: str) -> object | None:
    """The JSON a state file at `path` holds (what `write_private` wrote), None if there is none yet; one that
    cannot be read or parsed is an InputError naming `field` and saying `what` it should be."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise InputError(field, f"cannot read {what} {str(path)!r}: {e}") from None


def keystore_address(path: Path, field: str) -> str:
    """The address a keystore file holds the key of (stored in clear in the file), without decrypting it."""
    data = _read(path, field)
    address = data.get("address")
    if not isinstance(address, str):
        raise InputError(field, f"{str(path)!r} has no address field")
    from eth_utils import to_checksum_address

    try:
        return to_checksum_address(address if address.startswith("0x") else "0x" + address)
    except ValueError:
        raise InputError(field, f"{str(path)!r} holds a malformed address {address!r}") from None


def read_keystore(path: Path, password: str, field: str) -> str:
    """The private key in the keystore at `path` (0x hex); a missing file, a file that is not a keystore or a
    wrong password is an InputError naming `field` (the config option that points at the file)."""
    data = _read(path, field)
    try:
        return "0x" + bytes(Account.decrypt(data, password)).hex()
    except ValueError as e:
        reason = "wrong password" if "MAC mismatch" in str(e) else f"not a keystore: {e}"
        raise InputError(field, f"cannot decrypt {str(path)!r}: {reason}") from None
    except (KeyError, TypeError) as e:
        raise InputError(field, f"{str(path)!r} is not a keystore (missing {e})") from None


def _read(path: Path, field: str) -> dict:
    try:
        data = json.loads(path.read_text())
    except OSError as e:
        raise InputError(field, f"cannot read keystore {str(path)!r}: {e.strerror or e}") from None
    except ValueError:
        raise InputError(field, f"{str(path)!r} is not JSON (a keystore is)") from None
    if not isinstance(data, dict) or "crypto" not in data and "Crypto" not in data:
        raise InputError(field, f"{str(path)!r} is not a keystore (no crypto section)")
    return data
