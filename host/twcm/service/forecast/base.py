"""A solar forecast: `async solar(now) -> list[SolarSlot]`, the expected generation of the
site's panels over the next hours (W per slot). One module per service registers itself
with `register(...)`; `[site.forecast]` picks one by `type` (docs/planner.md). Fetching
it on time, with back-off, is the tariffs' feed (twcm.service.tariffs.feed.ForecastFeed).
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from twcm.service.policy.planner import SolarSlot
from twcm.service.sources.http import check_url


class ForecastError(Exception):
    """The forecast cannot be had; the message says why in a user's words."""


class Forecast(Protocol):
    async def solar(self, now: datetime) -> list[SolarSlot]:
        ...


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class PlantOptions(Options):
    """What every forecast of a PV plant takes: where it is, its size, the service."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    kwp: float = Field(gt=0, le=1000)
    url: str
    timeout_s: float = Field(10.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)


@dataclass(frozen=True)
class Kind:
    options: type[Options]
    make: Callable[[Any], Forecast]
    interval_s: float


REGISTRY: dict[str, Kind] = {}


def register(name: str, options: type[Options], make: Callable[[Any], Forecast], *,
             interval_s: float = 3600.0) -> None:
    if name in REGISTRY:
        raise ValueError(f"forecast type {name!r} is registered twice")
    REGISTRY[name] = Kind(options, make, interval_s)


def kinds() -> dict[str, Kind]:
    """Every forecast type, by its `type` name."""
    from twcm.service import forecast as package

    for mod in pkgutil.iter_modules(package.__path__):
        if mod.name != "base":
            importlib.import_module(f"{package.__name__}.{mod.name}")
    return REGISTRY
