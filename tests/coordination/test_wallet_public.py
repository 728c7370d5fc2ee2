"""An ESU wallet's public view: its one reader refuses anything but the versioned format, naming the field and
value; `gridchain esu export` names the option of bad input in one line (exit 2)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from gridchain.cli import app
from gridchain.coordination.parties.wallet_public import FORMAT, MAX_REQUESTS, PublicRequest, parse_public_view
from gridchain.errors import InputError
from tests.support.pilot import init_pilot

PSEUDONYM = "0x" + "ab" * 20
COMMUNITY = "0x" + "cd" * 20
TX = "0x" + "12" * 32


def view(**changes) -> dict:
    request = {"pseudonym": PSEUDONYM, "arrival": (7 << 32) | 3, "slot": 7, "tx": TX}
    body = {"format": FORMAT, "chain_id": 31337, "community": COMMUNITY, "requests": [dict(request)]}
    for key, value in changes.items():
        if key.startswith("r_"):
            body["requests"][0][key[2:]] = value
        else:
            body[key] = value
    return body


def test_a_public_view_round_trips():
    parsed = parse_public_view(view())
    assert parsed.requests == (PublicRequest(parsed.requests[0].pseudonym, (7 << 32) | 3, TX),)
    assert parsed.requests[0].slot == 7 and parsed.community.lower() == COMMUNITY
    assert parse_public_view(parsed.to_json()) == parsed
    bare = view()
    del bare["requests"][0]["tx"], bare["requests"][0]["slot"]  # both optional
    assert parse_public_view(bare).requests[0].tx is None


@pytest.mark.parametrize(
    "body, message",
    [
        ([], "a public view is a JSON object, not list"),
        (view(format="gridchain-esu-public/2"), "format: \"gridchain-esu-public/2\" is not 'gridchain-esu-public/1'"),
        (view(chain_id=True), "chain_id: true is not an integer"),
        (view(community="0x12"), "community: '0x12' is not an address"),
        (view(requests="all"), 'requests: "all" is not a list'),
        (view(requests=[{}] * (MAX_REQUESTS + 1)), f"requests: {MAX_REQUESTS + 1} entries, at most {MAX_REQUESTS}"),
        (view(requests=[5]), "requests[0]: 5 is not an object"),
        (
            view(r_arrival=7 << 32),
            "requests[0].arrival: 30064771072 is not an arrival number (slot << 32 | k, k from 1)",
        ),
        (view(r_arrival=2**64), "requests[0].arrival: 18446744073709551616 is outside 1..18446744073709551615"),
        (view(r_slot=8), "requests[0].slot: 8 is not the slot of arrival 30064771075 (7)"),
        (view(r_pseudonym=None), "requests[0].pseudonym: None is not an address"),
        (view(r_tx="0xzz"), "requests[0].tx: '0xzz' is not hex"),
        (view(r_signature="0x00"), "requests[0].signature: unknown field (here a public view holds pseudonym, arrival"),
        (view(identity="0x00"), "identity: unknown field (here a public view holds format, chain_id, community"),
    ],
)
def test_bad_views_are_refused_naming_the_field_and_value(body, message):
    with pytest.raises(InputError) as e:
        parse_public_view(body)
    assert str(e.value).startswith(message), str(e.value)


def test_an_arrival_listed_twice_is_refused():
    body = view()
    body["requests"].append(dict(body["requests"][0]))
    with pytest.raises(InputError, match=r"requests\[1\]\.arrival: 30064771075 is listed twice \(requests\[0\]\)"):
        parse_public_view(body)


def test_export_bad_input_is_one_line_naming_the_option(tmp_path):
    config = init_pilot(tmp_path / "p", rpc_url="http://127.0.0.1:9")
    c = ["--config", str(config)]

    def error(*args: str) -> str:
        r = CliRunner().invoke(app, ["esu", "export", *args, *c])
        assert r.exit_code == 2, (r.exit_code, r.output)
        assert r.stderr.count("\n") == 1, r.stderr
        return r.stderr.strip()

    assert error("--wallet", "esu01", "--out", str(tmp_path)) == f"error: --out: '{tmp_path}' is a folder, not a file"
    assert error("--wallet", "../x").startswith("error: --wallet: '../x' is not a wallet name")
    assert error("--wallet", "nobody").startswith("error: --wallet: no wallet 'nobody' in ")
    assert error("--wallet", "esu01").startswith("error: network.rpc_url: cannot reach an EVM node")
