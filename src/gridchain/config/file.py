"""`gridchain.toml`: one deployment's configuration, read once, every value checked where it is read.

A feature reads its own section with a `Section`: typed getters that name the option on bad input
(`community.slot_length_s: 0 is outside 1..86400`), then `done()`, which refuses any key nobody read (a typo
would otherwise be silently ignored). Relative paths are relative to the file, not to the working directory,
so every party finds the same files from anywhere.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gridchain.checks import show
from gridchain.errors import InputError

CONFIG_ENV = "GRIDCHAIN_CONFIG"
DEFAULT_CONFIG = "gridchain.toml"


@dataclass
class Config:
    path: Path
    data: dict[str, Any]

    @property
    def dir(self) -> Path:
        return self.path.parent

    def section(self, name: str, required: bool = True) -> Section:
        """The `[name]` table (dotted names for sub-tables: `community.capacity`)."""
        table: Any = self.data
        for part in name.split("."):
            table = table.get(part) if isinstance(table, dict) else None
            if table is None:
                if required:
                    raise InputError(name, f"{self.path} has no [{name}] section")
                table = {}
                break
        if not isinstance(table, dict):
            raise InputError(name, f"must be a table ([{name}]), not {show(table)}")
        return Section(name, table, self.dir)

    def has(self, name: str) -> bool:
        table: Any = self.data
        for part in name.split("."):
            if not isinstance(table, dict) or part not in table:
                return False
            table = table[part]
        return True


def config_path(option: Path | None) -> Path:
    """--config, else $GRIDCHAIN_CONFIG, else ./gridchain.toml."""
    return Path(option or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: Path) -> Config:
    """Read and parse a gridchain.toml; an unreadable or malformed file is an InputError naming --config."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(
            "--config", f"{str(path)!r} does not exist (write one with `gridchain init`, or pass --config)"
        ) from None
    except OSError as e:
        raise InputError("--config", f"cannot read {str(path)!r}: {e.strerror or e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputError("--config", f"{str(path)!r} is not valid TOML: {e}") from None
    return Config(path.resolve(), data)


_MISSING = object()


@dataclass
class Section:
    """One table of the config; getters check and return values, `done()` refuses keys nobody asked for."""

    name: str
    table: dict[str, Any]
    base: Path
    read: set[str] = field(default_factory=set)

    def option(self, key: str) -> str:
        """The full name of `key`, as errors name it: `community.slot_length_s`."""
        return f"{self.name}.{key}"

    def _get(self, key: str, default: Any) -> Any:
        self.read.add(key)
        value = self.table.get(key, default)
        if value is _MISSING:
            raise InputError(self.option(key), "is required")
        return value

    def int(self, key: str, lo: int, hi: int, default: Any = _MISSING) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(self.option(key), f"{show(value)} is not an integer")
        if not lo <= value <= hi:
            raise InputError(self.option(key), f"{value} is outside {lo}..{hi}")
        return value

    def float(self, key: str, lo: float, hi: float, default: Any = _MISSING) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(self.option(key), f"{show(value)} is not a number")
        if not lo <= value <= hi:
            raise InputError(self.option(key), f"{value} is outside {lo}..{hi}")
        return float(value)

    def bool(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise InputError(self.option(key), f"{show(value)} is not true or false")
        return value

    def str(self, key: str, default: Any = _MISSING, choices: tuple[str, ...] = ()) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise InputError(self.option(key), f"{show(value)} is not a string")
        if choices and value not in choices:
            raise InputError(self.option(key), f"{value!r} is not one of {', '.join(choices)}")
        return value

    def path(self, key: str, default: Any = _MISSING) -> Path:
        """A path, relative to the config file's folder unless absolute."""
        value = self.str(key, default)
        if not value:
            raise InputError(self.option(key), "is an empty path")
        return self.base / Path(value).expanduser()

    def listen(self, key: str, default: Any = _MISSING) -> tuple[str, int]:
        """A listening address `host:port` (port 0: any free port)."""
        value = self.str(key, default)
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise InputError(self.option(key), f"{value!r} is not host:port (e.g. 127.0.0.1:8700)")
        return host, int(port)

    def address(self, key: str, default: Any = _MISSING) -> str:
        from gridchain.checks import parse_address

        return parse_address(self.option(key), self._get(key, default))

    def addresses(self, key: str, most: int, default: Any = _MISSING) -> tuple[str, ...]:
        """A list of 1 to `most` distinct addresses (checksummed)."""
        from gridchain.checks import parse_address

        value = self._get(key, default)
        if not isinstance(value, list) or not 1 <= len(value) <= most:
            raise InputError(self.option(key), f"{show(value)} must be a list of 1 to {most} addresses")
        out = tuple(parse_address(f"{self.option(key)}[{i}]", a) for i, a in enumerate(value))
        for i, address in enumerate(out):
            if address in out[:i]:
                raise InputError(f"{self.option(key)}[{i}]", f"{address} is listed twice")
        return out

    def done(self) -> None:
        """Refuse keys that no getter read: a misspelt option must not be silently ignored."""
        unknown = sorted(k for k in self.table if k not in self.read and not isinstance(self.table[k], dict))
        if unknown:
            known = ", ".join(sorted(self.read)) or "none"
            raise InputError(self.option(unknown[0]), f"unknown option (this section knows: {known})")
