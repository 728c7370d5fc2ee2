"""The [v2v] section (gridchain.v2v.cli.config) and what `gridchain init` writes for it: every bad value a
one-line error naming the option; an EV is a keystore in the evs folder, and an unknown name names --ev."""

from __future__ import annotations

import tomllib

import pytest

from gridchain.config.file import Config
from gridchain.config.init import InitOptions
from gridchain.errors import InputError
from gridchain.v2v.cli.config import ev_address, v2v_settings
from gridchain.v2v.cli.deploy import init_v2v


def settings(tmp_path, **v2v):
    return v2v_settings(Config(tmp_path / "gridchain.toml", {"v2v": v2v}))


def test_init_writes_three_evs_and_a_section_that_parses(tmp_path):
    opts = InitOptions(tmp_path, "pw", 2**4, 0, 9000)
    s = v2v_settings(Config(tmp_path / "gridchain.toml", tomllib.loads(init_v2v(opts))))
    assert s.ev_names() == ["c1", "p1", "p2"] and s.evs_dir == tmp_path / "evs"
    assert s.listen == {"p1": ("127.0.0.1", 9010), "p2": ("127.0.0.1", 9011)}
    assert (s.url("p1"), s.url("c1")) == ("http://127.0.0.1:9010", None)
    assert (s.validity_s, s.grace_s, s.increment_wh, s.poll_s) == (3600, 600, 2000, 1.0)
    assert s.deploy_settings() == {"validity_s": 3600, "grace_s": 600}
    assert ev_address(s, "p1").startswith("0x")


def test_defaults(tmp_path):
    s = settings(tmp_path)
    assert (s.validity_s, s.grace_s, s.wallets_dir, s.listen) == (3600, 600, tmp_path / "v2v-wallets", {})


@pytest.mark.parametrize(
    ("v2v", "message"),
    [
        ({"grace_s": 59}, "v2v.grace_s: 59 is outside 60..2592000"),
        ({"validity_s": 0}, "v2v.validity_s: 0 is outside 1..2592000"),
        ({"increment_wh": "2 kWh"}, 'v2v.increment_wh: "2 kWh" is not an integer'),
        ({"poll_s": 0}, "v2v.poll_s: 0 is outside 0.05..3600"),
        ({"grace": 600}, "v2v.grace: unknown option"),
        ({"listen": {"p1": "8710"}}, "v2v.listen.p1: '8710' is not host:port (e.g. 127.0.0.1:8700)"),
        ({"listen": {"p1": "127.0.0.1:0"}}, "v2v.listen.p1: port 0 cannot be announced: give a fixed port"),
    ],
)
def test_bad_values_name_the_option(tmp_path, v2v, message):
    with pytest.raises(InputError) as e:
        settings(tmp_path, **v2v)
    assert str(e.value).startswith(message)


def test_missing_section_and_unknown_ev(tmp_path):
    with pytest.raises(InputError, match=r"^v2v: .* has no \[v2v\] section$"):
        v2v_settings(Config(tmp_path / "gridchain.toml", {}))
    with pytest.raises(InputError, match=r"^--ev: 'p1' is not an EV of this config \(no .*evs/p1.json; EVs: none\)$"):
        settings(tmp_path).keystore("p1")
