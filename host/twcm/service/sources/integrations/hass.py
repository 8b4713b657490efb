"""`type = "hass"`: one Home Assistant sensor over its REST API.

GET /api/states/<entity_id> with a long-lived access token (Bearer). The state is always
a string: a number, or "unavailable" / "unknown" while the integration behind the sensor
has no value (an error here, never 0 W). attributes.unit_of_measurement says W or kW.

One source reads one entity whose meaning `role` gives: a site with a solar sensor and a
grid sensor has two [[site.source]] tables. So each value ages and fails on its own, as
the framework expects, instead of one dead sensor taking the others with it.
"""
from __future__ import annotations

import re
from typing import Any

from pydantic import field_validator

from twcm.service.sources import Reading, SourceError, register
from twcm.service.sources.http import Http, HttpStatusError
from twcm.service.sources.secrets import Secret
from twcm.service.sources.single import TokenOptions, single
from twcm.service.sources.values import number, unit_factor

ENTITY = re.compile(r"[a-z0-9_]+\.[a-z0-9_]+")
NO_VALUE = ("unavailable", "unknown")


class HassOptions(TokenOptions):
    """url: Home Assistant, e.g. "http://homeassistant.local:8123"."""

    secrets = (Secret("token", "a long-lived access token, made on your Home Assistant "
                      "profile page"),)
    entity: str

    @field_validator("entity")
    @classmethod
    def _entity(cls, v: str) -> str:
        if not ENTITY.fullmatch(v):
            raise ValueError('not an entity id: give it as Home Assistant shows it under '
                             'Settings > Entities, e.g. "sensor.solar_power"')
        return v


def parse(doc: Any, entity: str) -> float:
    """The watts a state object gives; SourceError when it has no number in W or kW."""
    if not isinstance(doc, dict) or "state" not in doc:
        raise SourceError(f"the answer for {entity} has no state")
    state = doc["state"]
    if state in NO_VALUE:
        raise SourceError(f"{entity} is {state} in Home Assistant")
    value = number(state, f"the state of {entity}")
    assert value is not None
    unit = (doc.get("attributes") or {}).get("unit_of_measurement")
    return value if unit is None else value * unit_factor(unit, entity)


class Hass:
    def __init__(self, o: HassOptions) -> None:
        self.o = o
        token = o.secret("token")
        self.http = Http(o.url, o.timeout_s, o.verify_tls,
                         headers={"Authorization": f"Bearer {token}"})

    async def read(self) -> Reading:
        o = self.o
        try:
            doc = await self.http.get_json(f"/api/states/{o.entity}")
        except HttpStatusError as e:
            if e.status == 401:
                raise SourceError("Home Assistant refuses the token (HTTP 401): make a new "
                                  "long-lived access token on your profile page") from None
            if e.status == 404:
                raise SourceError(f"Home Assistant has no entity {o.entity} (HTTP 404): "
                                  "check the id under Settings > Entities") from None
            raise
        return single(o.role, parse(doc, o.entity) * o.scale)

    async def close(self) -> None:
        await self.http.close()


register("hass", HassOptions, Hass, interval_s=5.0, min_interval_s=1.0,
         roles=lambda o: (o.role,))
