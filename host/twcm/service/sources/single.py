"""What the sources that read one value share (hass, openhab, http_json, mqtt): the
config says which role the value plays, a scale, where in JSON the value is, and for
hass and openhab a token."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from twcm.service.sources import Reading, Role
from twcm.service.sources.http import HttpOptions
from twcm.service.sources.secrets import EnvName, SecretOptions
from twcm.service.sources.values import parse_path

FIELD = {"generation": "generation_w", "consumption": "consumption_w",
         "grid": "grid_import_w", "battery": "battery_w"}
"""The Reading field a single-value source fills, by its role."""


def check_scale(v: float) -> float:
    if v == 0:
        raise ValueError("0 would turn every value into 0 W: give e.g. 1000 (kW) or -1")
    return v


def check_path(v: str) -> str:
    parse_path(v)
    return v


Scale = Annotated[float, AfterValidator(check_scale)]
"""`scale`: turns the value into W with twcm's sign (1000 for kW, -1 for export positive)."""
JsonPath = Annotated[str, AfterValidator(check_path)]
"""Where the number is in JSON, e.g. "site.meters[0].power"."""


class TokenOptions(HttpOptions, SecretOptions):
    """The keys of a source that reads one item over HTTP with a Bearer token (hass,
    openhab); each says in `secrets` what its token is and whether it needs one."""

    role: Role
    token: str | None = Field(None, repr=False)
    token_env: EnvName = None
    scale: Scale = 1.0


def single(role: str, watts: float) -> Reading:
    """A Reading that holds one value in the field of `role`."""
    return Reading(**{FIELD[role]: watts})
