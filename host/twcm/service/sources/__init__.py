"""Sources of meter readings: generation, consumption, grid, home battery.

A source is anything with `async def read() -> Reading`; it raises `SourceError` (or any
exception) when the meter cannot be read, and never makes up a value it was not given:
what it cannot tell stays None. Each kind lives in one module of twcm.service.sources.integrations
that calls `register(...)` when imported: `Options` is the pydantic model of its keys in a
`[[site.source]]` table (besides the keys every source has, see twcm.service.config), `make`
turns validated options into a source without any I/O (so the config check can build
it). `kinds()` imports every module there, so a new integration is one new file.

Polling, back-off, ages and the combination of several sources are not a source's job:
see feed.py and combine.py.
"""
from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, get_args

from pydantic import BaseModel, ConfigDict

Role = Literal["generation", "consumption", "grid", "battery"]
"""What a source can be used for; each role covers some fields of a Reading (ROLE_FIELDS)."""
ROLES: tuple[Role, ...] = get_args(Role)

ROLE_FIELDS: dict[str, tuple[str, ...]] = {
    "generation": ("generation_w",),
    "consumption": ("consumption_w",),
    "grid": ("grid_import_w", "phase_amps", "volts", "grid_connected"),
    "battery": ("battery_w", "battery_soc"),
}


@dataclass(frozen=True)
class Reading:
    """One set of meter readings; None where the meter does not tell."""

    generation_w: float | None = None  # solar output, >= 0
    consumption_w: float | None = None  # house load, >= 0 (with the chargers if metered)
    grid_import_w: float | None = None  # negative while exporting
    battery_w: float | None = None  # positive while discharging, negative while charging
    battery_soc: float | None = None  # percent
    phase_amps: tuple[float, ...] | None = None  # grid current per phase, negative exporting
    volts: float | None = None  # mains voltage seen by the meter
    grid_connected: bool | None = None  # False: off grid (e.g. a Powerwall islanding)
    at: float = field(default_factory=time.time)  # Unix time the readings were taken


class SourceError(Exception):
    """The meter cannot be read; the message says why in a user's words (the service
    adds which source)."""


class Source(Protocol):
    async def read(self) -> Reading:
        """The latest readings; SourceError (or another exception) if they cannot be had."""
        ...


class Options(BaseModel):
    """Base of each source's options: TOML types as they are, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


@dataclass(frozen=True)
class Kind:
    options: type[Options]
    make: Callable[[Any], Source]  # called with an instance of `options`
    interval_s: float  # how often it is read unless the config says otherwise
    min_interval_s: float  # never more often: the device's or the API's limit
    roles: Callable[[Any], tuple[str, ...]]  # what it can give, from its options


REGISTRY: dict[str, Kind] = {}


def register(name: str, options: type[Options], make: Callable[[Any], Source], *,
             interval_s: float = 2.0, min_interval_s: float = 1.0,
             roles: tuple[str, ...] | Callable[[Any], tuple[str, ...]] = ROLES) -> None:
    """Make a source type known by the name the config gives as `type`.

    `roles`: the roles it can fill, or a function of its options that says (for a source
    that reads one value whose meaning the config gives)."""
    if name in REGISTRY:
        raise ValueError(f"source type {name!r} is registered twice")
    fixed = roles
    REGISTRY[name] = Kind(options, make, interval_s, min_interval_s,
                          fixed if callable(fixed) else (lambda _o: fixed))


def kinds() -> dict[str, Kind]:
    """Every source type, by the name the config gives as `type`."""
    from twcm.service.sources import integrations as package

    for mod in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{mod.name}")
    return REGISTRY
