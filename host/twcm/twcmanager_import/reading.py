"""Reading TWCManager's files as TWCManager reads them, and their values with errors that
name the key.

config.json is JSON with comments: TWCManager blanks every line that starts with `#` or
`//`, cuts each other line at its first `#`, and parses what is left as YAML (so trailing
commas, as in its own example file, are fine). settings.json is plain JSON, written by
TWCManager itself; values typed into its web page are often strings ("16").
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


# How TWCManager's files (its web page's check boxes too) say yes and no.
TRUE = ("true", "1", "on", "yes")
FALSE = ("false", "0", "off", "no", "")


class InputError(ValueError):
    """A TWCManager file cannot be read or holds a value of the wrong kind; the message
    names the file, the key and the fix."""


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file (fix: give the path of TWCManager's {what}, "
                         f"usually /etc/twcmanager/{what})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read it: {getattr(e, 'strerror', None) or e}") \
            from None


def strip_comments(text: str) -> str:
    """config.json without its comments, exactly as TWCManager strips them (line numbers
    are kept, so a parse error points at the right line)."""
    out = []
    for line in text.splitlines():
        if line.lstrip().startswith(("#", "//")):
            out.append("")
        else:
            out.append(line.replace("\t", " ").split("#")[0])
    return "\n".join(out) + "\n"


def read_config(path: Path) -> Section:
    """config.json as a Section; InputError if it is missing or not what TWCManager reads."""
    text = strip_comments(_read_text(path, "config.json"))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise InputError(f"{path}: not JSON (with # or // comments) as TWCManager reads "
                         f"it{where}: {problem} (fix: correct the file; TWCManager "
                         "itself would not start with it)") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a TWCManager config.json: it holds "
                         f"{_kind(data)}, not an object with a \"config\" section")
    if "config" not in data:
        raise InputError(f"{path}: no \"config\" section: is this TWCManager's config.json? "
                         "(fix: give the file TWCManager starts with, /etc/twcmanager/"
                         "config.json)")
    return Section(data, path.name, "")


def read_settings(path: Path) -> Section:
    """settings.json as a Section; InputError if it is missing or not a JSON object."""
    text = _read_text(path, "settings.json")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not JSON at line {e.lineno}, column {e.colno}: {e.msg} "
                         "(fix: give TWCManager's settings.json, or its .backup copy)") \
            from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not TWCManager's settings.json: it holds {_kind(data)}, "
                         "not an object")
    return Section(data, path.name, "", named=True)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


@dataclass(frozen=True)
class Section:
    """One object of a TWCManager file, with getters that accept what TWCManager accepts
    (numbers as numbers or numeric strings) and name the key when a value is wrong."""

    data: dict[str, Any]
    file: str
    path: str  # the dotted key of this object, "" for the top
    named: bool = False  # its keys are reported with the file's name (settings.json)

    def key(self, name: str) -> str:
        """The dotted key of `name`, e.g. "sources.HASS.apiKey"."""
        return f"{self.path}.{name}" if self.path else name

    def label(self, name: str) -> str:
        """How a report names `name`: its key, after the file's name for settings.json."""
        return f"{self.file}: {self.key(name)}" if self.named else self.key(name)

    def where(self, name: str) -> str:
        return f"{self.file}: {self.key(name)}"

    def error(self, name: str, problem: str, fix: str) -> InputError:
        return InputError(f"{self.where(name)}: {self.data.get(name)!r} {problem} "
                          f"(fix: {fix})")

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def section(self, name: str) -> Section:
        """The object under `name`; empty if it is not there."""
        value = self.data.get(name)
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise self.error(name, f"is {_kind(value)}, not an object",
                             f'write it as {{"key": value, ...}} or remove it')
        return Section(value, self.file, self.key(name), self.named)

    def names(self) -> list[str]:
        return list(self.data)

    def number(self, name: str, default: float | None = None) -> float | None:
        """A finite number (or a numeric string); `default` when absent."""
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise self.error(name, "is not a number", "give a number, e.g. 16") \
                    from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise self.error(name, f"is {_kind(value)}, not a number",
                             "give a number, e.g. 16")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """true/false (also 1/0, and the strings of TRUE and FALSE, as the web page stores)."""
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
            return value.strip().lower() in TRUE
        raise self.error(name, "is not true or false", "give true or false")

    def text(self, name: str, default: str | None = None) -> str | None:
        """A string (a number is taken as its text, e.g. a port); `default` when absent or
        empty."""
        value = self.data.get(name)
        if isinstance(value, bool) or isinstance(value, (dict, list)):
            raise self.error(name, f"is {_kind(value)}, not a string",
                             'give it in quotes, e.g. "192.168.1.2"')
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if value is None or str(value).strip() == "":
            return default
        return str(value).strip()
