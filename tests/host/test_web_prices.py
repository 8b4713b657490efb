"""The web page's prices and plans card, in headless Chromium against the REST API with
a real SiteLoop: a static tariff, and a car on a Wall Connector with a departure."""
from __future__ import annotations

import asyncio

from api_rig import STATE, Rig
from test_web_ui import browser, log_in, needs_chromium, severe, shown  # noqa: F401

SITE = '[data-site="home"]'
CAR = STATE["slaves"][0]["vin"]  # charging on TWC 1A2B
TABLES = [{"name": "home", "max_amps": 24, "timezone": "UTC",
           "source": {"type": "static", "generation_w": 300},
           "tariff": {"type": "static", "name": "flat", "import_price": 0.25,
                      "export_price": 0.07, "window": [
                          {"start": "00:00", "end": "00:00", "days": ["Sat", "Sun"],
                           "import_price": 0.20}]},
           "car": [{"vin": CAR, "name": "Model 3", "departure": "07:00",
                    "target_kwh": 12.0}]}]


@needs_chromium
def test_the_page_shows_the_price_in_force_and_the_cars_plan(tmp_path, browser):
    with Rig(tmp_path, TABLES) as rig:
        site = rig.sites["home"]
        asyncio.run_coroutine_threadsafe(site.prices.feeds[0].fetch(site.now()),
                                         rig.loop).result(10)
        rig.device()
        rig.call(site.turn)
        status = rig.request("GET", "/api/sites/home", token=rig.admin)[1]
        assert status["prices"]["source"] == "flat"
        assert status["plans"][0]["plan"]["reason"].startswith("Model 3: cheapest")
        log_in(browser, rig.api.port, rig.admin)
        now = shown(browser, f'{SITE} [data-field="price-now"]',
                    lambda t: t.startswith("Now "), 10, "the price in force")
        assert "EUR/kWh (export 0.070)" in now and "from flat" in now, now
        plans = shown(browser, f'{SITE} [data-field="plans"]', lambda t: "Model 3" in t, 10,
                      "the plan")
        assert "cheapest" in plans and "to reach 12 kWh by 07:00" in plans, plans
        assert severe(browser) == []


@needs_chromium
def test_without_tariff_or_car_the_card_is_hidden(tmp_path, browser):
    with Rig(tmp_path) as rig:
        log_in(browser, rig.api.port, rig.admin)
        shown(browser, f'{SITE} [data-field="reason"]', lambda t: True, 10, "the site")
        card = browser.find_element("css selector", f'{SITE} [data-field="prices-card"]')
        assert not card.is_displayed()
