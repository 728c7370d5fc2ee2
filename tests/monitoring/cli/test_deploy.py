"""`gridchain deploy access_log|data_access` from `[monitoring]`: the values it takes and refuses, and a deployment
on anvil whose nodes and threshold are the section's, the consent contract bound to that log, found again by
`open_monitoring` (with the store's tables)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.config.file import Config
from gridchain.errors import InputError
from gridchain.monitoring.cli.config import monitoring
from tests.support.pilot import write_pilot

runner = CliRunner()
A, B, C = (f"0x{i:040x}" for i in (0xA1, 0xB2, 0xC3))


def config(tmp_path, section: dict | None) -> Config:
    return Config(tmp_path / "gridchain.toml", {} if section is None else {"monitoring": section})


def test_section_values(tmp_path):
    s = monitoring(config(tmp_path, {"nodes": [A, B, C], "m": 2}))
    assert (len(s.nodes), s.m, s.monitor, s.grace_s, s.poll_s, s.confirmations) == (3, 2, "owner", 86_400, 5.0, 0)
    assert s.deploy_settings() == {"nodes": [n for n in s.nodes], "m": 2}
    s = monitoring(config(tmp_path, {"nodes": [A], "m": 1, "monitor": "watcher", "grace_s": 0, "confirmations": 3}))
    assert (s.monitor, s.grace_s, s.confirmations) == ("watcher", 0, 3)


@pytest.mark.parametrize(
    "section, option, words",
    [
        (None, "monitoring", "no [monitoring] section"),
        ({"m": 1}, "monitoring.nodes", "must be a list of 1 to 32 addresses"),
        ({"nodes": [], "m": 1}, "monitoring.nodes", "must be a list"),
        ({"nodes": [A] * 33, "m": 1}, "monitoring.nodes", "must be a list"),
        ({"nodes": [A, "0x12"], "m": 1}, "monitoring.nodes[1]", ""),
        ({"nodes": [A, B, A.upper().replace("0X", "0x")], "m": 1}, "monitoring.nodes[2]", "is listed twice"),
        ({"nodes": [A, B]}, "monitoring.m", "is required"),
        ({"nodes": [A, B], "m": 3}, "monitoring.m", "outside 1..2"),
        ({"nodes": [A, B], "m": 0}, "monitoring.m", "outside 1..2"),
        ({"nodes": [A], "m": 1, "grace_s": -1}, "monitoring.grace_s", "outside"),
        ({"nodes": [A], "m": 1, "poll_s": "fast"}, "monitoring.poll_s", "not a number"),
        ({"nodes": [A], "m": 1, "treshold": 1}, "monitoring.treshold", "unknown option"),
    ],
)
def test_bad_sections_name_the_option(tmp_path, section, option, words):
    with pytest.raises(InputError) as e:
        monitoring(config(tmp_path, section))
    assert e.value.field == option and words in e.value.reason


@pytest.mark.integration
def test_deploy_on_anvil_and_open(tmp_path):
    from gridchain.chain.anvil import start_anvil
    from gridchain.monitoring.cli.chain import open_monitoring, read_config

    extra = f'\n[monitoring]\nnodes = ["{A}", "{B}", "{C}"]\nm = 2\n'
    with start_anvil() as node:
        path = write_pilot(tmp_path, node.url, accounts={"owner": None}, extra=extra)
        r = runner.invoke(app, ["deploy", "data_access", "--config", str(path)])
        assert r.exit_code == 2 and "deployment.access_log: is not deployed" in r.stderr
        for target in ("access_log", "data_access", "data_access"):  # the second is reused
            r = runner.invoke(app, ["deploy", target, "--json", "--config", str(path)])
            assert r.exit_code == 0, r.stderr
        assert json.loads(r.stdout)["contracts"]["data_access"]["reused"] is True
        d = open_monitoring(read_config(path), [])
        assert [n.lower() for n in d.log.nodes()] == [A, B, C] and d.log.threshold() == 2
        assert d.consent.access_log().lower() == d.log.address.lower()
        assert d.store.roots() == [] and d.from_block > 0
