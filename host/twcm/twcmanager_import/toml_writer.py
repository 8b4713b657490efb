"""A small TOML writer for the imported twcm.toml: tables in a given order, each key with an
optional comment, comment lines above a table. tomllib only reads; the few value kinds
twcm.toml needs (strings, numbers, booleans, lists of them) are simple enough that a
dependency for writing them is not worth it, and this way every comment sits where a
reader looks for it."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def value(v: Any) -> str:
    """One TOML value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{v!r} has no TOML form here")
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, str):
        return string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def string(s: str) -> str:
    """A basic TOML string, escaped."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def key(k: str) -> str:
    return k if _BARE_KEY.match(k) else string(k)


@dataclass
class Table:
    """`[name]`, or `[[name]]` when `array`; an empty name holds top-level keys."""

    name: str
    array: bool = False
    comments: list[str] = field(default_factory=list)  # lines above the header
    entries: list[tuple[str, Any, str]] = field(default_factory=list)  # key, value, comment

    def set(self, k: str, v: Any, comment: str = "") -> None:
        self.entries = [e for e in self.entries if e[0] != k] + [(k, v, comment)]

    def get(self, k: str, default: Any = None) -> Any:
        return next((v for name, v, _ in self.entries if name == k), default)


def _comment(text: str) -> list[str]:
    return [("# " + line).rstrip() for line in text.splitlines()] or ["#"]


def render(header: list[str], tables: list[Table]) -> str:
    """The document: the header comment lines, then each table in order."""
    lines = [c for text in header for c in _comment(text)]
    for t in tables:
        if t.name and not t.entries and not t.array:
            continue  # an empty [table] says nothing
        lines.append("")
        lines += [c for text in t.comments for c in _comment(text)]
        if t.name:
            lines.append(f"[[{t.name}]]" if t.array else f"[{t.name}]")
        for k, v, note in t.entries:
            line = f"{key(k)} = {value(v)}"
            lines.append(f"{line}  # {note}" if note else line)
    return "\n".join(lines).lstrip("\n") + "\n"
