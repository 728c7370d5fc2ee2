"""Encrypted keystores: round trip, every way a file can be wrong, and private atomic writes."""

import json
import os
import stat

import pytest

from gridchain.crypto import keystore
from gridchain.crypto.keystore import keystore_address, new_key, read_keystore, write_keystore, write_private
from gridchain.errors import InputError

N = 2**4  # scrypt cost: the format is what is tested here, not its strength


@pytest.fixture
def written(tmp_path):
    key = new_key()
    path = tmp_path / "keys/owner.json"
    address = write_keystore(path, key, "pw", N)
    return path, key, address


def refused(fn, message):
    with pytest.raises(InputError) as e:
        fn()
    assert str(e.value) == message


def test_round_trip_and_address_without_password(written):
    path, key, address = written
    assert read_keystore(path, "pw", "accounts.owner") == key
    assert keystore_address(path, "accounts.owner") == address


def test_file_is_private(written):
    path = written[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_wrong_password(written):
    path = written[0]
    refused(
        lambda: read_keystore(path, "other", "accounts.owner"),
        f"accounts.owner: cannot decrypt {str(path)!r}: wrong password",
    )


def test_missing_file(tmp_path):
    path = tmp_path / "none.json"
    refused(
        lambda: read_keystore(path, "pw", "accounts.x"),
        f"accounts.x: cannot read keystore {str(path)!r}: No such file or directory",
    )


def test_not_json(tmp_path):
    path = tmp_path / "k.json"
    path.write_text("0x" + "11" * 32)
    refused(lambda: read_keystore(path, "pw", "accounts.x"), f"accounts.x: {str(path)!r} is not JSON (a keystore is)")
    refused(lambda: keystore_address(path, "accounts.x"), f"accounts.x: {str(path)!r} is not JSON (a keystore is)")


@pytest.mark.parametrize("data", [{"address": "ab"}, [1, 2], "text"])
def test_json_that_is_not_a_keystore(tmp_path, data):
    path = tmp_path / "k.json"
    path.write_text(json.dumps(data))
    refused(
        lambda: read_keystore(path, "pw", "accounts.x"),
        f"accounts.x: {str(path)!r} is not a keystore (no crypto section)",
    )


def test_keystore_with_a_broken_crypto_section(written):
    path = written[0]
    data = json.loads(path.read_text())
    del data["crypto"]["kdfparams"]
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as e:
        read_keystore(path, "pw", "accounts.owner")
    assert e.value.field == "accounts.owner" and "is not a keystore" in e.value.reason


def test_keystore_without_or_with_a_bad_address(written):
    path = written[0]
    data = json.loads(path.read_text())
    data["address"] = "zz"
    path.write_text(json.dumps(data))
    refused(
        lambda: keystore_address(path, "accounts.owner"),
        f"accounts.owner: {str(path)!r} holds a malformed address 'zz'",
    )
    del data["address"]
    path.write_text(json.dumps(data))
    refused(lambda: keystore_address(path, "accounts.owner"), f"accounts.owner: {str(path)!r} has no address field")


def test_empty_password_refused(tmp_path):
    refused(
        lambda: write_keystore(tmp_path / "k.json", new_key(), "", N), "password: a keystore needs a non-empty password"
    )
    assert not (tmp_path / "k.json").exists()


def test_write_private_replaces_atomically_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "secret"
    write_private(path, "old\n")
    inode = path.stat().st_ino

    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(keystore.os, "fsync", crash)
    with pytest.raises(OSError):
        write_private(path, "new\n")
    assert path.read_text() == "old\n" and os.listdir(tmp_path) == ["secret"]  # the old file, whole; no temporary
    monkeypatch.undo()
    write_private(path, "new\n")
    assert path.read_text() == "new\n" and path.stat().st_ino != inode  # a new file renamed over the old one
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_write_private_makes_the_folder(tmp_path):
    write_private(tmp_path / "a/b/c", "x")
    assert (tmp_path / "a/b/c").read_text() == "x"
