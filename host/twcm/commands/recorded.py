"""What `twcm history` and `twcm replay --from-db` share: the config, its database, the
site and the local day asked for, each refused with a message that says what to give."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from twcm.replay.recorded import Progress, RecordedDay, days_with_samples, read_day
from twcm.service.config import Config, SiteConfig


class Refused(Exception):
    """The day cannot be had; the message (its lines) says why and what to give."""


def day_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: give YYYY-MM-DD, e.g. 2026-06-21") from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, default=Path("twcm.toml"), metavar="FILE",
                   help="the configuration of `twcm run`: its database and sites "
                   "(default ./twcm.toml)")
    p.add_argument("--site", metavar="NAME", help="the site (default: the only one)")


@dataclass(frozen=True)
class Recorded:
    config: Config
    site: SiteConfig
    day: RecordedDay


def _site(config: Config, path: Path, name: str | None) -> SiteConfig:
    names = [s.name for s in config.site]
    if name is None:
        if len(names) == 1:
            return config.site[0]
        raise Refused(f"{path} has several sites: give --site, one of {', '.join(names)}")
    for s in config.site:
        if s.name == name:
            return s
    raise Refused(f"no site {name!r} in {path}: give --site, one of {', '.join(names)}")


def recorded(path: Path, site_name: str | None, day: date,
             progress: Progress | None = None) -> Recorded:
    """The site's recorded day from the database of the config at `path`."""
    from twcm.service.config import ConfigError
    from twcm.service.config_load import load
    from twcm.service.store import Store

    if not path.is_file():
        raise Refused(f"{path}: no such file (fix: give the config of `twcm run` with "
                      "--config)")
    try:
        config = load(path)
    except ConfigError as e:
        raise Refused("\n".join(e.lines)) from None
    site = _site(config, path, site_name)
    db = config.database.path()
    if not db.is_file():
        raise Refused(f"{db}: no database there yet ([database] sqlite in {path}): "
                      "`twcm run` makes it and records each turn")
    tz = ZoneInfo(site.timezone) if site.timezone else None
    store = Store(config.database.where())
    try:
        got = read_day(store, site.name, day, tz, site.settings().green.subtract_charger_load,
                       max(180.0, 3 * config.database.status_every_s), progress)
        if not got.turns:
            near = days_with_samples(store, site.name, day, tz)
            raise Refused(f"site {site.name} has no samples on {day}: " + (
                "days with samples near it: " + ", ".join(map(str, near)) if near else
                "none within 30 days of it either"))
    finally:
        store.close()
    return Recorded(config, site, got)
