"""The config tables of the status outputs (docs/config.md): `[home_assistant]` (MQTT
discovery, on by default), `[home_assistant_rest]` (states pushed over HA's REST API, off
unless a url is given) and `[twcmanager_mqtt]` (TWCManager's status topics, off by default).

They are models of their own, not in config.py, so that this package keeps its keys; the
Config in config.py only names the tables.
"""
from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from twcm.service.sources.secrets import EnvName, env_value

# An MQTT topic level or path of levels, without wildcards or empty levels: "homeassistant".
_TOPIC = re.compile(r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*")


def _topic(v: str) -> str:
    if not _TOPIC.fullmatch(v):
        raise ValueError(f"{v!r} is not a topic prefix: give letters, digits, '-' or '_', "
                         'levels split by "/", no wildcards, e.g. "homeassistant"')
    return v


def _http_url(v: str) -> str:
    u = urlsplit(v)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError(f"{v!r} is not Home Assistant's URL: give "
                         '"http://homeassistant.local:8123" or an https:// one')
    return v.rstrip("/")


Prefix = Annotated[str, AfterValidator(_topic)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class HomeAssistantConfig(_Table):
    """MQTT discovery (status/ha_discovery.py): on whenever twcm has a broker."""

    discovery: bool = True
    prefix: Prefix = "homeassistant"  # HA's discovery prefix (its MQTT integration's option)
    state_every_s: float = Field(5.0, ge=1, le=3600)  # at most one state per topic this often
    forget_twc_after_s: float = Field(3600.0, ge=120, le=30 * 86400)  # unlisted this long: gone
    charge_now_minutes: int = Field(60, ge=1, le=1440)  # how long HA's Charge Now lasts


class HomeAssistantRestConfig(_Table):
    """States pushed to HA's REST API (status/ha_rest.py): off unless url is given."""

    url: Annotated[str, AfterValidator(_http_url)] | None = None
    token: str | None = Field(None, repr=False)
    token_env: EnvName = None
    every_s: float = Field(60.0, ge=1, le=86400)  # each sensor at least this often
    timeout_s: float = Field(10.0, gt=0, le=120)

    @model_validator(mode="after")
    def _one_token(self) -> HomeAssistantRestConfig:
        if self.url is not None and (self.token is None) == (self.token_env is None):
            raise ValueError("give either token or (better) token_env, the name of an "
                             "environment variable that holds a long-lived access token "
                             "(made on your Home Assistant profile page), not both or none")
        return self

    def secret(self) -> str:
        token = env_value(self.token_env) if self.token_env else self.token
        assert token is not None  # _one_token
        return token


class TwcManagerMqttConfig(_Table):
    """TWCManager's MQTT status topics (status/twcmanager_mqtt.py): off by default."""

    enabled: bool = False
    prefix: Prefix = "TWC"  # TWCManager's default topicPrefix
    site: str | None = None  # the one site it shows; required with several sites
    every_s: float = Field(60.0, ge=1, le=86400)  # at most one message per topic this often
