"""The bodies and answers of the REST API as pydantic models: they check what comes in
(a 422 naming the field and the range) and make the OpenAPI document (/api/openapi.json).

The answers reuse the service's own dataclasses where it has them (the device's state,
a source's status, the readings), so a field added there shows here too; the models of
their own allow extra keys for the same reason.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from twcm.service.config import GreenConfig, WindowConfig
from twcm.service.control.requests import MAX_MINUTES
from twcm.service.devicelink.site import DeviceState, Slave
from twcm.service.sources import Reading
from twcm.service.sources.feed import FeedStatus

MAX_AMPS = 240  # the most a site may have (SiteConfig.max_amps); the site's own is checked too
Amps = Annotated[int, Field(ge=0, le=MAX_AMPS, description="whole amps, 0 to the site's max_amps")]


class Body(BaseModel):
    """A request body: no unknown keys, no silent conversions."""
    model_config = ConfigDict(extra="forbid", strict=True)


class Out(BaseModel):
    """An answer; keys the service adds later pass through."""
    model_config = ConfigDict(extra="allow")


# -- bodies ---------------------------------------------------------------------------------

class LoginIn(Body):
    token: str = Field(min_length=1, max_length=200)


class ChargeNowIn(Body):
    amps: Amps
    minutes: int = Field(ge=1, le=MAX_MINUTES, description="how long, 1 to 1440 minutes")


class NonScheduledIn(Body):
    action: Literal["fixed", "do_not_charge", "track_green"]
    amps: Amps | None = Field(None, description="the site limit for fixed (non_scheduled_amps)"
                                                "; left out: unchanged")


class ScheduleIn(Body):
    windows: list[WindowConfig] = Field(description="the weekly windows; replaces them all")


# Every key of [site.policy.green], each optional: what is left out stays, null drops the
# runtime change of that key (back to the config file's value).
GreenIn: Any = create_model("GreenIn", __base__=Body, **{
    name: (f.annotation | None, None) for name, f in GreenConfig.model_fields.items()})


class OffsetIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$",
                               description="1-32 letters, digits, - or _ (the site rule)")]
    value: float = Field(ge=-1e6, le=1e6)
    unit: Literal["W", "A"]


class TwcCapIn(Body):
    amps: Amps | None = Field(description="the most this TWC may get; null removes the cap")


class TwcChargingIn(Body):
    charging: bool = Field(description="true: start charging (FC B1), false: stop (FC B2)")


# -- answers --------------------------------------------------------------------------------

class HealthOut(Out):
    status: Literal["ok"] = "ok"


class VersionOut(Out):
    version: str


class LoginOut(Out):
    name: str
    kind: Literal["admin", "read_only"]


class ClaimOut(Out):
    source: str
    amps: int
    reason: str


class DecisionOut(Out):
    amps: int
    lease: bool
    reason: str
    set_by: str | None
    capped_by: str | None
    claims: list[ClaimOut]


class ChargeNowOut(Out):
    amps: int
    until: str = Field(description="the end, ISO 8601 in the site's time zone")


class SettingOut(Out):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    value: Any
    from_: Literal["file", "runtime", "default"] = Field(alias="from")


class DeviceOut(Out):
    health: Literal["online", "offline", "silent", "unknown"]
    state: DeviceState | None


class SiteStatus(Out):
    site: str
    time: float
    lease_amps: int | None
    decision: DecisionOut | None
    charge_now: ChargeNowOut | None
    readings: Reading | None
    sources: list[FeedStatus]
    settings: dict[str, SettingOut]
    device: DeviceOut


class AllStatus(Out):
    sites: list[SiteStatus]


class NonScheduledOut(Out):
    action: Literal["fixed", "do_not_charge", "track_green"]
    amps: int = Field(description="the site limit while fixed (non_scheduled_amps)")


class ScheduleOut(Out):
    windows: list[WindowConfig]


class OffsetOut(Out):
    name: str
    value: float
    unit: Literal["W", "A"]


class SampleOut(Out):
    at: float
    site: str
    generation_w: float | None
    consumption_w: float | None
    grid_import_w: float | None
    battery_soc: float | None
    limit_amps: int | None
    reason: str | None


class HistoryOut(Out):
    site: str
    start: float
    end: float
    samples: list[SampleOut]
    truncated: bool = Field(description="true: more samples are in the range than `limit`; "
                                        "ask again from the last one's `at`")


class SessionOut(Out):
    id: int
    site: str
    twc: str
    vin: str | None
    start: float
    end: float | None
    updated: float
    start_lifetime_kwh: int | None
    end_lifetime_kwh: int | None
    integrated_kwh: float
    kwh: float


class VinKwhOut(Out):
    vin: str | None
    kwh: float


TwcOut = Slave
