"""Reading values out of what meters answer: paths into JSON, numbers given as strings,
units. Every failure is a SourceError that names what was missing or odd."""
from __future__ import annotations

import math
import re
from typing import Any

from twcm.service.sources import SourceError

_STEP = re.compile(r"\.?([^.\[\]]+)|\[(-?\d+)\]")
_UNITS = {"w": 1.0, "kw": 1000.0, "mw": 1e6, "va": 1.0, "kva": 1000.0}


def parse_path(path: str) -> tuple[str | int, ...]:
    """"Body.Data.Site.P_PV" or "meters[0].power" as keys and indexes; ValueError if odd."""
    steps: list[str | int] = []
    pos = 0
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None or m.end() == pos:
            raise ValueError(f'cannot read the path at "{path[pos:]}": give keys joined by '
                             'dots and list indexes in brackets, e.g. "site.meters[0].w"')
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)))
        pos = m.end()
    if not steps:
        raise ValueError('the path is empty: give e.g. "site.power_w"')
    return tuple(steps)


def dig(doc: Any, path: str | tuple[str | int, ...]) -> Any:
    """The value at `path` in a JSON document; SourceError naming the missing step."""
    steps = parse_path(path) if isinstance(path, str) else path
    here = doc
    for i, step in enumerate(steps):
        try:
            here = here[step]
        except (KeyError, IndexError, TypeError):
            done = _show(steps[:i + 1])
            raise SourceError(f"the answer has no {done}") from None
    return here


def _show(steps: tuple[str | int, ...]) -> str:
    return "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps).lstrip(".")


def number(value: Any, what: str) -> float | None:
    """A finite float from a JSON number or a numeric string; None stays None (the meter
    does not know); anything else is a SourceError naming `what`."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise SourceError(f"{what} is {value!r}, not a number")
    if isinstance(value, (int, float)):
        f = float(value)
    elif isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            raise SourceError(f"{what} is {value!r}, not a number") from None
    else:
        raise SourceError(f"{what} is {value!r}, not a number")
    if not math.isfinite(f):
        raise SourceError(f"{what} is {value!r}, not a finite number")
    return f


def unit_factor(unit: str, what: str) -> float:
    """Watts per unit for "W", "kW", "MW" (any case); SourceError for another unit."""
    try:
        return _UNITS[unit.strip().lower()]
    except KeyError:
        raise SourceError(f"{what} is in {unit!r}, not W or kW") from None


def watts_with_unit(text: str, what: str, default_unit: str = "W") -> float:
    """"1234.5", "3456.7 W" or "2.5 kW" in watts; SourceError for anything else."""
    parts = text.strip().split()
    if len(parts) == 1:
        value, unit = parts[0], default_unit
    elif len(parts) == 2:
        value, unit = parts
    else:
        raise SourceError(f"{what} is {text!r}, not a power")
    f = number(value, what)
    assert f is not None
    return f * unit_factor(unit, what)
