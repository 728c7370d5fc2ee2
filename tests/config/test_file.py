"""gridchain.toml: loading, and every Section getter's bad values named by their option."""

from pathlib import Path

import pytest

from gridchain.config.file import Config, config_path, load_config
from gridchain.errors import InputError


def section(**table):
    return Config(Path("/pilot/gridchain.toml"), {"s": table}).section("s")


def refused(fn, message):
    with pytest.raises(InputError) as e:
        fn()
    assert str(e.value) == message


@pytest.mark.parametrize(
    "value, lo, hi, message",
    [
        ("3", 0, 9, 's.k: "3" is not an integer'),
        (True, 0, 9, "s.k: true is not an integer"),
        (1.5, 0, 9, "s.k: 1.5 is not an integer"),
        (10, 0, 9, "s.k: 10 is outside 0..9"),
        (-1, 0, 9, "s.k: -1 is outside 0..9"),
    ],
)
def test_int_bad(value, lo, hi, message):
    refused(lambda: section(k=value).int("k", lo, hi), message)


def test_int_good_default_and_required():
    assert section(k=9).int("k", 0, 9) == 9
    assert section().int("k", 0, 9, 4) == 4
    refused(lambda: section().int("k", 0, 9), "s.k: is required")


@pytest.mark.parametrize(
    "value, message",
    [("1", 's.k: "1" is not a number'), (False, "s.k: false is not a number"), (2.5, "s.k: 2.5 is outside 0..2")],
)
def test_float_bad(value, message):
    refused(lambda: section(k=value).float("k", 0, 2), message)


def test_float_accepts_an_int():
    value = section(k=1).float("k", 0, 2)
    assert value == 1.0 and isinstance(value, float)


@pytest.mark.parametrize("value", ["true", 1, 0, "yes"])
def test_bool_bad(value):
    refused(lambda: section(k=value).bool("k"), f"s.k: {value!r} is not true or false".replace("'", '"'))


def test_str_bad_and_choices():
    refused(lambda: section(k=3).str("k"), "s.k: 3 is not a string")
    refused(lambda: section(k="c").str("k", choices=("a", "b")), "s.k: 'c' is not one of a, b")
    assert section(k="a").str("k", choices=("a", "b")) == "a"


def test_path_relative_to_the_file_and_bad():
    assert section(k="keys/a.json").path("k") == Path("/pilot/keys/a.json")
    assert section(k="/abs/a.json").path("k") == Path("/abs/a.json")
    refused(lambda: section(k="").path("k"), "s.k: is an empty path")
    refused(lambda: section(k=7).path("k"), "s.k: 7 is not a string")


@pytest.mark.parametrize("value", ["8700", "127.0.0.1", ":8700", "127.0.0.1:port", "127.0.0.1:70000", "h:-1"])
def test_listen_bad(value):
    refused(lambda: section(k=value).listen("k"), f"s.k: {value!r} is not host:port (e.g. 127.0.0.1:8700)")


def test_listen_good():
    assert section(k="127.0.0.1:0").listen("k") == ("127.0.0.1", 0)
    assert section(k="[::1]:8700").listen("k") == ("[::1]", 8700)


@pytest.mark.parametrize("value", ["0x123", "nope", 5])
def test_address_bad(value):
    with pytest.raises(InputError) as e:
        section(k=value).address("k")
    assert e.value.field == "s.k"


def test_address_good_is_checksummed():
    a = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    assert section(k=a).address("k") == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_done_refuses_an_unknown_key_naming_it_and_the_known_ones():
    s = section(slot_length_s=60, slot_lenght_s=60)
    s.int("slot_length_s", 1, 100)
    refused(s.done, "s.slot_lenght_s: unknown option (this section knows: slot_length_s)")


def test_done_accepts_sub_tables_and_read_keys():
    s = section(a=1, sub={"x": 1})
    s.int("a", 0, 1)
    s.done()


def test_section_missing_required_and_not_a_table():
    config = Config(Path("/p/gridchain.toml"), {"network": 3})
    refused(lambda: config.section("community"), "community: /p/gridchain.toml has no [community] section")
    refused(lambda: config.section("network"), "network: must be a table ([network]), not 3")
    assert config.section("keys", required=False).table == {}


def test_load_config_missing_unreadable_malformed(tmp_path):
    refused(
        lambda: load_config(tmp_path / "no.toml"),
        f"--config: {str(tmp_path / 'no.toml')!r} does not exist (write one with `gridchain init`, or pass --config)",
    )
    refused(lambda: load_config(tmp_path), f"--config: cannot read {str(tmp_path)!r}: Is a directory")
    bad = tmp_path / "bad.toml"
    bad.write_text("[network\n")
    with pytest.raises(InputError) as e:
        load_config(bad)
    assert str(e.value).startswith(f"--config: {str(bad)!r} is not valid TOML: ")


def test_config_path_option_env_default(monkeypatch):
    monkeypatch.delenv("GRIDCHAIN_CONFIG", raising=False)
    assert config_path(None) == Path("gridchain.toml")
    monkeypatch.setenv("GRIDCHAIN_CONFIG", "/e/g.toml")
    assert config_path(None) == Path("/e/g.toml")
    assert config_path(Path("/o/g.toml")) == Path("/o/g.toml")
