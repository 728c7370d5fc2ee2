"""An experiment's results on disk, named by its configuration: `<name>.json` (indented) and `<name>.png`.

Shared: imports no feature.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def write_results(out: Path, name: str, data: dict, plot: Callable[[Path], object]) -> tuple[Path, Path]:
    """Write `data` as out/<name>.json and let `plot` draw out/<name>.png; return both paths."""
    json_path, png_path = out / f"{name}.json", out / f"{name}.png"
    json_path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    plot(png_path)
    return json_path, png_path
