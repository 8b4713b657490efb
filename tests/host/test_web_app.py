"""The web app's controls in headless Chromium against `twcm run`, mosquitto and the
simulated device: a schedule, Charge Now, the non-scheduled action, a cap set on the page,
and the device follows (its state on MQTT); settings with where they come from; refusals
shown beside the control that caused them; today's chart and the sessions; a phone-sized
window. TWCM_SCREENSHOTS=<folder> keeps screenshots of the dashboard and the phone."""
from __future__ import annotations

import time

import pytest

from mqtt_helpers import Watcher, free_port
from test_devicelink_mqtt import device, until  # noqa: F401  (device: a fixture)
from test_service_control import device_limit, start_service
from test_web_ui import (api_call, api_up, chromium, log_in, needs_chromium, screenshot, severe,
                         shown, tokens)
from test_web_ui import browser  # noqa: F401  (a fixture)

from twcm.service.site import SiteLoop

SITE = '[data-site="home"]'


def set_value(driver, element, value: str) -> None:
    """Type into an input as a user would end up (time inputs take no keys reliably)."""
    driver.execute_script(
        "arguments[0].value = arguments[1];"
        "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));", element, value)


def click(driver, css: str) -> None:
    """Click it in the middle of the window (not under the page's sticky header)."""
    element = driver.find_element("css selector", css)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def status(api: int, token: str) -> dict:
    code, data = api_call(api, "GET", "/api/sites/home", token=token)
    assert code == 200, data
    return data


@needs_chromium
def test_the_controls_on_the_page_change_what_the_device_applies(tmp_path, mosquitto, device):
    admin, _ = tokens(tmp_path)
    api = free_port()
    service = start_service(tmp_path, mosquitto, device, api)
    watcher = Watcher(mosquitto, ["twcm/home/state"])
    driver = chromium(tmp_path / "chromium", "1280,900")
    schedule = f"{SITE} form[data-list=windows]"
    try:
        def limit() -> tuple | None:
            return device_limit(watcher)

        def device_windows() -> int | None:
            states = watcher.json_of("twcm/home/state")
            return states[-1]["schedule_windows"] if states else None

        until(lambda: limit() == ("stopped", 0), 20, "no surplus: a 0 A lease")
        until(lambda: api_up(api, admin), 10, "the API")
        log_in(driver, api, admin, remember=True)
        # Remembered: in localStorage, still never a cookie.
        assert driver.execute_script("return localStorage.getItem('twcm.token')") == admin
        assert driver.execute_script("return sessionStorage.getItem('twcm.token')") is None
        assert driver.execute_script("return document.cookie") == ""
        shown(driver, f"{schedule} .empty", lambda t: t.startswith("No window"), 10,
              "no window yet")

        # A weekly window around now, every day, 10 A: the device gets it as its schedule
        # and the lease follows it.
        click(driver, f"{schedule} button.add")
        row = driver.find_element("css selector", f"{schedule} .list-row")
        for box in row.find_elements("css selector", 'input[name="day"]'):
            if not box.is_selected():
                box.click()
        set_value(driver, row.find_element("css selector", '[name="start"]'),
                  time.strftime("%H:%M", time.localtime(time.time() - 3600)))
        set_value(driver, row.find_element("css selector", '[name="end"]'),
                  time.strftime("%H:%M", time.localtime(time.time() + 3600)))
        amps = row.find_element("css selector", '[name="amps"]')
        amps.clear()
        amps.send_keys("10")
        click(driver, f"{schedule} button[type=submit]")
        until(lambda: limit() == ("lease", 10), 10, "the window's 10 A on the device")
        until(lambda: (device_windows() or 0) >= 1, 10, "the schedule on the device")
        assert status(api, admin)["settings"]["windows"]["from"] == "runtime"
        shown(driver, f"{schedule} .list-from", lambda t: t == "from runtime", 5,
              "the schedule from runtime")
        shown(driver, f'{SITE} [data-field="why"]', lambda t: "set by schedule" in t, 5,
              "set by the schedule")

        # A window the API refuses: its message under the editor, nothing changed.
        start = driver.find_element("css selector", f'{schedule} [name="start"]')
        set_value(driver, start, "")
        click(driver, f"{schedule} button[type=submit]")
        error = shown(driver, f"{schedule} .form-error", lambda t: "start" in t, 10,
                      "the refused window")
        assert "time" in error or "HH:MM" in error, error
        before = status(api, admin)["settings"]["windows"]["value"]
        assert len(before) == 1 and before[0]["amps"] == 10 and before[0]["start"] != ""
        assert limit() == ("lease", 10)
        click(driver, f"{schedule} button.revert")
        assert driver.find_element("css selector", f'{schedule} [name="start"]').get_attribute(
            "value") == before[0]["start"]

        # Charge Now above the schedule, then back to it.
        amps = driver.find_element("css selector", "#home-amps")
        amps.clear()
        amps.send_keys("16")
        click(driver, f"{SITE} button.start")
        until(lambda: limit() == ("lease", 16), 10, "Charge Now 16 A on the device")
        click(driver, f"{SITE} button.end")
        until(lambda: limit() == ("lease", 10), 10, "back to the window's 10 A")

        # No window: the non-scheduled action (green: 0 A here); then fixed at 8 A.
        click(driver, f"{schedule} .list-row button.remove")
        click(driver, f"{schedule} button[type=submit]")
        until(lambda: limit() == ("stopped", 0), 10, "green again: 0 A")
        until(lambda: device_windows() == 0, 10, "no schedule on the device")
        action = f'{SITE} [data-field="action-form"]'
        from selenium.webdriver.support.ui import Select
        Select(driver.find_element("css selector", "#home-non_scheduled")).select_by_value("fixed")
        naps = driver.find_element("css selector", "#home-non_scheduled_amps")
        naps.clear()
        naps.send_keys("99")
        click(driver, f"{action} button[type=submit]")
        shown(driver, f"{action} .form-error", lambda t: "99" in t, 10, "the refused amps")
        assert naps.get_attribute("aria-invalid") == "true"
        assert status(api, admin)["settings"]["non_scheduled"]["value"] == "track_green"
        naps.clear()
        naps.send_keys("8")
        click(driver, f"{action} button[type=submit]")
        until(lambda: limit() == ("lease", 8), 10, "fixed 8 A on the device")
        shown(driver, f'{SITE} [data-field="action-now"]',
              lambda t: t == "Charge at 8 A (from runtime)", 5, "the action in force")

        # A green setting: refused beside its input, then taken (runtime), then reset.
        form = f'{SITE} [data-field="settings-form"]'
        delay = driver.find_element("css selector", "#set-green-start_delay_s")
        delay.clear()
        delay.send_keys("-5")
        click(driver, f"{form} button[type=submit]")
        shown(driver, f'{form} [data-key="green.start_delay_s"] .error',
              lambda t: "start_delay_s" in t, 10, "the refusal beside the input")
        assert status(api, admin)["settings"]["green.start_delay_s"] == {
            "value": 60.0, "from": "default"}
        delay = driver.find_element("css selector", "#set-green-start_delay_s")
        delay.clear()
        delay.send_keys("30")
        click(driver, f"{form} button[type=submit]")
        shown(driver, f'{form} [data-key="green.start_delay_s"] .from',
              lambda t: t == "runtime", 10, "the runtime value")
        assert status(api, admin)["settings"]["green.start_delay_s"] == {
            "value": 30.0, "from": "runtime"}
        click(driver, f'{form} [data-key="green.start_delay_s"] button.reset')
        shown(driver, f'{form} [data-key="green.start_delay_s"] .from',
              lambda t: t == "default", 10, "back to the default")

        # Consumption offsets, where this twcm has them (branch twc).
        offsets = f"{SITE} form[data-list=consumption_offsets]"
        if "consumption_offsets" in status(api, admin)["settings"]:
            click(driver, f"{offsets} button.add")
            row = driver.find_element("css selector", f"{offsets} .list-row")
            set_value(driver, row.find_element("css selector", '[name="name"]'), "pool")
            set_value(driver, row.find_element("css selector", '[name="value"]'), "500")
            click(driver, f"{offsets} button[type=submit]")
            until(lambda: status(api, admin)["settings"]["consumption_offsets"]["value"] == [
                {"name": "pool", "value": 500, "unit": "W"}], 10, "the offset")
        else:
            assert not driver.find_element("css selector", offsets).is_displayed()

        # Today's chart: the readings so far, an axis from 00:00, a legend.
        chart = f'{SITE} [data-field="chart"]'
        until(lambda: driver.find_elements(
            "css selector", f"{chart} [data-series=generation] :is(polyline, circle)"), 70, "the chart")
        labels = driver.execute_script(  # at once: the chart may be redrawn meanwhile
            "return [...document.querySelectorAll(arguments[0])].map((t) => t.textContent)",
            f"{chart} svg text")
        assert "00:00" in labels and any(t.endswith("kW") for t in labels), labels
        assert driver.find_element("css selector", f"{chart} .legend").text.split("\n") == [
            "Generation", "House load", "Charging", "Site limit"]
        # The cars charged (Charge Now, the window, fixed): sessions with their kWh.
        shown(driver, f'{SITE} [data-field="sessions"]', lambda t: "kWh in" in t, 70,
              "the sessions")
        assert severe(driver, lambda m: "/api/sites/home/" in m and " 4" in m) == [], \
            "only the refusals above may fail"
        screenshot(driver, "dashboard")
        driver.set_window_size(390, 844)  # a phone
        time.sleep(1)
        assert driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(driver, "phone")
        assert service.p.poll() is None
    finally:
        driver.quit()
        watcher.close()
        service.stop()


@needs_chromium
@pytest.mark.skipif(not hasattr(SiteLoop, "set_twc_cap"),
                    reason="per-TWC caps come with branch twc (SiteLoop.set_twc_cap)")
def test_a_cap_set_on_the_page_reaches_the_device(tmp_path, mosquitto, device, browser):
    admin, _ = tokens(tmp_path)
    api = free_port()
    service = start_service(tmp_path, mosquitto, device, api)
    watcher = Watcher(mosquitto, ["twcm/home/state"])
    try:
        ids = until(lambda: (s := watcher.json_of("twcm/home/state")) and
                    len(s[-1]["slaves"]) == 2 and [t["id"] for t in s[-1]["slaves"]],
                    20, "two Wall Connectors on the device")
        until(lambda: api_up(api, admin), 10, "the API")
        log_in(browser, api, admin)
        card = f'{SITE} [data-twc="{ids[0]}"]'
        shown(browser, card, lambda t: "Cap\nnone" in t, 10, "no cap yet")
        # Start/stop is off unless the site's config enables it.
        assert not browser.find_element("css selector", f"{card} .start-stop").is_displayed()
        cap = browser.find_element("css selector", f"{card} [name=cap]")
        cap.send_keys("6")
        click(browser, f"{card} button[type=submit]")

        def slave() -> dict:
            return next(t for t in watcher.json_of("twcm/home/state")[-1]["slaves"]
                        if t["id"] == ids[0])
        until(lambda: slave().get("cap_amps") == 6, 10, "the cap on the device")
        shown(browser, card, lambda t: "Cap\n6 A" in t, 10, "the cap on the page")
        click(browser, f"{card} button.uncap")
        until(lambda: slave().get("cap_amps") is None, 10, "no cap on the device")
        assert service.p.poll() is None
    finally:
        watcher.close()
        service.stop()
