"""The web page of `twcm run` (GET /, host/twcm/service/control/web/): its files as the API serves them (no
way out of the web folder), and the page itself in headless Chromium (Debian's chromium and
chromium-driver, driven by selenium) against `twcm run`, mosquitto and a simulated device:
the site, its lease and why, the Wall Connectors, Charge Now started, refused and ended."""
from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable, Iterator

import pytest

from mqtt_helpers import Watcher, free_port
from test_devicelink_mqtt import device, until  # noqa: F401  (device: a fixture)
from test_service_control import call, device_limit, start_service

from api_rig import Rig
from twcm.service.control.rest_api import WEB


def raw_get(port: int, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request with the target sent as is (no client-side normalising of ../)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                  "\r\n".encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@pytest.fixture(scope="module")
def api_port(tmp_path_factory) -> Iterator[int]:
    """The REST API (tests/host/api_rig.py), serving the page."""
    with Rig(tmp_path_factory.mktemp("web")) as rig:
        yield rig.api.port


def test_the_page_and_its_files_are_served_with_their_types(api_port):
    for target in ("/", "/index.html", "/?x=1"):
        code, headers, body = raw_get(api_port, target)
        assert code == 200 and headers["content-type"] == "text/html; charset=utf-8"
        assert body == (WEB / "index.html").read_bytes()
    for name, kind in [("app.js", "text/javascript; charset=utf-8"),
                       ("style.css", "text/css; charset=utf-8"),
                       ("index.html", "text/html; charset=utf-8"),
                       ("favicon.svg", "image/svg+xml")]:
        code, headers, body = raw_get(api_port, f"/static/{name}")
        assert (code, headers["content-type"]) == (200, kind)
        assert body == (WEB / name).read_bytes()
        assert int(headers["content-length"]) == len(body)
        assert "default-src 'self'" in headers["content-security-policy"]
    # The page loads nothing from elsewhere: it must work offline on a LAN.
    for name in ("index.html", "app.js", "style.css"):
        text = (WEB / name).read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text
    code, headers, _ = raw_get(api_port, "/api/status")  # the page needs no token, the API does
    assert (code, headers["content-type"]) == (401, "application/json")
    assert raw_get(api_port, "/", "POST")[0] == 405
    assert raw_get(api_port, "/static/app.js", "DELETE")[0] == 405


@pytest.mark.parametrize("target", [
    "/static/nope.js", "/static/", "/static", "/static/web", "/static/__init__.py",
    "/static/app.js/", "/static/.hidden.css", "/nope.html",
    # Out of the web folder: none of these may answer with a file.
    "/static/../api.py", "/static/../../../pyproject.toml", "/static/..%2fapi.py",
    "/static/%2e%2e/api.py", "/static/..", "/static/...css", "/static/..\\api.py",
    "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/../host/twcm/service/control/rest_api.py",
    "/static/./app.js", "/static/app.js%00.css", "//static/app.js",
    "/static/../web/app.js", "/static/~/app.js",
])
def test_unknown_files_and_paths_out_of_the_web_folder_are_404(api_port, target):
    code, headers, body = raw_get(api_port, target)
    assert code == 404 and headers["content-type"] == "application/json", body[:200]


# --- the page in a real browser ------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="chromium and chromium-driver are not installed (tools/setup --test installs them)")


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=390,844"):  # a phone
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # for get_log
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def shown(driver, css: str, test: Callable[[str], bool], timeout: float, what: str) -> str:
    """Waits until the text of the element at `css` passes `test`; returns it."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    def text() -> str | None:
        try:
            t = driver.find_element("css selector", css).text
        except (NoSuchElementException, StaleElementReferenceException):
            return None
        return t if test(t) else None
    try:
        return until(text, timeout, what)
    except AssertionError:
        try:
            now = driver.find_element("css selector", css).text
        except NoSuchElementException:
            now = "(no such element)"
        raise AssertionError(f"no {what} within {timeout} s: {css} shows {now!r}") from None


@needs_chromium
def test_the_page_shows_the_site_and_starts_and_ends_charge_now(
        tmp_path, mosquitto, device, browser):
    api = free_port()
    service = start_service(tmp_path, mosquitto, device, api)
    watcher = Watcher(mosquitto, ["twcm/home/state"])
    site = '[data-site="home"]'
    try:
        def limit() -> tuple | None:
            return device_limit(watcher)

        until(lambda: limit() == ("stopped", 0), 20, "no surplus: a 0 A lease")
        until(lambda: call(api, "GET", "/api/status")[0] == 200, 10, "the API")
        browser.get(f"http://127.0.0.1:{api}/")
        assert browser.title == "twcm"
        shown(browser, f"{site} h2", lambda t: t == "Site home", 10, "the site")
        shown(browser, f'{site} [data-field="lease"]', lambda t: t == "0 A", 10, "the 0 A lease")
        def reason() -> str:
            return call(api, "GET", "/api/sites/home")[1]["decision"]["reason"]
        assert reason().startswith("green: ")
        shown(browser, f'{site} [data-field="reason"]', lambda t: t == reason(), 5, "the reason")
        shown(browser, f'{site} [data-field="why"]', lambda t: "set by" in t, 5, "the claim")
        shown(browser, f'{site} [data-field="charge-now"]', lambda t: t == "Off", 5,
              "no Charge Now")
        assert not browser.find_element("css selector", f"{site} button.end").is_enabled()
        readings = shown(browser, f'{site} [data-field="readings"]',
                         lambda t: "Generation" in t, 5, "the readings")
        assert "300 W" in readings and "800 W" in readings, readings
        shown(browser, f'{site} [data-field="sources"]',
              lambda t: t.startswith("static (static) ok"), 5, "the source ok")
        device_text = shown(browser, f'{site} [data-field="device"]',
                            lambda t: "online" in t and "stopped" in t, 10, "the device")
        assert "Health" in device_text and "Mode" in device_text
        # The Wall Connectors, once the device has them all (the simulated bus has two).
        ids = until(lambda: (s := watcher.json_of("twcm/home/state")) and
                    len(s[-1]["slaves"]) == 2 and [t["id"] for t in s[-1]["slaves"]],
                    20, "two Wall Connectors on the device")
        for twc in ids:
            card = shown(browser, f'{site} [data-twc="{twc}"]', lambda t: "Offer" in t, 10,
                         f"Wall Connector {twc}")
            for label in ("State", "Draw", "Car", f"TWC {twc}"):
                assert label in card, card
        # Readable on a phone: nothing wider than the screen.
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth")

        # Charge Now from the form: the lease shown, then the device, follow.
        amps = browser.find_element("css selector", "#home-amps")
        minutes = browser.find_element("css selector", "#home-minutes")
        assert browser.find_element("css selector", 'label:has(#home-amps)').text == "Amps"
        amps.clear()
        amps.send_keys("16")
        minutes.clear()
        minutes.send_keys("30")
        browser.find_element("css selector", f"{site} button.start").click()
        shown(browser, f'{site} [data-field="lease"]', lambda t: t == "16 A", 10, "the 16 A lease")
        shown(browser, f'{site} [data-field="charge-now"]',
              lambda t: t.startswith("On: 16 A until"), 5, "Charge Now on")
        shown(browser, f'{site} [data-field="reason"]', lambda t: "charge now" in t, 5,
              "Charge Now as the reason")
        shown(browser, f'{site} [data-field="why"]', lambda t: "set by manual" in t, 5,
              "set by manual")
        until(lambda: limit() == ("lease", 16), 5, "Charge Now 16 A on the device")
        shown(browser, f'{site} [data-field="device"]', lambda t: "lease" in t and "16 A" in t,
              10, "the device's 16 A lease on the page")
        assert browser.find_element("css selector", f"{site} button.end").is_enabled()
        assert browser.find_element("css selector", f'{site} [data-field="form-error"]').text == ""

        # Too many amps: the API's words, and nothing changes.
        amps.clear()
        amps.send_keys("40")
        browser.find_element("css selector", f"{site} button.start").click()
        shown(browser, f'{site} [data-field="form-error"]',
              lambda t: t == "amps must be 0-24, not 40", 5, "the API's error")
        time.sleep(2.5)  # a poll later, still 16 A
        assert browser.find_element("css selector", f'{site} [data-field="lease"]').text == "16 A"
        assert limit() == ("lease", 16)

        # End it: back to the green 0 A.
        browser.find_element("css selector", f"{site} button.end").click()
        shown(browser, f'{site} [data-field="charge-now"]', lambda t: t == "Off", 5,
              "Charge Now off")
        shown(browser, f'{site} [data-field="lease"]', lambda t: t == "0 A", 10, "the 0 A lease")
        assert browser.find_element("css selector", f'{site} [data-field="form-error"]').text == ""
        until(lambda: limit() == ("stopped", 0), 5, "the device back to 0 A")
        assert call(api, "GET", "/api/sites/home")[1]["charge_now"] is None
        # The page asked for nothing it could not get (no missing file, no script error)
        # but the refused Charge Now.
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and not (
            "/charge_now" in e["message"] and "status of 400" in e["message"])]
        assert errors == [], errors
        assert service.p.poll() is None
    finally:
        watcher.close()
        service.stop()


@needs_chromium
def test_the_page_says_no_device_is_heard_then_shows_its_health(
        tmp_path, mosquitto, device, browser):
    from mqtt_helpers import PASSWORD, USER  # here: the imports above are being reworked
    api = free_port()
    service = start_service(tmp_path, mosquitto, lambda url, site, password: None, api)
    site = '[data-site="home"]'

    def api_up() -> bool:
        try:
            return call(api, "GET", "/api/status")[0] == 200
        except OSError:  # not listening yet
            return False
    try:
        until(api_up, 20, "the API")
        browser.get(f"http://127.0.0.1:{api}/")
        note = shown(browser, f'{site} [data-field="device-note"]',
                     lambda t: t.startswith("No device heard yet"), 10, "no device yet")
        assert 'site "home"' in note and "powered" in note, note
        assert not browser.find_element(
            "css selector", f'{site} [data-field="device-health"]').is_displayed()

        # The device (twcm master) comes: its health, as the computer's network and clock.
        device(f"mqtt://{USER}@127.0.0.1:{mosquitto.port}", "home", PASSWORD)
        health = shown(browser, f'{site} [data-field="device-health"]',
                       lambda t: "Network" in t, 20, "the device's health")
        for row in ("Network\nup", "NTP\nsynced", "MQTT reconnects\n0", "Dropped events\n0",
                    "Free heap\nnot measured", "Bus loop max\n"):
            assert row in health, (row, health)
        assert "Last MQTT error" not in health, health
        note = browser.find_element("css selector", f'{site} [data-field="device-note"]')
        assert note.text == ""
        status = call(api, "GET", "/api/sites/home")[1]["device"]["state"]
        assert status["mqtt"]["connects"] == 1 and status["network"]["up"] is True
        assert service.p.poll() is None
    finally:
        service.stop()
