"""The logging backends' interface and registry: each backend module registers itself
with the options its `[[logging]]` table takes (docs/logging.md).

A backend is called from the history writer's own thread, never from the event loop, with
batches in the order the records were made. `write` keeps the whole batch or raises: the
writer holds a batch that failed and offers it again later (a database that is down).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Protocol, Sequence

from pydantic import BaseModel

from twcm.service.history.records import Record


class Backend(Protocol):
    def write(self, batch: Sequence[Record]) -> None:
        """Keep every record of the batch, or raise and keep none of it for good."""

    def close(self) -> None:
        """Flush and let go of files and connections."""


@dataclass(frozen=True)
class Kind:
    """A backend type: its `[[logging]]` options and how to make one from them."""

    name: str
    options: type[BaseModel]
    make: Callable[[BaseModel], Backend]


_KINDS: dict[str, Kind] = {}
# The modules of twcm.service.history that register a backend (imported by name, as the
# sources' registry does, so that this module and theirs do not import each other).
MODULES = ("csv_log", "files_log", "console_log")


def register(name: str, options: type[BaseModel]) -> Callable[[Callable], Callable]:
    """Decorator for a backend's factory: `@register("csv", CsvOptions)`."""
    def add(make: Callable[[BaseModel], Backend]) -> Callable[[BaseModel], Backend]:
        if name in _KINDS:
            raise ValueError(f"logging backend {name!r} is registered twice")
        _KINDS[name] = Kind(name, options, make)
        return make
    return add


def kinds() -> dict[str, Kind]:
    """Every backend type, by name (importing the backend modules registers them)."""
    for module in MODULES:
        importlib.import_module(f"twcm.service.history.{module}")
    return dict(_KINDS)
