"""The results folder: which files it holds, each recognised and checked once per modification (cache keyed by
path, modification time and size), and the one way a page names a file in it (no path out of the folder, no
link leading out of it)."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from gridchain.dashboard.outputs import KINDS
from gridchain.errors import InputError

MAX_BYTES = 64 * 1024 * 1024  # a larger file is refused, not read


@dataclass(frozen=True)
class Result:
    """One file of the folder: its kind (None: not an experiment's output), its configuration in words, the page's
    view, or what is wrong with it (`error`, the field first)."""

    name: str
    kind: str | None = None
    title: str = ""
    configuration: str = ""
    view: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    skipped: str | None = None  # why the file is not shown as a result

    @property
    def status(self) -> str:
        return "skipped" if self.skipped else "malformed" if self.error else "ok"


class ResultsFolder:
    """The experiments' outputs in `root`; safe to share between the server's threads."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple[int, int], Result]] = {}

    def path_of(self, name: str) -> Path | None:
        """The file `name` names inside the folder, or None: not a plain file name, no such file, or a link out."""
        if not name or name in (".", "..") or any(c in name for c in "/\\\x00") or Path(name).is_absolute():
            return None
        try:
            root = self.root.resolve(strict=True)
            resolved = (root / name).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if resolved.parent != root or not resolved.is_file():
            return None
        return root / name

    def listing(self) -> list[Result]:
        """Every file of the folder by name: JSON files read (from the cache when unchanged), others skipped."""
        try:
            names = sorted(entry.name for entry in os.scandir(self.root))
        except OSError:
            return []
        out = []
        for name in names:
            if not name.endswith(".json"):
                continue
            result = self.read(name)
            if result is None:
                why = "a link out of the results folder" if (self.root / name).is_symlink() else "not a file"
                result = Result(name, skipped=why)
            out.append(result)
        with self._lock:  # forget files that are gone
            for gone in set(self._cache) - set(names):
                del self._cache[gone]
        return out

    def others(self) -> list[str]:
        """The folder's files that are not JSON (plots, logs): not read."""
        try:
            return sorted(e.name for e in os.scandir(self.root) if not e.name.endswith(".json"))
        except OSError:
            return []

    def read(self, name: str) -> Result | None:
        """The file `name` recognised and checked (None if it is not a file in the folder)."""
        path = self.path_of(name)
        if path is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        key = (st.st_mtime_ns, st.st_size)
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and cached[0] == key:
                return cached[1]
        result = load(name, path, st.st_size)
        with self._lock:
            self._cache[name] = (key, result)
        return result


def load(name: str, path: Path, size: int) -> Result:
    """Parse, recognise and check one file; whatever is wrong becomes the result's `error`, never an exception."""
    if size > MAX_BYTES:
        return Result(name, error=f"the file is {size / 2**20:.0f} MiB, more than the {MAX_BYTES // 2**20} MiB read")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        return Result(name, error=f"cannot be read: {e}")
    except json.JSONDecodeError as e:
        return Result(name, error=f"not JSON: {e.msg} at line {e.lineno}, column {e.colno}")
    except RecursionError:
        return Result(name, error="not JSON this dashboard reads: nested too deeply")
    kind = recognise(name, doc)
    if kind is None:
        return Result(name, skipped="not the output of gridchain experiment grid, experiment fig2 or gas-report")
    if not isinstance(doc, dict):
        return Result(name, kind.KIND, kind.TITLE, error=f"the document is {type(doc).__name__}, not an object")
    try:
        return Result(name, kind.KIND, kind.TITLE, kind.configuration(doc), kind.view(doc))
    except InputError as e:
        return Result(name, kind.KIND, kind.TITLE, error=str(e))
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError) as e:
        return Result(name, kind.KIND, kind.TITLE, error=f"unexpected content ({type(e).__name__}: {e})")


def recognise(name: str, doc: Any) -> ModuleType | None:
    """The kind of a document: by its content, else by its file name (then checked as that kind)."""
    if isinstance(doc, dict):
        for kind in KINDS:
            if kind.recognise(doc):
                return kind
    for kind in KINDS:
        if name.startswith(kind.PREFIX):
            return kind
    return None
