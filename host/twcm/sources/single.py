"""What the sources that read one value share (hass, openhab, http_json, mqtt): the
config says which role the value plays, a scale, and secrets from the environment."""
from __future__ import annotations

import os
from typing import Literal

from twcm.sources import Reading

Role = Literal["generation", "consumption", "grid", "battery"]
FIELD = {"generation": "generation_w", "consumption": "consumption_w",
         "grid": "grid_import_w", "battery": "battery_w"}
"""The Reading field a single-value source fills, by its role."""


def check_scale(v: float) -> float:
    if v == 0:
        raise ValueError("0 would turn every value into 0 W: give e.g. 1000 (kW) or -1")
    return v


def check_env(name: str | None) -> str | None:
    """A validator's check that the variable a `*_env` key names is set (and not empty)."""
    if name is not None and not os.environ.get(name):
        raise ValueError(f"the environment variable {name} is not set: set it in the "
                         "service's environment (e.g. an EnvironmentFile of its systemd "
                         "unit), or give the value in the config instead")
    return name


def token_of(token: str | None, token_env: str | None) -> str | None:
    """The token given in the config or, by name, in the environment."""
    return os.environ.get(token_env) if token_env else token


def single(role: str, watts: float) -> Reading:
    """A Reading that holds one value in the field of `role`."""
    return Reading(**{FIELD[role]: watts})
