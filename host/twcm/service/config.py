"""The service's configuration (twcm.toml, docs/config.md): its tables as pydantic models.

Loading and the checks the models alone cannot make are in config_load.py.
"""
from __future__ import annotations

import math
import os
from dataclasses import fields
from datetime import time
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any, Literal, get_type_hints
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field,
                      create_model, field_validator, model_validator)

from twc import payloads
from twc.contract import SITE_RULE, site_ok
from twcm.mqtt import parse_broker
from twcm.service.history.backends import kinds as logging_kinds
from twcm.service.policy import ConsumptionOffset, GreenSettings, NonScheduled, Settings, Window
from twcm.service.policy import offsets
from twcm.service.policy.green_styles import STYLES
from twcm.service.policy.schedule import DAY_NAMES
from twcm.service.sources import ROLES, Role, kinds
from twcm.service.sources.combine import RULES
from twcm.service.tariffs import kinds as tariff_kinds
from twcm.service.forecast.base import kinds as forecast_kinds
from twcm.service.status.options import (HomeAssistantConfig, HomeAssistantRestConfig,
                                         TwcManagerMqttConfig)

DEFAULT_DB = "~/.local/state/twcm/twcm.db"


class ConfigError(ValueError):
    """The config cannot be used; `lines` has one line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _must(test: Callable[[Any], object], problem: str) -> AfterValidator:
    """A check: test(value) must neither raise nor return False, else `problem`
    ("what is wrong: give ...", split into problem and fix by config_problems.describe)."""
    def check(v: Any) -> Any:
        try:
            ok = v is None or test(v) is not False
        except (ValueError, KeyError):
            ok = False
        if not ok:
            raise ValueError(problem)
        return v
    return AfterValidator(check)


HHMM = Annotated[str, _must(time.fromisoformat, 'not a time of day: give "HH:MM", e.g. "22:30"')]


class WindowConfig(_Table):
    days: list[Literal["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]] = Field(min_length=1)
    start: HHMM
    end: HHMM
    amps: int = Field(ge=0)

    def window(self) -> Window:
        return Window(tuple(DAY_NAMES.index(d) for d in self.days),
                      time.fromisoformat(self.start), time.fromisoformat(self.end), self.amps)


class OffsetConfig(_Table):
    """One consumption offset (twcm.service.policy.offsets)."""

    name: Annotated[str, _must(lambda v: 1 <= len(v) <= offsets.MAX_NAME, "not a name: "
                               f"give 1 to {offsets.MAX_NAME} characters, e.g. \"heat pump\"")]
    value: Annotated[float, _must(
        lambda v: math.isfinite(v) and abs(v) <= offsets.MAX_VALUE, "not an offset: give a "
        f"finite number of watts or amps, -{offsets.MAX_VALUE:.0f} to "
        f"{offsets.MAX_VALUE:.0f}, e.g. 800")]
    unit: Literal["W", "A"] = "W"

    def offset(self) -> ConsumptionOffset:
        return ConsumptionOffset(self.name, self.value, self.unit)


def _names_differ(v: list[OffsetConfig]) -> bool:
    return len({o.name for o in v}) == len(v)


Offsets = Annotated[list[OffsetConfig], _must(
    lambda v: len(v) <= offsets.MAX_OFFSETS, f"too many offsets: give at most "
    f"{offsets.MAX_OFFSETS}"), _must(_names_differ, "two offsets have the same name: give "
                                     "each its own name")]


def _mirror(name: str, cls: type, skip: tuple[str, ...] = (), base: type = _Table,
            **override: Any) -> Any:
    """A table with the fields and defaults of the dataclass `cls`, which checks the values
    itself (see _settings_problem): one place states them, the policy."""
    hints = get_type_hints(cls)
    return create_model(name, __base__=base, **override, **{
        f.name: (hints[f.name], f.default) for f in fields(cls)
        if f.name not in skip and f.name not in override})


class _StyledGreen(_Table):
    """[site.policy.green]: its `style` (policy/green_styles.py) gives the keys the table
    leaves out; they stay unset, so a runtime change of style moves them too."""

    @model_validator(mode="after")
    def _fill_in_style(self) -> Any:
        for key, value in STYLES[getattr(self, "style")].items():
            if key not in self.model_fields_set:
                object.__setattr__(self, key, value)
        return self


GreenConfig = _mirror("GreenConfig", GreenSettings, base=_StyledGreen, style=(
    Literal[tuple(STYLES)], "balanced"))  # type: ignore[valid-type]
PolicyConfig = _mirror(  # max_amps is the site's
    "PolicyConfig", Settings, ("max_amps",), green=(GreenConfig, GreenConfig()),
    non_scheduled=(Literal["fixed", "do_not_charge", "track_green"], "track_green"),
    windows=(list[WindowConfig], []), consumption_offsets=(Offsets, []))


class SourceConfig(BaseModel):
    """One meter: `type` picks the integration, which checks the keys not named here."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    type: Annotated[str, _must(lambda v: v in kinds(), "no such source type: give one of "
                               + ", ".join(sorted(kinds())))]
    # A source's name follows the site rule: a plain word, safe in logs and topics.
    name: Annotated[str | None, _must(site_ok, f"not a source name: give {SITE_RULE}")] = None
    roles: list[Role] | None = Field(None, min_length=1)
    interval_s: float | None = Field(None, gt=0, le=86400)
    max_age_s: float | None = Field(None, gt=0, le=86400)

    def options(self) -> dict[str, Any]:
        """The integration's own keys."""
        return dict(self.model_extra or {})

    def label(self) -> str:
        return self.name or self.type

    def every_s(self) -> float:
        return self.interval_s if self.interval_s is not None else kinds()[self.type].interval_s

    def age_limit_s(self) -> float:
        """Older readings are unknown: by default three missed readings, at least 30 s."""
        return self.max_age_s if self.max_age_s is not None else max(30.0, 3 * self.every_s())

    def role_list(self) -> tuple[str, ...]:
        """The roles it fills: as configured, else all its type can give."""
        if self.roles is not None:
            return tuple(self.roles)
        kind = kinds()[self.type]
        return kind.roles(kind.options.model_validate(self.options()))


class TariffConfig(BaseModel):
    """One tariff ([[site.tariff]], docs/tariffs.md): `type` picks the integration, which
    checks the keys not named here."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    type: Annotated[str, _must(lambda v: v in tariff_kinds(), "no such tariff type: give "
                               "one of " + ", ".join(sorted(tariff_kinds())))]
    name: Annotated[str | None, _must(site_ok, f"not a tariff name: give {SITE_RULE}")] = None
    interval_s: float | None = Field(None, gt=0, le=86400)

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def label(self) -> str:
        return self.name or self.type


class ForecastConfig(BaseModel):
    """The solar forecast for the planner ([site.forecast], docs/planner.md): `type` picks
    the service, which checks the keys not named here."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    type: Annotated[str, _must(lambda v: v in forecast_kinds(), "no such forecast type: "
                               "give one of " + ", ".join(sorted(forecast_kinds())))]
    house_w: float = Field(500.0, ge=0, le=100000)  # the house's load the sun serves first

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


Rule = Annotated[str, _must(lambda v: v in RULES or site_ok(v),
                            'not a rule: give "sum", "priority" or the name of a source')]

# How several sources that fill the same role combine (twcm.service.sources.combine):
# a key per role.
CombineConfig: Any = create_model("CombineConfig", __base__=_Table,
                                  **{role: (Rule | None, None) for role in ROLES})


VIN = Annotated[str, _must(lambda v: len(v) == 17 and v.isalnum() and v == v.upper(),
                           "not a VIN: give the car's 17 letters and digits, in capitals")]


class CarConfig(_Table):
    """Rules for one car, known by the VIN its Wall Connector reports ([[site.car]],
    docs/cars.md). A car no table names gets the site's ways."""

    vin: VIN
    name: str | None = None
    allow: bool = True  # False: this car gets 0 A
    min_amps: int | None = Field(None, ge=0, le=80)
    max_amps: int | None = Field(None, ge=1, le=80)
    priority: int = Field(0, ge=-100, le=100)  # higher first when current is short
    target_soc: float | None = Field(None, gt=0, le=100)  # %, by departure
    target_kwh: float | None = Field(None, gt=0, le=200)  # or kWh, by departure
    battery_kwh: float | None = Field(None, gt=0, le=200)  # usable; for target_soc (planner)
    departure: HHMM | None = None  # local time, daily
    schedule: list[WindowConfig] = []  # this car's preferred charging windows
    vehicle: str | None = None  # the [[site.vehicle]] name that reaches this car


def _ocpp_url_ok(v: str) -> bool:
    u = urlsplit(v)
    return u.scheme in ("ws", "wss") and bool(u.hostname) and not u.username


class OcppConfig(_Table):
    """[site.ocpp] (docs/ocpp.md): the site as an OCPP 1.6J charge point of a CSMS."""

    url: Annotated[str, _must(_ocpp_url_ok, 'not a CSMS URL: give ws:// or wss://host[:port]'
                              '/path, without a user (the charge point id is added to it), '
                              'e.g. "ws://evcc.lan:8887/"')]
    charge_point_id: Annotated[str, _must(
        lambda v: 0 < len(v) <= 48 and v.isascii() and v.isprintable() and not set(v) & set(
            "/?#% "), "not a charge point id: give 1-48 letters, digits, - or _, as the CSMS "
        "knows the charge point")]
    mode: Literal["decides", "caps"] = "caps"  # the CSMS decides, or only caps the policy
    security_profile: Literal[0, 1, 2] = 0  # 1: basic auth; 2: basic auth over TLS (wss)
    password_env: Annotated[str | None, _must(
        lambda v: v in os.environ, "this environment variable is not set: export it with the "
        "charge point's password before starting twcm, e.g. export TWCM_OCPP_PASSWORD=...")] = None
    ca: Annotated[str | None, _must(lambda v: Path(v).expanduser().is_file(),
                                    "no such file: give the PEM file of the CA that signed "
                                    "the CSMS's certificate")] = None
    meter_interval_s: int = Field(60, ge=0, le=3600)  # MeterValueSampleInterval; 0: none
    id_tag: str | None = Field(None, min_length=1, max_length=20)  # else the car's VIN

    def problems(self) -> list[tuple[str, str]]:
        """(key, problem and fix) the fields alone do not see (config_load.py)."""
        wss = self.url.startswith("wss://")
        out = []
        if self.security_profile and not self.password_env:
            out.append(("password_env", f"missing: security_profile {self.security_profile} "
                        "sends a password (fix: set password_env to the variable holding it)"))
        if self.security_profile == 2 and not wss:
            out.append(("url", f"{self.url} is not allowed: security_profile 2 is TLS (fix: "
                        "give a wss:// URL)"))
        if self.ca and not wss:
            out.append(("ca", "not used without TLS (fix: give a wss:// URL, or drop ca)"))
        return out


def _vins_differ(v: list[CarConfig]) -> bool:
    return len({c.vin for c in v}) == len(v)


class SiteConfig(_Table):
    name: Annotated[str, _must(site_ok, f"not a site name: give {SITE_RULE} (as the "
                               "device's site, it names the topics twcm/<site>/...)")]
    max_amps: int = Field(ge=1, le=240)
    ttl_s: int = Field(60, ge=payloads.TTL_MIN, le=payloads.TTL_MAX)
    interval_s: float = Field(5.0, ge=0.2, le=3600)
    twc_start_stop: bool = False  # SiteLoop.set_twc_charging (FC B1/B2): docs/config.md
    timezone: Annotated[str | None, _must(ZoneInfo, "no such time zone: give an IANA name "
                                          'such as "Europe/Amsterdam"')] = None
    policy: PolicyConfig = PolicyConfig()  # type: ignore[valid-type]
    # One [site.source] table or several [[site.source]] tables: a list either way.
    source: Annotated[list[SourceConfig], BeforeValidator(
        lambda v: [v] if isinstance(v, dict) else v)] = Field(min_length=1)
    combine: CombineConfig = CombineConfig()  # type: ignore[valid-type]
    car: Annotated[list[CarConfig], _must(_vins_differ, "two [[site.car]] tables have the "
                                          "same vin: give each car one table")] = []
    # One [site.tariff] table or several [[site.tariff]]: the first with a price wins.
    tariff: Annotated[list[TariffConfig], BeforeValidator(
        lambda v: [v] if isinstance(v, dict) else v)] = []
    forecast: ForecastConfig | None = None
    ocpp: OcppConfig | None = None  # [site.ocpp]: an OCPP 1.6J charge point (docs/ocpp.md)

    def sources(self) -> list[SourceConfig]:
        return self.source

    def settings(self) -> Settings:
        """The policy's Settings; ValueError as GreenSettings/Settings raise it."""
        p = self.policy
        return Settings(max_amps=self.max_amps, non_scheduled=NonScheduled(p.non_scheduled),
                        windows=tuple(w.window() for w in p.windows),
                        green=GreenSettings(**p.green.model_dump(exclude={"style"})),
                        consumption_offsets=tuple(o.offset() for o in p.consumption_offsets),
                        **p.model_dump(exclude={"non_scheduled", "windows", "green",
                                                "consumption_offsets"}))


class BrokerConfig(_Table):
    url: str
    ca: Annotated[str | None, _must(lambda v: Path(v).expanduser().is_file(), "no such file: "
                                    "give the PEM file of the CA that signed the broker's "
                                    "certificate (mqtts:// only)")] = None
    user: str | None = None
    password: str | None = None
    password_env: Annotated[str | None, _must(
        lambda v: v in os.environ, "this environment variable is not set: export it with "
        "the password before starting twcm, e.g. export TWCM_MQTT_PASSWORD=...")] = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        parse_broker(v, None)  # its ValueError says what is wrong
        return v

    @field_validator("ca")
    @classmethod
    def _ca_needs_tls(cls, v: str | None, info: Any) -> str | None:
        if v is not None and not str(info.data.get("url", "")).startswith("mqtts://"):
            raise ValueError("ca is for a TLS broker: give url = \"mqtts://...\", or drop ca")
        return v

    def full_url(self) -> str:
        """The URL with the user and the password (from the config or the environment)
        and the CA (?ca=...)."""
        u = urlsplit(self.url)
        user = self.user or u.username
        password = self.password or u.password
        if self.password_env:
            password = os.environ[self.password_env]
        query = u.query
        if self.ca is not None:
            query = "ca=" + quote(str(Path(self.ca).expanduser()), safe="/")
        if user is None:
            return urlunsplit((u.scheme, u.netloc, "", query, ""))
        host = u.netloc.rpartition("@")[2]
        cred = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
        return urlunsplit((u.scheme, f"{cred}@{host}", "", query, ""))


class EmbeddedBrokerConfig(_Table):
    port: int = Field(1883, ge=1, le=65535)


def _db_url_ok(v: str) -> bool:
    from sqlalchemy.engine import make_url  # only where a URL is given
    try:
        return make_url(v).get_backend_name() in ("sqlite", "mysql", "mariadb")
    except Exception:  # sqlalchemy's ArgumentError: not a URL
        return False


class DatabaseConfig(_Table):
    """[database] (docs/config.md, docs/logging.md): the SQLite file, or a MySQL/MariaDB
    server's URL; how often an unchanged status is recorded; how long the history stays."""
    sqlite: str | None = None  # default DEFAULT_DB, unless url is given
    url: Annotated[str | None, _must(_db_url_ok, 'not a database URL: give e.g. '
                                     '"mysql+pymysql://twcm@db.lan/twcm"')] = None
    password_env: Annotated[str | None, _must(
        lambda v: v in os.environ, "this environment variable is not set: export it with "
        "the password before starting twcm, e.g. export TWCM_DB_PASSWORD=...")] = None
    status_every_s: float = Field(60.0, ge=1)
    keep_days: float | None = Field(None, gt=0)  # samples, statuses, decisions; None: all
    keep_sessions_days: float | None = Field(None, gt=0)  # None: every session, for good

    @field_validator("url")
    @classmethod
    def _one_database(cls, v: str | None, info: Any) -> str | None:
        if v is not None and info.data.get("sqlite") is not None:
            raise ValueError("sqlite is given too: give either sqlite or url")
        return v

    def path(self) -> Path:
        """The SQLite file (without url); the token file's folder by default either way."""
        return Path(self.sqlite or DEFAULT_DB).expanduser()

    def where(self) -> Any:
        """What Store and the history's SqlBackend open: the SQLite file's Path, or the
        URL (a sqlalchemy URL, with the password from password_env if given)."""
        if self.url is None:
            return self.path()
        from sqlalchemy.engine import make_url
        u = make_url(self.url)
        return u.set(password=os.environ[self.password_env]) if self.password_env else u


def _origin_ok(v: str) -> bool:
    u = urlsplit(v)
    return u.scheme in ("http", "https") and bool(u.hostname) and u.path == "" \
        and not (u.query or u.fragment or u.username) and f"{u.scheme}://{u.netloc}" == v


Origin = Annotated[str, _must(_origin_ok, 'not an origin: give scheme://host[:port] with no '
                              'path, e.g. "https://twcm.example.org"')]
HostName = Annotated[str, _must(lambda v: bool(v) and v == v.strip().lower() and "/" not in v
                                and v.count(":") != 1,
                                'not a host name: give it in lower case without a port or '
                                'scheme, e.g. "twcm.lan", "192.168.1.20" or "[fd00::5]"')]


class ApiConfig(_Table):
    """[api] (docs/config.md, docs/api.md): where the REST API listens and who may use it."""
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    tokens: str | None = None  # default: api-tokens.json beside the database
    hosts: list[HostName] = []  # Host header names accepted besides the local ones
    origins: list[Origin] = []  # browser origins accepted besides the server's own
    tls_cert: str | None = None
    tls_key: str | None = None

    def tokens_path(self, database: DatabaseConfig) -> Path:
        """The REST API's token file: `tokens`, else api-tokens.json beside the database."""
        from twcm.service.control.tokens import FILE_NAME  # config.py loads before control
        if self.tokens is not None:
            return Path(self.tokens).expanduser()
        return database.path().parent / FILE_NAME


class WebIpcConfig(_Table):
    """The legacy WebIPC bridge (docs/webipc.md): off unless enabled."""
    enabled: bool = False
    path: str = "/etc/twcmanager"  # ftok's path: TWCManager's settingsPath, the PHP page's
    site: str | None = None  # the one site it serves; required with several sites


class LoggingConfig(BaseModel):
    """One [[logging]] table: `type` picks the backend (docs/logging.md), which checks the
    keys not named here (history/configured.py)."""

    model_config = ConfigDict(extra="allow", strict=True, frozen=True)
    type: Annotated[str, _must(lambda v: v in logging_kinds(), "no such logging type: give "
                               "one of " + ", ".join(sorted(logging_kinds())))]

    def options(self) -> dict[str, Any]:
        """The backend's own keys."""
        return dict(self.model_extra or {})


class LogConfig(_Table):
    level: Literal["debug", "info", "warning", "error"] = "info"


class Config(_Table):
    site: list[SiteConfig] = Field(min_length=1)
    broker: BrokerConfig | None = None
    embedded_broker: EmbeddedBrokerConfig = EmbeddedBrokerConfig()
    database: DatabaseConfig = DatabaseConfig()
    api: ApiConfig = ApiConfig()
    webipc: WebIpcConfig = WebIpcConfig()
    home_assistant: HomeAssistantConfig = HomeAssistantConfig()  # status/ha_discovery.py
    home_assistant_rest: HomeAssistantRestConfig = HomeAssistantRestConfig()  # status/ha_rest.py
    twcmanager_mqtt: TwcManagerMqttConfig = TwcManagerMqttConfig()  # status/twcmanager_mqtt.py
    log: LogConfig = LogConfig()
    logging: list[LoggingConfig] = []
