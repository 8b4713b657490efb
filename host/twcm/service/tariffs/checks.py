"""The checks of a site's [[site.tariff]] tables and its [site.forecast] that the models
alone cannot make (each one's own keys, names, intervals), and building their feeds."""
from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError

from twcm.service.config_problems import Problem, bad, describe
from twcm.service.tariffs.base import kinds
from twcm.service.forecast.base import kinds as forecast_kinds
from twcm.service.tariffs.feed import ForecastFeed, PriceFeed, Prices

if TYPE_CHECKING:
    from twcm.service.config import SiteConfig


def tariff_problems(i: int, site: SiteConfig) -> list[Problem]:
    from twcm.service.config import ForecastConfig, TariffConfig

    problems: list[Problem] = []
    names: list[str] = []
    for j, t in enumerate(site.tariff):
        at = ("site", i, "tariff", j)
        kind = kinds()[t.type]
        try:
            kind.options.model_validate(t.options())
        except ValidationError as e:
            problems += describe(e, kind.options, t.options(), at,
                                 tuple(TariffConfig.model_fields))
            continue
        if t.label() in names:
            problems.append(bad(at + ("name",), t.label(), "another tariff of this site has "
                                "this name", "give each tariff a name"))
        names.append(t.label())
        if t.interval_s is not None and t.interval_s < kind.min_interval_s:
            problems.append(bad(at + ("interval_s",), t.interval_s,
                                f"{t.type} may be asked at most every "
                                f"{kind.min_interval_s:g} s",
                                f"give {kind.min_interval_s:g} or more"))
    f = site.forecast
    if f is not None:
        fkind = forecast_kinds()[f.type]
        try:
            fkind.options.model_validate(f.options())
        except ValidationError as e:
            problems += describe(e, fkind.options, f.options(), ("site", i, "forecast"),
                                 tuple(ForecastConfig.model_fields))
    return problems


def prices(site: SiteConfig) -> Prices:
    """The site's tariffs as feeds (no I/O until they run)."""
    feeds = []
    for t in site.tariff:
        kind = kinds()[t.type]
        tariff = kind.make(kind.options.model_validate(t.options()))
        feeds.append(PriceFeed(t.label(), t.type, tariff,
                               t.interval_s or kind.interval_s, kind.min_interval_s))
    return Prices(feeds)


def forecast(site: SiteConfig) -> ForecastFeed | None:
    """The site's solar forecast as a feed, if it has one."""
    f = site.forecast
    if f is None:
        return None
    kind = forecast_kinds()[f.type]
    return ForecastFeed(f.type, f.type, kind.make(kind.options.model_validate(f.options())),
                        kind.interval_s, 60.0)
