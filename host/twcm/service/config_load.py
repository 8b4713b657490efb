"""Loading and checking the service's configuration (the models are in config.py).

`load(path)` returns a `Config` or raises `ConfigError`, whose `lines` say for each problem
the key, the bad value and the fix, naming a site by its name:
    twcm.toml: site "home": policy.green.start_delay_s: -5.0 is not allowed: must be >= 0 ...
    twcm.toml: site "home": unknown key "max_amp": did you mean "max_amps"?
`check_site` checks one site's table the same way (runtime settings), `load_api` only the
tables `twcm token` and `twcm charge` need.
"""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from twcm.service.config import (ApiConfig, Config, ConfigError, DatabaseConfig, GreenConfig,
                                 SiteConfig, SourceConfig)
from twcm.service.cars import car_problems
from twcm.service.config_problems import DOCS, Problem, bad, describe, line
from twcm.service.history import configured as logging_tables
from twcm.service.sources import ROLES, kinds
from twcm.service.sources.combine import RULES
from twcm.service.tariffs.checks import tariff_problems
from twcm.service.status import checks as status_checks


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
        problems += car_problems(i, site)
        problems += tariff_problems(i, site)
        try:
            site.settings()
        except ValueError as e:
            problems.append(_settings_problem(i, site, e))
        if site.ocpp is not None:  # [site.ocpp]: what its fields alone do not say
            problems += [(("site", i, "ocpp", k), t) for k, t in site.ocpp.problems()]
    problems += _webipc_problems(config)
    problems += status_checks.problems(config)
    problems += logging_tables.problems(config)
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


def _read(path: Path, fix: str) -> dict[str, Any]:
    """The TOML in `path`; ConfigError if it cannot be read (with `fix`) or parsed."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError([f"{path}: cannot read it: {e.strerror or e} (fix: {fix})"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError([f"{path}: not valid TOML: {e} (fix: see {DOCS})"]) from None


def _config(data: dict[str, Any], prefix: str = "") -> Config:
    """`data` checked by the models and then by _check; ConfigError lists every problem,
    each line after `prefix`."""
    try:
        config = Config.model_validate(data)
    except ValidationError as e:
        problems = describe(e, Config, data)
    else:
        problems = _check(config)
    if problems:
        raise ConfigError([prefix + line(data, where, text) for where, text in problems])
    return config


def load(path: Path) -> Config:
    """The config in `path`; ConfigError lists every problem found."""
    return _config(_read(path, f"create it, see {DOCS} and examples/twcm.toml"), f"{path}: ")


def load_api(path: Path) -> tuple[ApiConfig, DatabaseConfig]:
    """Only the [api] and [database] tables of the config in `path`, checked as load()
    checks them (`twcm token`, `twcm charge --config`: no sites, no secrets needed)."""
    name = str(path)
    data = _read(path, "give the config of `twcm run`, see docs/config.md")
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
    return _config({"site": [data]}).site[0]

