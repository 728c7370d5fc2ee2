"""A daemon's banner, the first thing it prints on stdout: with --json one JSON line (what scripts and tests
read), else a title line and one `key  value` line per field, each within 80 columns (long values shortened).

Shared by every daemon (node, utility, relayer, keeper, V2V provider): imports no feature.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

WIDTH = 80
STOPS = "SIGTERM or Ctrl-C stops it"


def print_banner(
    title: str,
    info: Mapping[str, object],
    as_json: bool,
    hide: Iterable[str] = (),
    notes: Iterable[str] = (),
) -> None:
    """Print `info` as one JSON line (`as_json`, every key), or as `title` then its fields but `hide` (those the
    title says already), then `notes`, each line shortened to 80 columns. Flushed: a pipe sees it at once."""
    if as_json:
        print(json.dumps(dict(info)), flush=True)
        return
    print("\n".join(banner_lines(title, info, hide, notes)), flush=True)


def banner_lines(
    title: str, info: Mapping[str, object], hide: Iterable[str] = (), notes: Iterable[str] = (), width: int = WIDTH
) -> list[str]:
    """The text banner's lines (see `print_banner`)."""
    hidden = set(hide)
    shown = {key: value for key, value in info.items() if key not in hidden}
    pad = max((len(key) for key in shown), default=0)
    lines = [shorten(title, width)]
    for key, value in shown.items():
        prefix = f"  {key:<{pad}}  "
        lines.append(prefix + shorten(text(value), width - len(prefix)))
    lines += [shorten(f"  {note}", width) for note in notes]
    return lines


def text(value: object) -> str:
    """A field's value as a person reads it: none as "-", lists and mappings as comma-separated items."""
    if value is None:
        return "-"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return ", ".join(text(v) for v in value) if value else "-"
    return str(value)


def shorten(value: str, width: int) -> str:
    """`value` within `width` columns: a hex string keeps its two ends (0x1234...cdef), other text its start."""
    if len(value) <= width:
        return value
    if value.startswith("0x") and width >= 12:
        keep = (width - 3) // 2
        return value[:keep] + "..." + value[len(value) - (width - 3 - keep) :]
    return value[: max(0, width - 3)] + "..."
