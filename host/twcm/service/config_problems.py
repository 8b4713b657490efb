"""Problems of a TOML file checked by pydantic models, in a user's words (config_load.py): the key
(a site by its name), the bad value, the problem and the fix; an unknown key with the known
key nearest to it.
"""
from __future__ import annotations

import difflib
import json
import re
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

DOCS = "docs/config.md"

Where = tuple[Any, ...]  # a key's path in the TOML: ("site", 0, "policy", "min_amps")
Problem = tuple[Where, str]  # where, and what is wrong there and the fix


def _key(loc: Where) -> str:
    return "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in loc).lstrip(".")


def bad(where: Where, value: Any, problem: str, fix: str) -> Problem:
    text = json.dumps(value) if isinstance(value, (str, bool, list, dict)) else str(value)
    text = text if len(text) <= 60 else text[:57] + "..."
    return where, f"{text} is not allowed: {problem} (fix: {fix})"


def _model_in(hint: Any) -> type[BaseModel] | None:
    """The table model in a field's type (SiteConfig in list[SiteConfig], ... | None)."""
    if isinstance(hint, type) and issubclass(hint, BaseModel):
        return hint
    return next((m for m in map(_model_in, get_args(hint)) if m is not None), None)


def _keys_at(model: type[BaseModel] | None, where: Where) -> list[str]:
    """The keys the table at `where` (inside `model`) may have."""
    for part in where:
        if model is None:
            return []
        if isinstance(part, str):
            field = model.model_fields.get(part)
            model = _model_in(field.annotation) if field is not None else None
    return list(model.model_fields) if model is not None else []


def _table_at(given: Any, where: Where) -> Any:
    """The table at `where` in the data as given (one table where a list may be: itself)."""
    for part in where:
        if isinstance(part, int) and isinstance(given, list) and part < len(given):
            given = given[part]
        elif isinstance(part, str) and isinstance(given, dict):
            given = given.get(part)
        elif not (part == 0 and isinstance(given, dict)):
            return None
    return given


def _unknown(where: Where, key: Any, known: list[str], given: Any) -> Problem:
    """An unknown key, with the known key nearest to it when one is near enough (and not
    in the table already: then it is no misspelling of it)."""
    if isinstance(given, dict):
        known = [k for k in known if k not in given]
    near = difflib.get_close_matches(str(key), known, n=1)
    if near:
        return where, f'unknown key {json.dumps(key)}: did you mean "{near[0]}"?'
    return where, (f"unknown key {json.dumps(key)} (fix: remove it or correct its spelling, "
                   f"see {DOCS})")


_BOUNDS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
_TYPES = {"int": "a whole number", "float": "a number", "bool": "true or false",
          "string": "a string in quotes", "list": "a list [...]", "model": "a table",
          "dict": "a table"}


def describe(e: ValidationError, model: type[BaseModel], given: Any, prefix: Where = (),
             also: tuple[str, ...] = ()) -> list[Problem]:
    """One problem per pydantic error of `model` validating `given` (whose table is at
    `prefix`): the bad value, the problem and the fix. `also`: keys its top table may hold
    besides its own."""
    problems = []
    for err in e.errors(include_url=False):
        loc, kind, ctx = tuple(err["loc"]), err["type"], err.get("ctx") or {}
        where = prefix + loc
        if kind == "missing":
            problems.append((where, f"missing (fix: add it, see {DOCS})"))
        elif kind == "extra_forbidden":
            known = _keys_at(model, loc[:-1]) + (list(also) if len(loc) == 1 else [])
            problems.append(_unknown(where[:-1], loc[-1], known, _table_at(given, loc[:-1])))
        elif bound := next((b for b in _BOUNDS if b in ctx), None):
            need = f"{_BOUNDS[bound]} {ctx[bound]}"
            problems.append(bad(where, err["input"], f"must be {need}", f"give a value {need}"))
        elif kind == "literal_error":
            problems.append(bad(where, err["input"], f"must be {ctx['expected']}",
                                f"give one of {ctx['expected']}"))
        elif kind.endswith("_type") and kind[:-5] in _TYPES:
            need = _TYPES[kind[:-5]]
            problems.append(bad(where, err["input"], f"must be {need}", f"give {need}"))
        else:  # our validators: "problem: give ..." ; pydantic's own: its message
            problem, *fix = re.split(r"[:;] ((?:give|export) .*)", err["msg"])[:2]
            problems.append(bad(where, err["input"], problem.removeprefix("Value error, "),
                                fix[0] if fix else f"see {DOCS}"))
    return problems


def line(data: dict[str, Any], where: Where, text: str) -> str:
    """A problem as the user reads it: a site by its name where it has one of its own
    (site "home": policy.min_amps: ...), else by its place (site[0].name: missing); one
    [site.source] table without the [0] of a list."""
    at = _key(where)
    sites = data.get("site")
    i = where[1] if where[:1] == ("site",) and len(where) > 1 else None
    if isinstance(i, int) and isinstance(sites, list) and i < len(sites) \
            and isinstance(sites[i], dict):
        table, rest = sites[i], where[2:]
        if rest[:2] == ("source", 0) and isinstance(table.get("source"), dict):
            rest = ("source",) + rest[2:]
        name = table.get("name")
        named = [s.get("name") for s in sites if isinstance(s, dict)].count(name) == 1
        if isinstance(name, str) and name and named:
            at = f"site {json.dumps(name, ensure_ascii=False)}"
            at += f": {_key(rest)}" if rest else ""
        else:
            at = _key(where[:2] + rest)
    return f"{at}: {text}" if at else text
