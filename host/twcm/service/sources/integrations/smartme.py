"""`type = "smartme"`: a smart-me meter through the smart-me cloud API.

`GET /api/Devices/<id>` (or `/api/DeviceBySerial?serial=<serial>`) with HTTP basic
auth answers the device: ActivePower (in ActivePowerUnit, kW) is positive while the
meter's site imports and negative while it exports. It is a grid meter: it sees the
net flow, so it tells neither the solar output nor the house load. ValueDate is when
the meter last reported to the cloud: the reading is that old.
"""
from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from twcm.service.sources import Reading, SourceError, register
from twcm.service.sources.http import Http, HttpOptions, HttpStatusError
from twcm.service.sources.secrets import EnvName, Secret, SecretOptions
from twcm.service.sources.values import number, unit_factor

API = "https://smart-me.com"


class SmartMeOptions(HttpOptions, SecretOptions):
    """url: the API (changed only for tests)."""

    secrets = (Secret("password", "the smart-me password"),)
    url: str = API
    timeout_s: float = Field(10.0, gt=0, le=60)
    user: str = Field(min_length=1)
    password: str | None = None
    password_env: EnvName = None
    device_id: str | None = Field(None, min_length=1)
    serial: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_meter(self) -> SmartMeOptions:
        if (self.device_id is None) == (self.serial is None):
            raise ValueError("give the meter as device_id (its id in the smart-me portal) "
                             "or as serial (the number before the -), not both")
        return self


def parse(doc: Any) -> Reading:
    """The grid readings in a device answer."""
    if not isinstance(doc, dict):
        raise SourceError(f"the answer is {doc!r}, not a device")
    factor = unit_factor(str(doc.get("ActivePowerUnit") or "kW"), "ActivePowerUnit")
    power = number(doc.get("ActivePower"), "ActivePower")
    if power is None:
        raise SourceError("the device gives no ActivePower: is it an electricity meter?")
    amps: list[float] = []
    for n in (1, 2, 3):
        current = number(doc.get(f"CurrentL{n}"), f"CurrentL{n}")
        phase_power = number(doc.get(f"ActivePowerL{n}"), f"ActivePowerL{n}")
        if current is not None and phase_power is not None:
            amps.append(math.copysign(abs(current), phase_power))  # negative exporting
    return Reading(grid_import_w=power * factor,
                   phase_amps=tuple(amps) if len(amps) == 3 else None,
                   volts=number(doc.get("Voltage"), "Voltage"), **_taken(doc))


def _taken(doc: dict[str, Any]) -> dict[str, float]:
    """{"at": the Unix time of ValueDate}, or nothing if it has none with a time zone."""
    try:
        when = datetime.fromisoformat(str(doc["ValueDate"]))
    except (KeyError, ValueError):
        return {}
    return {} if when.tzinfo is None else {"at": when.timestamp()}


class SmartMe:
    def __init__(self, o: SmartMeOptions) -> None:
        self.http = Http(o.url, o.timeout_s, o.verify_tls)
        self.auth = (o.user, str(o.secret("password")))
        if o.device_id is not None:
            self.path, self.params = f"/api/Devices/{o.device_id}", {}
        else:
            self.path, self.params = "/api/DeviceBySerial", {"serial": str(o.serial)}

    async def read(self) -> Reading:
        try:
            doc = await self.http.get_json(self.path, params=self.params, auth=self.auth)
        except HttpStatusError as e:
            if e.status in (401, 403):
                raise SourceError(f"smart-me refuses the user and password (HTTP "
                                  f"{e.status}): check user and password") from None
            if e.status == 404:
                raise SourceError("smart-me knows no such meter (HTTP 404): check "
                                  "device_id or serial") from None
            raise
        return parse(doc)

    async def close(self) -> None:
        await self.http.close()


register("smartme", SmartMeOptions, SmartMe, interval_s=10.0, min_interval_s=5.0,
         roles=("grid",))
