"""`type = "http_json"`: one number out of any JSON that a device or service answers to GET.

`path` says where the number is ("site.meters[0].power"); `scale` turns it into W with
the sign twcm wants (1000 for kW, -1 for a grid value that is positive while exporting).
The value may be a JSON number, a numeric string or a string with a unit ("2.5 kW",
scaled to W before `scale`). null is an error: the device does not know, it is not 0 W.
One source reads one value whose meaning `role` gives, as hass.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from pydantic import Field

from twcm.service.sources import Reading, SourceError, register
from twcm.service.sources.http import Http, HttpOptions
from twcm.service.sources.single import JsonPath, Role, Scale, single
from twcm.service.sources.values import dig, number, watts_with_unit


class HttpJsonOptions(HttpOptions):
    """url: the full address of the JSON, e.g. "http://192.168.1.30/status"."""

    path: JsonPath
    role: Role
    scale: Scale = 1.0
    headers: dict[str, str] = Field(default_factory=dict, repr=False)


def value_at(doc: Any, path: str, what: str) -> float:
    """The number at `path` (a JSON number, a numeric string or one with a W/kW unit);
    SourceError if it is missing, null or not a number. Also used by the mqtt source."""
    try:
        value = dig(doc, path)
    except SourceError as e:
        raise SourceError(f"{what}: {e}") from None
    if value is None:
        raise SourceError(f"{what}: {path} is null (no value)")
    if isinstance(value, str):
        return watts_with_unit(value, f"{what}: {path}")
    f = number(value, f"{what}: {path}")
    assert f is not None
    return f


class HttpJson:
    def __init__(self, o: HttpJsonOptions) -> None:
        self.o = o
        u = urlsplit(o.url)
        self.path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        self.http = Http(f"{u.scheme}://{u.netloc}", o.timeout_s, o.verify_tls,
                         headers=dict(o.headers))

    async def read(self) -> Reading:
        doc = await self.http.get_json(self.path)
        return single(self.o.role, value_at(doc, self.o.path, self.o.url) * self.o.scale)

    async def close(self) -> None:
        await self.http.close()


register("http_json", HttpJsonOptions, HttpJson, interval_s=5.0, min_interval_s=0.5,
         roles=lambda o: (o.role,))
