"""Solar forecasts against a local HTTP server serving answers written from the services'
documented formats (tests/fixtures/api/forecast)."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from meter_server import MeterServer, recorded
from twcm.service.forecast.base import ForecastError, kinds
from twcm.service.tariffs.feed import ForecastFeed

UTC = timezone.utc
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def make(type_: str, **options):
    kind = kinds()[type_]
    return kind.make(kind.options.model_validate(options))


def solar(forecast):
    async def go():
        try:
            return await forecast.solar(NOW)
        finally:
            await forecast.close()
    return asyncio.run(go())


def test_forecast_solar_periods_become_watts_in_utc():
    with MeterServer() as s:
        s.route("/estimate/52.52/13.405/30/0/5", "forecast/forecast_solar_estimate.json")
        got = solar(make("forecast_solar", url=s.url, latitude=52.52, longitude=13.405,
                         declination=30.0, azimuth=0.0, kwp=5.0))
    # Local Berlin times (CEST, UTC+2): the period 12:00-13:00 ends at 11:00 UTC.
    noon = [x for x in got if x.end == datetime(2026, 6, 1, 11, 0, tzinfo=UTC).timestamp()]
    assert len(noon) == 1 and noon[0].end - noon[0].start == 3600
    assert noon[0].watts == pytest.approx((3531 + 3600) / 2, abs=1)
    assert got[0].start == datetime(2026, 6, 1, 3, 0, tzinfo=UTC).timestamp()
    day = json.loads(recorded("forecast/forecast_solar_estimate.json"))["result"]
    assert sum(x.watts for x in got) == pytest.approx(day["watt_hours_day"]["2026-06-01"])


def test_forecast_solar_rate_limit_is_an_error_the_feed_keeps_and_backs_off_from():
    with MeterServer() as s:
        s.route("/estimate/52.52/13.405/30/0/5", "forecast/forecast_solar_ratelimit.json")
        feed = ForecastFeed("f", "forecast_solar", make(
            "forecast_solar", url=s.url, latitude=52.52, longitude=13.405, kwp=5.0), 3600, 60)

        async def go():
            ok = await feed.fetch(NOW)
            await feed.tariff.close()
            return ok
        assert not asyncio.run(go())
    assert "Rate limit" in feed.error and feed.slots == [] and feed.wait_s() == 60


def test_open_meteo_irradiance_on_the_plane_times_kwp_and_performance():
    with MeterServer() as s:
        s.route("/v1/forecast", "forecast/open_meteo_forecast.json")
        got = solar(make("open_meteo", url=s.url, latitude=52.52, longitude=13.42, tilt=35.0,
                         azimuth=-10.0, kwp=5.0))
        query = parse_qs(urlsplit(s.requests[0].path).query)
    assert query["hourly"] == ["global_tilted_irradiance"] and query["tilt"] == ["35.0"]
    assert query["azimuth"] == ["-10.0"]
    peak = max(got, key=lambda x: x.watts)
    assert peak.end == datetime(2026, 6, 1, 11, 0, tzinfo=UTC).timestamp()
    assert peak.watts == pytest.approx(800 * 5 * 0.85)


def test_open_meteo_errors_are_told():
    with MeterServer() as s:
        s.route("/v1/forecast", "forecast/open_meteo_error.json")
        with pytest.raises(ForecastError, match="Latitude must be in range"):
            solar(make("open_meteo", url=s.url, latitude=52.5, longitude=13.4, kwp=5.0))
