"""The daemons' shared banner: one JSON line with --json (keys as given), else a title and `key  value` lines
within 80 columns, long values shortened where a reader still recognises them."""

import json

from gridchain.ui.banner import banner_lines, print_banner, shorten

ADDRESS = "0x" + "ab12" * 10
INFO = {"service": "relayer", "relayer": ADDRESS, "batch": 20, "state": None, "note": "x" * 120, "pid": 7}


def test_json_is_one_line_with_every_key(capsys):
    print_banner("relayer", INFO, as_json=True, hide=("service",))
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and json.loads(out) == INFO


def test_text_is_a_title_then_aligned_fields_within_80_columns():
    lines = banner_lines("relayer at http://127.0.0.1:8701 (pid 7)", INFO, hide=("service", "pid"))
    assert lines[0] == "relayer at http://127.0.0.1:8701 (pid 7)"
    assert lines[1:4] == [f"  relayer  {ADDRESS}", "  batch    20", "  state    -"]
    assert lines[4].startswith("  note     xxx") and lines[4].endswith("...") and len(lines[4]) == 80
    assert all(len(line) <= 80 for line in lines) and len(lines) == 5


def test_shorten_keeps_both_ends_of_hex_and_the_start_of_text():
    assert shorten("0x" + "0123456789" * 8, 21) == "0x0123456...123456789"
    tx = "0x" + "ab" * 32
    short = shorten(tx, 20)
    assert len(short) == 20 and short.startswith("0xabab") and short.endswith("abab") and "..." in short
    assert shorten("http://a-long-host.example:8545/path", 20) == "http://a-long-hos..."
    assert shorten("fits", 4) == "fits"


def test_lists_and_mappings_read_as_items():
    lines = banner_lines("t", {"charge_points": {"CP1": "cp1"}, "evs": ["p1", "p2"], "none": []})
    assert lines[1:] == ["  charge_points  CP1 cp1", "  evs            p1, p2", "  none           -"]
