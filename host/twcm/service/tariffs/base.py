"""Tariffs: what energy costs and what exporting it pays, slot by slot.

A tariff is anything with `async def prices(now) -> list[Slot]`: the slots it knows from
around `now` on (a day-ahead market publishes the next day's around noon), in time order,
of any length (hourly, half-hourly, the 15-minute slots of the day-ahead market since
October 2025). It raises TariffError (or any exception) when the prices cannot be had and
never makes one up. Each kind is a module of twcm.service.tariffs.integrations that calls
`register(...)` when imported: `Options` is the pydantic model of its keys in a
`[[site.tariff]]` table, `make` builds it without any I/O. Polling, back-off and choosing
among several tariffs are feed.py's job.
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class Slot:
    """One price slot: [start, end) in Unix seconds, prices per kWh in `currency`."""

    start: float
    end: float
    import_price: float
    """What a kWh from the grid costs, taxes and fees included as configured."""
    export_price: float
    """What a kWh sent to the grid pays (0 where the tariff pays nothing)."""
    currency: str

    def covers(self, t: float) -> bool:
        return self.start <= t < self.end


class TariffError(Exception):
    """The prices cannot be had; the message says why in a user's words."""


class Tariff(Protocol):
    async def prices(self, now: datetime) -> list[Slot]:
        """The slots known from the one covering `now` (a datetime in the home's zone) on,
        in time order; TariffError if there are none to be had."""
        ...


class Options(BaseModel):
    """Base of each tariff's options: TOML types as they are, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


@dataclass(frozen=True)
class Kind:
    options: type[Options]
    make: Callable[[Any], Tariff]  # called with an instance of `options`
    interval_s: float  # how often its prices are fetched
    min_interval_s: float  # never more often: the API's fair use


REGISTRY: dict[str, Kind] = {}


def register(name: str, options: type[Options], make: Callable[[Any], Tariff], *,
             interval_s: float = 900.0, min_interval_s: float = 60.0) -> None:
    """Make a tariff type known by the name the config gives as `type`."""
    if name in REGISTRY:
        raise ValueError(f"tariff type {name!r} is registered twice")
    REGISTRY[name] = Kind(options, make, interval_s, min_interval_s)


def kinds() -> dict[str, Kind]:
    """Every tariff type, by the name the config gives as `type`."""
    from twcm.service.tariffs import integrations as package

    for mod in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{mod.name}")
    return REGISTRY


def upcoming(slots: list[Slot], now: float) -> list[Slot]:
    """The slots that have not ended by `now`, in time order, overlaps dropped."""
    out: list[Slot] = []
    for s in sorted(slots, key=lambda s: s.start):
        if s.end > now and s.end > s.start and (not out or s.start >= out[-1].end):
            out.append(s)
    return out
