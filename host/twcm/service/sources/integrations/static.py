"""`type = "static"`: fixed readings from the config, for trying twcm out."""
from __future__ import annotations

from pydantic import Field

from twcm.service.sources import Options, Reading, register


class StaticOptions(Options):
    generation_w: float | None = Field(None, ge=0)
    consumption_w: float | None = Field(None, ge=0)
    grid_import_w: float | None = None
    battery_soc: float | None = Field(None, ge=0, le=100)


class Static:
    """Always the configured values (a key left out is an unknown reading)."""

    def __init__(self, options: StaticOptions) -> None:
        self.o = options

    async def read(self) -> Reading:
        o = self.o
        return Reading(generation_w=o.generation_w, consumption_w=o.consumption_w,
                       grid_import_w=o.grid_import_w, battery_soc=o.battery_soc)


register("static", StaticOptions, Static, interval_s=1.0, min_interval_s=0.1)
