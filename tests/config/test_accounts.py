"""[keys] and [accounts]: the password from the environment or a file, never argv; dev keys refused off 31337."""

import pytest

from gridchain.chain.anvil import dev_keys
from gridchain.config.accounts import account_address, account_key, check_dev_funding, password
from gridchain.config.file import load_config
from gridchain.config.network import connect
from gridchain.errors import InputError
from tests.support.pilot import PASSWORD, write_pilot


def refused(fn, message):
    with pytest.raises(InputError) as e:
        fn()
    assert str(e.value) == message


def config_with(tmp_path, keys_section, **kwargs):
    path = write_pilot(tmp_path, **kwargs)
    text = path.read_text()
    start = text.index("[keys]")
    end = text.index("[accounts]")
    path.write_text(text[:start] + keys_section + "\n" + text[end:])
    return load_config(path)


def test_password_from_the_file(tmp_path):
    assert password(load_config(write_pilot(tmp_path))) == PASSWORD


def test_password_from_the_environment_wins(tmp_path, monkeypatch):
    config = config_with(tmp_path, '[keys]\npassword_env = "PILOT_PW"\npassword_file = "secrets/keystore-password"\n')
    monkeypatch.setenv("PILOT_PW", "from-env")
    assert password(config) == "from-env"
    monkeypatch.setenv("PILOT_PW", "")  # empty: as if unset, the file is read
    assert password(config) == PASSWORD


def test_password_missing_both(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDCHAIN_KEYSTORE_PASSWORD", raising=False)
    config = config_with(tmp_path, "[keys]\n")
    refused(
        lambda: password(config),
        "keys.password_env: $GRIDCHAIN_KEYSTORE_PASSWORD is not set and [keys] names no password_file",
    )


def test_password_file_missing_or_empty(tmp_path):
    config = config_with(tmp_path, '[keys]\npassword_env = "PILOT_NONE"\npassword_file = "secrets/none"\n')
    path = tmp_path / "secrets/none"
    refused(lambda: password(config), f"keys.password_file: cannot read {str(path)!r}: No such file or directory")
    path.write_text("\n")
    refused(lambda: password(config), f"keys.password_file: {str(path)!r} is empty")


def test_keys_section_unknown_option(tmp_path):
    config = config_with(tmp_path, '[keys]\npassword_fle = "x"\n')
    with pytest.raises(InputError) as e:
        password(config)
    assert e.value.field == "keys.password_fle" and e.value.reason.startswith("unknown option")


def test_wrong_password_names_the_account(tmp_path, monkeypatch):
    config = config_with(tmp_path, '[keys]\npassword_env = "PILOT_PW"\n')
    monkeypatch.setenv("PILOT_PW", "wrong")
    path = tmp_path / "keys/owner.json"
    refused(
        lambda: account_key(config, "owner", 31337), f"accounts.owner: cannot decrypt {str(path)!r}: wrong password"
    )


def test_unknown_account_and_missing_keystore(tmp_path):
    config = load_config(write_pilot(tmp_path))
    refused(lambda: account_address(config, "keeper"), "accounts.keeper: is not configured (this file has: owner)")
    (tmp_path / "keys/owner.json").unlink()
    path = tmp_path / "keys/owner.json"
    refused(
        lambda: account_key(config, "owner", 31337),
        f"accounts.owner: cannot read keystore {str(path)!r}: No such file or directory",
    )


def test_dev_key_allowed_on_31337_refused_elsewhere(tmp_path):
    config = load_config(write_pilot(tmp_path, accounts={"owner": dev_keys(1)[0]}))
    assert account_key(config, "owner", 31337) == dev_keys(1)[0]
    refused(
        lambda: account_key(config, "owner", 1),
        "accounts.owner: holds one of anvil's public development keys: refused on chain id 1 (only 31337)",
    )


def test_dev_funding_refused_off_31337(tmp_path):
    config = load_config(write_pilot(tmp_path))
    assert check_dev_funding(config, 31337) is True
    refused(
        lambda: check_dev_funding(config, 1337),
        "keys.dev_funding: anvil's development account exists only on chain id 31337, not 1337",
    )
    assert check_dev_funding(load_config(write_pilot(tmp_path / "b", dev_funding=False)), 1337) is False


@pytest.mark.integration
def test_connect_refuses_a_dev_key_on_a_node_of_chain_1337(tmp_path, node1337):
    keys = dev_keys(2)
    config = load_config(write_pilot(tmp_path, node1337.url, 1337, {"keeper": None, "owner": keys[0]}))
    network = connect(config, ["keeper"])  # a fresh key: fine on any chain
    assert network.settings.chain_id == 1337
    refused(
        lambda: connect(config, ["keeper", "owner"]),
        "accounts.owner: holds one of anvil's public development keys: refused on chain id 1337 (only 31337)",
    )
