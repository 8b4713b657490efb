"""`type = "solarlog"`: a Solar-Log data logger over the local network (`POST /getjp`).

`{"801":{"170":null}}` asks for the summary: key 101 is the solar output (Pac, W), 110
the consumption (W), 100 the logger's time. The grid is 110 - 101, true only without a
battery. While the logger runs an update it answers the date 01.01.99 with every value
0: an error, not a reading of 0 W. `{"782":null}` gives each device's power (strings of
W), read only when devices are to be left out of the consumption.
"""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from twcm.service.sources import Reading, SourceError, register
from twcm.service.sources.http import Http, HttpOptions, parse_json
from twcm.service.sources.values import dig, number

PATH = "/getjp"
SUMMARY = {"801": {"170": None}}
DEVICES = {"782": None}
# Newer firmware wants the header the logger's own web page sends.
HEADERS = {"Content-Type": "text/html", "X-SL-CSRF-PROTECTION": "1"}


class SolarLogOptions(HttpOptions):
    """url: the Solar-Log, e.g. "http://192.168.1.30"."""

    battery: bool = False
    exclude_devices: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list)


def parse_summary(doc: Any, battery: bool = False) -> Reading:
    """The readings in a {"801":{"170":...}} answer; SourceError while it updates."""
    data = dig(doc, ("801", "170"))
    if not isinstance(data, dict):
        raise SourceError(f"801.170 is {data!r}, not an object")
    stamp = str(data.get("100", ""))
    try:
        updating = datetime.strptime(stamp, "%d.%m.%y %H:%M:%S").year == 1999
    except ValueError:
        updating = False  # an odd clock is no reason to drop the powers
    if updating:
        raise SourceError(f"the Solar-Log is updating (it gives the time {stamp!r} and "
                          "0 W everywhere); it reads again when it is done")
    generation = number(data.get("101"), "801.170.101 (solar power)")
    consumption = number(data.get("110"), "801.170.110 (consumption)")
    grid = None
    if not battery and generation is not None and consumption is not None:
        grid = consumption - generation
    return Reading(generation_w=generation, consumption_w=consumption, grid_import_w=grid)


def parse_devices(doc: Any) -> dict[int, float]:
    """Each device's power (W) in a {"782":...} answer, by device number."""
    devices = dig(doc, ("782",))
    if not isinstance(devices, dict):
        raise SourceError(f"782 is {devices!r}, not an object")
    out: dict[int, float] = {}
    for key, value in devices.items():
        power = number(value, f"782.{key} (device power)")
        if key.isdigit() and power is not None:
            out[int(key)] = power
    return out


class SolarLog:
    def __init__(self, o: SolarLogOptions) -> None:
        self.http = Http(o.url, o.timeout_s, o.verify_tls, headers=HEADERS)
        self.battery = o.battery
        self.exclude = o.exclude_devices

    async def _query(self, query: dict[str, Any]) -> Any:
        text = (await self.http.request("POST", PATH, content=json.dumps(query))).text
        if "ACCESS DENIED" in text:
            raise SourceError("the Solar-Log asks for a login (it has a user password): "
                              "twcm cannot log in; remove the user password on the logger")
        return parse_json(text, f"{self.http.base_url}{PATH}")

    async def read(self) -> Reading:
        reading = parse_summary(await self._query(SUMMARY), self.battery)
        if not self.exclude or reading.consumption_w is None:
            return reading
        devices = parse_devices(await self._query(DEVICES))
        missing = [n for n in self.exclude if n not in devices]
        if missing:
            raise SourceError(f"the Solar-Log has no device {missing[0]} (exclude_devices); "
                              f"it lists {', '.join(map(str, sorted(devices))) or 'none'}")
        left = reading.consumption_w - sum(devices[n] for n in self.exclude)
        return replace(reading, consumption_w=max(0.0, left))

    async def close(self) -> None:
        await self.http.close()


register("solarlog", SolarLogOptions, SolarLog, interval_s=5.0, min_interval_s=2.0,
         roles=lambda o: ("generation", "consumption") if o.battery
         else ("generation", "consumption", "grid"))
