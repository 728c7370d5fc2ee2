"""`gridchain deploy committee` from `[committee]`: the values it takes and refuses, and a deployment on anvil
whose members, rule and threshold are the section's."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.committee.cli.deploy import committee_settings
from gridchain.committee.model import FIXED, TWO_THIRDS, UNANIMOUS
from gridchain.config.file import Config
from gridchain.errors import InputError
from tests.support.pilot import init_pilot, write_pilot

runner = CliRunner()
A, B, C = (f"0x{i:040x}" for i in (0xA1, 0xB2, 0xC3))


def config(tmp_path, section: dict | None) -> Config:
    return Config(tmp_path / "gridchain.toml", {} if section is None else {"committee": section})


def test_section_values(tmp_path):
    s = committee_settings(config(tmp_path, {"members": [A, B, C]}))
    assert (len(s.members), s.rule, s.m) == (3, UNANIMOUS, 0)
    assert committee_settings(config(tmp_path, {"members": [A, B, C], "rule": "two-thirds"})).rule == TWO_THIRDS
    s = committee_settings(config(tmp_path, {"members": [A, B, C], "rule": "fixed", "m": 2}))
    assert (s.rule, s.m) == (FIXED, 2)


@pytest.mark.parametrize(
    ("section", "option", "words"),
    [
        (None, "committee", "no [committee] section"),
        ({}, "committee.members", "must be a list of 1 to 32 addresses"),
        ({"members": []}, "committee.members", "must be a list"),
        ({"members": [A] * 33}, "committee.members", "must be a list"),
        ({"members": [A, "lag-2"]}, "committee.members[1]", "'lag-2' is not an address"),
        ({"members": [A, B, A.upper().replace("0X", "0x")]}, "committee.members[2]", "is listed twice"),
        ({"members": [A, B], "rule": "majority"}, "committee.rule", "'majority' is not one of"),
        ({"members": [A, B], "rule": "fixed"}, "committee.m", "is required"),
        ({"members": [A, B], "rule": "fixed", "m": 3}, "committee.m", "3 is outside 1..2"),
        ({"members": [A, B], "m": 1}, "committee.m", 'is only for rule = "fixed"'),
        ({"members": [A, B], "quorum": 1}, "committee.quorum", "unknown option"),
    ],
)
def test_bad_sections_name_the_option(tmp_path, section, option, words):
    with pytest.raises(InputError, match=f"^{re.escape(option)}: .*{re.escape(words)}"):
        committee_settings(config(tmp_path, section))


@pytest.mark.integration
def test_deploy_all_skips_the_committee_without_its_section(tmp_path):
    from gridchain.chain.anvil import start_anvil

    with start_anvil(accounts=4) as node:
        path = init_pilot(tmp_path / "pilot", 2, rpc_url=node.url)  # what `gridchain init` writes: no [committee]
        r = runner.invoke(app, ["deploy", "all", "--json", "--config", str(path)])
        assert r.exit_code == 0, r.stderr
        out = json.loads(r.stdout)
        assert {"committee", "access_log", "data_access"} <= set(out["skipped"]) and "committee" not in out["contracts"]
        assert {"coordinator", "metering", "market"} <= set(out["contracts"])
        r = runner.invoke(app, ["deploy", "committee", "--config", str(path)])
        assert r.exit_code == 2 and r.stderr.startswith("error: committee: ") and "no [committee] section" in r.stderr


@pytest.mark.integration
def test_deploy_committee_on_anvil(tmp_path):
    from gridchain.chain.anvil import start_anvil
    from gridchain.chain.rpc_gateway import RpcGateway
    from gridchain.committee.client import CommitteeClient

    extra = f'\n[committee]\nmembers = ["{A}", "{B}", "{C}"]\nrule = "two-thirds"\n'
    with start_anvil() as node:
        path = write_pilot(tmp_path, node.url, accounts={"owner": None}, extra=extra)
        r = runner.invoke(app, ["deploy", "committee", "--config", str(path)])
        assert r.exit_code == 0, r.stderr
        address = json.loads((tmp_path / "deployment.json").read_text())["contracts"]["committee"]["address"]
        committee = CommitteeClient(RpcGateway(node.url, []), address)
        assert [m.lower() for m in committee.members()] == [A, B, C]
        assert (committee.rule(), committee.threshold(), committee.epoch()) == ((TWO_THIRDS, 0), 2, 0)
