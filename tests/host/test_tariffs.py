"""Tariffs against a local HTTP server serving the recorded answers (tests/fixtures/api/
pricing), the static time-of-use tariff, and the feed's back-off and choice of slots."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from meter_server import MeterServer, Reply, recorded
from twcm.service.tariffs import Slot, TariffError, kinds
from twcm.service.tariffs.feed import PriceFeed, Prices

UTC = timezone.utc
VIENNA = ZoneInfo("Europe/Vienna")


def make(type_: str, **options):
    kind = kinds()[type_]
    return kind.make(kind.options.model_validate(options))


def fetch(tariff, now: datetime) -> list[Slot]:
    async def go():
        try:
            return await tariff.prices(now)
        finally:
            close = getattr(tariff, "close", None)
            if close:
                await close()
    return asyncio.run(go())


def test_awattar_gives_eur_per_kwh_with_fees_and_vat_for_each_slot_as_given():
    with MeterServer() as s:
        s.route("/v1/marketdata", "pricing/awattar_marketdata.json")
        now = datetime(2024, 6, 1, 9, 30, tzinfo=UTC)
        got = fetch(make("awattar", url=s.url, country="DE", fees_per_kwh=0.1,
                         vat_percent=20, export_per_kwh=0.07), now)
        query = parse_qs(urlsplit(s.requests[0].path).query)
    assert int(query["start"][0]) <= now.timestamp() * 1000 < int(query["end"][0])
    assert [(x.start, x.end) for x in got] == [(1717232400, 1717236000),
                                               (1717236000, 1717239600),
                                               (1717239600, 1717243200)]
    assert [x.import_price for x in got] == pytest.approx(
        [(0.04209 + 0.1) * 1.2, (-0.00512 + 0.1) * 1.2, (0.10249 + 0.1) * 1.2])
    assert {(x.export_price, x.currency) for x in got} == {(0.07, "EUR")}


def test_awattar_with_no_data_says_so_and_the_feed_keeps_its_prices_and_backs_off():
    with MeterServer() as s:
        s.route("/v1/marketdata", "pricing/awattar_marketdata.json")
        feed = PriceFeed("awattar", "awattar", make("awattar", url=s.url), 900.0, 0.0)
        now = datetime(2024, 6, 1, 9, 30, tzinfo=UTC)

        async def go():
            assert await feed.fetch(now)
            good = list(feed.slots)
            s.route("/v1/marketdata", "pricing/awattar_marketdata_empty.json")
            assert not await feed.fetch(now)
            assert "data is empty" in feed.error and feed.slots == good
            waits = [feed.wait_s()]
            s.route("/v1/marketdata", Reply(b"busy", 503, "text/plain"))
            assert not await feed.fetch(now)
            waits.append(feed.wait_s())
            assert "HTTP 503" in feed.error
            s.route("/v1/marketdata", "pricing/awattar_marketdata.json")
            assert await feed.fetch(now) and feed.error is None
            await feed.tariff.close()
            return waits
        waits = asyncio.run(go())
    assert waits[0] < waits[1] <= 3600 and feed.wait_s() == 900.0
    status = Prices([feed]).status(now.timestamp())
    assert status["current"]["import"] == pytest.approx(0.04209)
    assert status["source"] == "awattar" and len(status["next"]) == 2
    assert status["tariffs"][0]["age_s"] == 0


def test_awattar_refuses_an_unknown_unit():
    from twcm.service.tariffs.integrations.awattar import AwattarOptions, parse
    doc = json.loads(recorded("pricing/awattar_marketdata.json"))
    doc["data"][0]["unit"] = "Eur/kWh"
    with pytest.raises(TariffError, match="not Eur/MWh"):
        parse(doc, AwattarOptions())


def test_static_time_of_use_weekdays_and_the_weekend():
    tariff = make("static", currency="EUR", import_price=0.30, export_price=0.08, window=[
        {"days": ["Mon", "Tue", "Wed", "Thu", "Fri"], "start": "22:00", "end": "06:00",
         "import_price": 0.12},
        {"days": ["Sat", "Sun"], "start": "00:00", "end": "00:00", "import_price": 0.20,
         "export_price": 0.05}])
    now = datetime(2026, 12, 4, 12, 0, tzinfo=VIENNA)  # a Friday
    got = fetch(tariff, now)

    def at(*when):
        t = datetime(*when, tzinfo=VIENNA).timestamp()
        (slot,) = [x for x in got if x.covers(t)]
        return slot.import_price, slot.export_price
    assert got[0].covers(now.timestamp()) and got[-1].end >= now.timestamp() + 47 * 3600
    assert at(2026, 12, 4, 12, 0) == (0.30, 0.08)
    assert at(2026, 12, 4, 23, 0) == (0.12, 0.08)  # Friday night, into Saturday
    assert at(2026, 12, 5, 3, 0) == (0.12, 0.08)  # the Friday window comes first
    assert at(2026, 12, 5, 12, 0) == (0.20, 0.05)  # Saturday
    assert all(a.end == b.start for a, b in zip(got, got[1:]))
    assert all((a.import_price, a.export_price) != (b.import_price, b.export_price)
               for a, b in zip(got, got[1:]))


def test_tibber_posts_the_query_with_the_token_and_ends_each_slot_at_the_next(monkeypatch):
    monkeypatch.setenv("TIBBER_TOKEN", "secret-123")
    with MeterServer() as s:
        s.route("/v1-beta/gql", "pricing/tibber_priceinfo.json")
        got = fetch(make("tibber", url=s.url, token_env="TIBBER_TOKEN"),
                    datetime(2024, 6, 1, 12, 5, tzinfo=UTC))
        request = s.requests[0]
    assert request.method == "POST" and request.header("Authorization") == "Bearer secret-123"
    assert "priceInfo(resolution: QUARTER_HOURLY)" in json.loads(request.body)["query"]
    start = datetime(2024, 6, 1, 10, 0, tzinfo=UTC).timestamp()
    assert [(x.start, x.end, x.import_price, x.currency) for x in got] == [
        (start, start + 900, 0.2341, "EUR"), (start + 900, start + 1800, 0.2298, "EUR")]


def test_tibber_errors_are_told():
    with MeterServer() as s:
        s.route("/v1-beta/gql", Reply(b'{"errors": [{"message": "invalid token"}]}'))
        with pytest.raises(TariffError, match="invalid token"):
            fetch(make("tibber", url=s.url, token="x"), datetime.now(UTC))


def test_octopus_follows_next_pages_and_gives_gbp_per_kwh():
    path = "/v1/products/AGILE-24-10-01/electricity-tariffs/E-1R-AGILE-24-10-01-C/" \
           "standard-unit-rates/"
    with MeterServer() as s:
        first = json.loads(recorded("pricing/octopus_agile_standard_unit_rates.json"))
        first["next"] = f"{s.url}{path}?page=2"
        older = {"count": 3, "next": None, "previous": None, "results": [
            {"value_exc_vat": 10.0, "value_inc_vat": 10.5, "valid_from": "2024-06-01T11:30:00Z",
             "valid_to": "2024-06-01T12:00:00Z", "payment_method": None}]}
        s.route(f"{path}?page=2", Reply(json.dumps(older).encode()))
        s.route(path, Reply(json.dumps(first).encode()))
        got = fetch(make("octopus", url=s.url, product="AGILE-24-10-01", region="C"),
                    datetime(2024, 6, 1, 11, 40, tzinfo=UTC))
        paths = [r.path for r in s.requests]
    assert len(paths) == 2 and "period_from=2024-06-01T10%3A40Z" in paths[0]
    assert [(x.import_price, x.currency) for x in got] == [
        (0.105, "GBP"), (-0.01575, "GBP"), (0.22701, "GBP")]
    assert [x.end for x in got[:-1]] == [x.start for x in got[1:]]


def test_the_first_tariff_listed_wins_where_it_has_a_price():
    now = 1_000_000.0
    dynamic = PriceFeed("spot", "awattar", None, 900.0)  # type: ignore[arg-type]
    dynamic.slots = [Slot(now - 100, now + 3600, 0.10, 0.0, "EUR")]
    fixed = PriceFeed("flat", "static", None, 600.0)  # type: ignore[arg-type]
    fixed.slots = [Slot(now - 100, now + 7200, 0.30, 0.05, "EUR")]
    got = Prices([dynamic, fixed])
    assert [(x.import_price, x.end) for x in got.slots(now)] == [(0.10, now + 3600)]
    fixed.slots = [Slot(now - 100, now + 3600, 0.30, 0.0, "EUR"),
                   Slot(now + 3600, now + 7200, 0.30, 0.0, "EUR")]
    assert [x.import_price for x in got.slots(now)] == [0.10, 0.30]
    assert got.status(now)["source"] == "spot"
    assert Prices([]).status(now) is None
