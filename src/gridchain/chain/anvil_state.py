"""An anvil state file that survives SIGKILL: anvil dumps it every `--state-interval` seconds by truncating and
rewriting it in place, so a kill during a dump leaves a half file that anvil then refuses to load. The node keeps
the last complete dump beside it (`<state>.good`, copied atomically: temporary file, then rename) and puts it
back before starting anvil when the state file does not parse. A restart thus loses at most the blocks of the
last interval or so, never the chain.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


def backup_of(state: Path) -> Path:
    return state.with_name(state.name + ".good")


def _complete(data: bytes) -> bool:
    """Whether `data` is a whole JSON object (a dump cut by a kill is not)."""
    try:
        return isinstance(json.loads(data), dict)
    except ValueError:
        return False


def restore(state: Path) -> bool:
    """Before anvil starts: put the last complete dump back if `state` exists but is cut short. Whether it did."""
    backup = backup_of(state)
    if not state.is_file() or not backup.is_file() or _complete(state.read_bytes()):
        return False
    _replace(state, backup.read_bytes())
    return True


def _replace(path: Path, data: bytes) -> None:
    """Write `path` atomically (a kill leaves the old file or the new one)."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


@dataclass
class StateBackup:
    """Copies each new complete dump of `state` to its backup (`check` is called about twice per interval)."""

    state: Path
    seen: tuple[int, int] | None = None  # (mtime_ns, size) of the last dump looked at

    def check(self) -> bool:
        """Back up the state file if anvil wrote a new complete one since the last look. Whether it did."""
        try:
            info = self.state.stat()
        except FileNotFoundError:
            return False
        stamp = (info.st_mtime_ns, info.st_size)
        if stamp == self.seen:
            return False
        data = self.state.read_bytes()
        if not _complete(data):  # anvil is writing it now: look again next time
            return False
        self.seen = stamp
        _replace(backup_of(self.state), data)
        return True
