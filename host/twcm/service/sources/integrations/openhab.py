"""`type = "openhab"`: one openHAB item over its REST API.

GET /rest/items/<item>/state answers the state as text: a plain number ("1234.5"), or for
a Number:Power item the number with its unit ("3456.7 W", "2.5 kW": scaled here, a kW
item is not taken for W). NULL (never set) and UNDEF (the binding lost it) are errors,
never 0 W. (The JSON form, GET /rest/items/<item>, has the same text in "state"; the
text form is read as it is the smaller answer.)

openHAB 3+ lets anyone on the LAN read items by default; with that turned off, an API
token is sent as Bearer. One source reads one item whose meaning `role` gives, as hass.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from pydantic import field_validator

from twcm.service.sources import Reading, SourceError, register
from twcm.service.sources.http import Http, HttpStatusError
from twcm.service.sources.secrets import Secret
from twcm.service.sources.single import TokenOptions, single
from twcm.service.sources.values import watts_with_unit

ITEM = re.compile(r"[A-Za-z0-9_]+")
NO_VALUE = {"NULL": "never set (NULL)", "UNDEF": "undefined: its binding lost the value"}


class OpenhabOptions(TokenOptions):
    """url: openHAB, e.g. "http://192.168.1.2:8080"."""

    secrets = (Secret("token", "an API token, made on your openHAB profile page",
                      required=False),)
    item: str

    @field_validator("item")
    @classmethod
    def _item(cls, v: str) -> str:
        if not ITEM.fullmatch(v):
            raise ValueError('not an item name: give it as openHAB shows it (letters, digits '
                             'and _), e.g. "Solar_Power"')
        return v


def parse_state(text: str, item: str) -> float:
    """The watts in an item's state text; SourceError for NULL, UNDEF or no power."""
    state = text.strip()
    if state in NO_VALUE:
        raise SourceError(f"item {item} is {NO_VALUE[state]}")
    return watts_with_unit(state, f"item {item}")


class Openhab:
    def __init__(self, o: OpenhabOptions) -> None:
        self.o = o
        token = o.secret("token")
        headers = {"Accept": "text/plain"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = Http(o.url, o.timeout_s, o.verify_tls, headers=headers)

    async def read(self) -> Reading:
        o = self.o
        try:
            text = await self.http.get_text(f"/rest/items/{quote(o.item)}/state")
        except HttpStatusError as e:
            if e.status in (401, 403):
                raise SourceError(f"openHAB refuses access (HTTP {e.status}): give an API "
                                  "token (token or token_env), made on your openHAB profile "
                                  "page") from None
            if e.status == 404:
                raise SourceError(f"openHAB has no item {o.item} (HTTP 404): check its name "
                                  "under Settings > Items") from None
            raise
        return single(o.role, parse_state(text, o.item) * o.scale)

    async def close(self) -> None:
        await self.http.close()


register("openhab", OpenhabOptions, Openhab, interval_s=5.0, min_interval_s=1.0,
         roles=lambda o: (o.role,))
