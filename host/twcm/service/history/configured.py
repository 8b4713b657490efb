"""The `[[logging]]` tables of a config: their checks at start (config_load calls
`problems`) and the backends they make (`build`)."""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ValidationError

from twcm.service.config import Config, LoggingConfig
from twcm.service.config_problems import Problem, bad, describe
from twcm.service.history.backends import Backend, kinds

# Where a backend's options name a file or directory of its own: two tables must not share.
PLACES = ("directory", "path")


def options(table: LoggingConfig) -> BaseModel:
    """The table's options as its type's model; ValidationError if they do not fit."""
    return kinds()[table.type].options.model_validate(table.options())


def problems(config: Config) -> list[Problem]:
    """Each table's own keys, the site it names, and files two tables would share."""
    found: list[Problem] = []
    names = [s.name for s in config.site]
    places: dict[Path, int] = {}
    for i, table in enumerate(config.logging):
        at = ("logging", i)
        try:
            opts = options(table)
        except ValidationError as e:
            found += describe(e, kinds()[table.type].options, table.options(), at, ("type",))
            continue
        site = getattr(opts, "site", None)
        if site is not None and site not in names:
            found.append(bad(at + ("site",), site, "no such site",
                             "give one of " + ", ".join(names)))
        elif table.type == "csv" and site is None and len(names) > 1:
            found.append((at + ("site",), "missing: the CSV files have no site column, so "
                          "with several sites each [[logging]] csv table keeps one site's "
                          "records (fix: set it to one of " + ", ".join(names) + ", with a "
                          "directory each)"))
        for key in PLACES:
            value = getattr(opts, key, None)
            if not isinstance(value, str):
                continue
            place = Path(value).expanduser().resolve()
            if place in places:
                found.append(bad(at + (key,), value, f"logging[{places[place]}] writes "
                                 "there too", f"give each table its own {key}"))
            places.setdefault(place, i)
    return found


def build(config: Config) -> list[Backend]:
    """The backends of the config's tables, opened (files are created and repaired now);
    ValueError/OSError naming the table that cannot be opened, after closing the others."""
    made: list[Backend] = []
    try:
        for i, table in enumerate(config.logging):
            try:
                made.append(kinds()[table.type].make(options(table)))
            except (OSError, ValueError) as e:
                raise type(e)(f"logging[{i}] ({table.type}): {e}") from e
    except BaseException:
        for backend in made:
            backend.close()
        raise
    return made
