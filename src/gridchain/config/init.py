"""What `gridchain init` hands each feature so it can write its part of a new pilot: the folder, the keystore
password and cost, and the pilot's size. A feature's `init` hook writes its files and returns its TOML sections.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from gridchain.crypto.keystore import new_key, write_keystore, write_private


@dataclass(frozen=True)
class InitOptions:
    dir: Path
    password: str
    scrypt_n: int
    members: int  # ESUs to create (identity keystores and the members file)
    port_base: int  # services listen on 127.0.0.1:port_base + k
    slot_length_s: int = 60  # the community's slot length [s]
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (name, comment) a feature added to [accounts]

    def keystore(self, relative: str) -> str:
        """A new key, encrypted into `dir/relative`; returns its address."""
        return write_keystore(self.dir / relative, new_key(), self.password, self.scrypt_n)

    def account(self, name: str, comment: str) -> str:
        """A funded account of the feature's: a keystore `keys/<name>.json` listed in [accounts]; its address."""
        self.accounts.append((name, comment))
        return self.keystore(f"keys/{name}.json")

    def secret(self, relative: str) -> None:
        """A new random token (an admin token), readable by its owner only, in `dir/relative`."""
        write_private(self.dir / relative, secrets.token_hex(24) + "\n")


COMMENT_COLUMN = 30
"""Where `gridchain init` starts a line's comment (0-based), unless the section's keys are longer."""
WIDTH = 100


def align_comments(text: str, column: int = COMMENT_COLUMN, width: int = WIDTH) -> str:
    """The TOML `text` with each section's end-of-line comments in one column: `column`, or further right when a
    key line of the section is longer, as long as every line stays within `width`. Where one column cannot hold
    them all, short lines keep `column` and the long ones share their own; a comment that fits nowhere goes on
    its own line above its key."""
    out: list[str] = []
    section: list[tuple[str, str | None]] = []
    for line in text.splitlines():
        code, comment = _split_comment(line)
        if code.startswith("[") and section:
            out += _aligned(section, column, width)
            section = []
        section.append((code, comment))
    out += _aligned(section, column, width)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def _aligned(lines: list[tuple[str, str | None]], column: int, width: int) -> list[str]:
    commented = [(code, comment) for code, comment in lines if comment is not None and code]
    one = max([column, *(len(code) + 1 for code, _ in commented)])
    if all(one + len(comment) <= width for _, comment in commented):
        return [_line(code, comment, one) for code, comment in lines]
    short = {code for code, comment in commented if len(code) + 1 <= column and column + len(comment) <= width}
    rest = [len(code) + 1 for code, _ in commented if code not in short]
    other = max([column, *rest])
    out = []
    for code, comment in lines:
        at = column if code in short else other
        if comment is not None and code and at + len(comment) > width:
            out += [comment, code]  # too long for any column: the comment above its key
        else:
            out.append(_line(code, comment, at))
    return out


def _line(code: str, comment: str | None, at: int) -> str:
    if comment is None:
        return code
    return f"{code:<{at}}{comment}" if code else comment


def _split_comment(line: str) -> tuple[str, str | None]:
    """(code without trailing blanks, `# comment` or None): a `#` inside a quoted string is no comment."""
    quote = None
    escaped = False
    for i, char in enumerate(line):
        if escaped:
            escaped = False
        elif quote:
            escaped = char == "\\" and quote == '"'
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:i].rstrip(), line[i:]
    return line.rstrip(), None
