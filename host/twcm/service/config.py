"""The service's configuration (twcm.toml, docs/config.md): loaded and checked at start.

`load(path)` returns a `Config` or raises `ConfigError`, whose `lines` say for each problem
the key, the bad value and the fix, naming a site by its name:
    twcm.toml: site "home": policy.green.start_delay_s: -5.0 is not allowed: must be >= 0 ...
    twcm.toml: site "home": unknown key "max_amp": did you mean "max_amps"?
"""
from __future__ import annotations

import math
import os
import tomllib
from dataclasses import fields
from datetime import time
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Any, Literal, get_type_hints
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError,
                      create_model, field_validator)

from twc import payloads
from twc.contract import SITE_RULE, site_ok
from twcm.mqtt import parse_broker
from twcm.service.config_problems import DOCS, Problem, bad, describe, line
from twcm.service.policy import ConsumptionOffset, GreenSettings, NonScheduled, Settings, Window
from twcm.service.policy import offsets
from twcm.service.policy.schedule import DAY_NAMES
from twcm.service.sources import ROLES, Role, kinds
from twcm.service.sources.combine import RULES

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


def _mirror(name: str, cls: type, skip: tuple[str, ...] = (), **override: Any) -> Any:
    """A table with the fields and defaults of the dataclass `cls`, which checks the values
    itself (see _settings_problem): one place states them, the policy."""
    hints = get_type_hints(cls)
    return create_model(name, __base__=_Table, **override, **{
        f.name: (hints[f.name], f.default) for f in fields(cls)
        if f.name not in skip and f.name not in override})


GreenConfig = _mirror("GreenConfig", GreenSettings)
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


Rule = Annotated[str, _must(lambda v: v in RULES or site_ok(v),
                            'not a rule: give "sum", "priority" or the name of a source')]

# How several sources that fill the same role combine (twcm.service.sources.combine):
# a key per role.
CombineConfig: Any = create_model("CombineConfig", __base__=_Table,
                                  **{role: (Rule | None, None) for role in ROLES})


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

    def sources(self) -> list[SourceConfig]:
        return self.source

    def settings(self) -> Settings:
        """The policy's Settings; ValueError as GreenSettings/Settings raise it."""
        p = self.policy
        return Settings(max_amps=self.max_amps, non_scheduled=NonScheduled(p.non_scheduled),
                        windows=tuple(w.window() for w in p.windows),
                        green=GreenSettings(**p.green.model_dump()),
                        consumption_offsets=tuple(o.offset() for o in p.consumption_offsets),
                        **p.model_dump(exclude={"non_scheduled", "windows", "green",
                                                "consumption_offsets"}))


class BrokerConfig(_Table):
    url: str
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

    def full_url(self) -> str:
        """The URL with the user and the password (from the config or the environment)."""
        u = urlsplit(self.url)
        user = self.user or u.username
        password = self.password or u.password
        if self.password_env:
            password = os.environ[self.password_env]
        if user is None:
            return self.url
        host = u.netloc.rpartition("@")[2]
        cred = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
        return urlunsplit((u.scheme, f"{cred}@{host}", "", "", ""))


class EmbeddedBrokerConfig(_Table):
    port: int = Field(1883, ge=1, le=65535)


class DatabaseConfig(_Table):
    sqlite: str = DEFAULT_DB
    status_every_s: float = Field(60.0, ge=1)

    def path(self) -> Path:
        return Path(self.sqlite).expanduser()


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


class LogConfig(_Table):
    level: Literal["debug", "info", "warning", "error"] = "info"


class Config(_Table):
    site: list[SiteConfig] = Field(min_length=1)
    broker: BrokerConfig | None = None
    embedded_broker: EmbeddedBrokerConfig = EmbeddedBrokerConfig()
    database: DatabaseConfig = DatabaseConfig()
    api: ApiConfig = ApiConfig()
    webipc: WebIpcConfig = WebIpcConfig()
    log: LogConfig = LogConfig()


def _settings_problem(i: int, site: SiteConfig, e: ValueError) -> Problem:
    """Settings' "field: value must ..." as a problem of the TOML key."""
    field, _, rest = str(e).partition(": ")
    if field == "max_amps":
        loc, value = ("site", i, "max_amps"), site.max_amps
    elif field in GreenConfig.model_fields:
        loc, value = ("site", i, "policy", "green", field), getattr(site.policy.green, field)
    else:
        loc, value = ("site", i, "policy", field), getattr(site.policy, field, None)
    problem = rest.removeprefix(f"{value!r} ").replace(", or None", ", or left out")
    return bad(loc, value, problem, "set it " + problem.removeprefix("must be "))


def _sources_problems(i: int, site: SiteConfig) -> list[Problem]:
    """Each source's own keys, names, roles and intervals, and the combination rules."""
    problems: list[Problem] = []
    filled: dict[str, list[str]] = {}
    names: list[str] = []
    for j, src in enumerate(site.sources()):
        at = ("site", i, "source", j)
        kind = kinds()[src.type]
        try:
            options = kind.options.model_validate(src.options())
        except ValidationError as e:
            problems += describe(e, kind.options, src.options(), at,
                                 tuple(SourceConfig.model_fields))
            continue
        if src.label() in names:
            problems.append(bad(at + ("name",), src.label(), "another source of this site "
                                 "has this name", "give each source a name"))
        names.append(src.label())
        can = kind.roles(options)
        for role in src.roles or ():
            if role not in can:
                problems.append(bad(at + ("roles",), role, f"a {src.type} source cannot "
                                     "give it", f"give only {', '.join(can)}"))
        if src.interval_s is not None and src.interval_s < kind.min_interval_s:
            problems.append(bad(at + ("interval_s",), src.interval_s,
                                f"{src.type} may be read at most every "
                                f"{kind.min_interval_s:g} s",
                                f"give {kind.min_interval_s:g} or more"))
        for role in src.role_list():
            filled.setdefault(role, []).append(src.label())
    for role in ROLES:
        rule = getattr(site.combine, role)
        feeds = filled.get(role, [])
        where = ("site", i, "combine", role)
        if rule is None and len(feeds) > 1:
            problems.append((where, f"missing: sources {', '.join(feeds)} all give {role} "
                                    f'(fix: set it to "sum", "priority" or one of their names)'))
        elif rule is not None and rule not in RULES and rule not in feeds:
            problems.append(bad(where, rule, f"no source named so gives {role}",
                                'give "sum", "priority" or one of: ' + ", ".join(feeds)))
    return problems


def _check(config: Config) -> list[Problem]:
    """What the models alone cannot see: sources' options, the policy's own checks,
    duplicate names, secrets from the environment."""
    problems = []
    names = [s.name for s in config.site]
    for i, site in enumerate(config.site):
        if names.index(site.name) != i:
            problems.append(bad(("site", i, "name"), site.name, "another site has this name",
                                "give each [[site]] its own name"))
        problems += _sources_problems(i, site)
        try:
            site.settings()
        except ValueError as e:
            problems.append(_settings_problem(i, site, e))
    problems += _webipc_problems(config)
    if (config.api.tls_cert is None) != (config.api.tls_key is None):
        problems.append((("api", "tls_cert" if config.api.tls_cert is None else "tls_key"),
                         "missing: TLS needs both tls_cert and tls_key (fix: set both, or "
                         "neither for plain HTTP)"))
    b = config.broker
    if b is not None:
        if b.password is not None and b.password_env is not None:
            problems.append(bad(("broker", "password"), "...", "given with password_env",
                                "keep only one of them (password_env is better)"))
        if "embedded_broker" in config.model_fields_set:
            problems.append((("embedded_broker",),
                             "not used with [broker] (fix: remove one of them)"))
    return problems


def _webipc_problems(config: Config) -> list[Problem]:
    """[webipc], when enabled: an existing path for ftok, and the one site it serves."""
    w, names = config.webipc, [s.name for s in config.site]
    if not w.enabled:
        return []
    problems = []
    if not os.path.exists(w.path):
        problems.append(bad(("webipc", "path"), w.path, "does not exist (ftok needs it)",
                            "create it, or give the directory your legacy client's ftok uses"))
    if w.site is None and len(names) > 1:
        problems.append((("webipc", "site"), "missing: WebIPC serves one site (fix: set it "
                                             "to one of " + ", ".join(names) + ")"))
    elif w.site is not None and w.site not in names:
        problems.append(bad(("webipc", "site"), w.site, "no such site",
                            "give one of " + ", ".join(names)))
    return problems


def load(path: Path) -> Config:
    """The config in `path`; ConfigError lists every problem found."""
    name = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError([f"{name}: cannot read it: {e.strerror or e} "
                           f"(fix: create it, see {DOCS} and examples/twcm.toml)"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError([f"{name}: not valid TOML: {e} (fix: see {DOCS})"]) from None
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        problems = describe(e, Config, data)
    else:
        problems = _check(config)
    if problems:
        raise ConfigError([f"{name}: {line(data, where, text)}" for where, text in problems])
    return config


def load_api(path: Path) -> tuple[ApiConfig, DatabaseConfig]:
    """Only the [api] and [database] tables of the config in `path`, checked as load()
    checks them (`twcm token`, `twcm charge --config`: no sites, no secrets needed)."""
    name = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError([f"{name}: cannot read it: {e.strerror or e} (fix: give the "
                           "config of `twcm run`, see docs/config.md)"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError([f"{name}: not valid TOML: {e} (fix: see {DOCS})"]) from None
    out = []
    for key, model in (("api", ApiConfig), ("database", DatabaseConfig)):
        table = data.get(key, {})
        try:
            out.append(model.model_validate(table))
        except ValidationError as e:
            raise ConfigError([f"{name}: {line(data, where, text)}"
                               for where, text in describe(e, model, table, (key,))]) from None
    return out[0], out[1]


def check_site(data: dict[str, Any]) -> SiteConfig:
    """One [[site]] table checked as load() checks it, with the same messages (a runtime
    change of its settings, twcm.service.settings); ConfigError lists every problem."""
    given = {"site": [data]}
    try:
        config = Config.model_validate(given)
    except ValidationError as e:
        problems = describe(e, Config, given)
    else:
        problems = _check(config)
    if problems:
        raise ConfigError([line(given, where, text) for where, text in problems])
    return config.site[0]

