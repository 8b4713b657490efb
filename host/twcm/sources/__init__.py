"""Sources of meter readings: generation, consumption, grid import, home battery.

A source is anything with `async def read() -> Reading`. Each kind lives in one module
of this package that calls `register(name, Options, make)` when imported: `Options` is the
pydantic model of its keys in the config's `[site.source]` table (besides `type`), `make`
turns validated options into a source. `kinds()` imports every module here, so a new
integration is one new file.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Reading:
    """One set of meter readings; None where the meter does not tell."""

    generation_w: float | None
    consumption_w: float | None
    grid_import_w: float | None  # negative while exporting
    battery_soc: float | None  # percent
    at: float  # Unix time the readings were taken


class Source(Protocol):
    async def read(self) -> Reading:
        """The latest readings; an exception if the meter cannot be read."""
        ...


class Options(BaseModel):
    """Base of each source's options: TOML types as they are, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


@dataclass(frozen=True)
class Kind:
    options: type[Options]
    make: Callable[[Any], Source]  # called with an instance of `options`


REGISTRY: dict[str, Kind] = {}


def register(name: str, options: type[Options], make: Callable[[Any], Source]) -> None:
    if name in REGISTRY:
        raise ValueError(f"source type {name!r} is registered twice")
    REGISTRY[name] = Kind(options, make)


def kinds() -> dict[str, Kind]:
    """Every source type, by the name the config gives as `type`."""
    for mod in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{mod.name}")
    return REGISTRY
