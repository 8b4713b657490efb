"""The web page of `twcm run` (GET /, host/twcm/service/control/web/): its files as the API serves them (no
way out of the web folder), and the page itself in headless Chromium (Debian's chromium and
chromium-driver, driven by selenium) against `twcm run`, mosquitto and a simulated device:
the login, the site, its lease and why, the Wall Connectors, Charge Now started, refused and
ended, the device's health. The helpers here (browser, tokens, log_in, api_call) serve the
other test_web_*.py too."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mqtt_helpers import Watcher, free_port
from test_devicelink_mqtt import device, until  # noqa: F401  (device: a fixture)
from test_service_control import device_limit, start_service

from api_rig import Rig
from twcm.service.control.rest_api import WEB


def raw_get(port: int, target: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request with the target sent as is (no client-side normalising of ../)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  .encode("latin-1"))
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
    # The page loads nothing from elsewhere: it must work offline on a LAN. (The SVG
    # namespace is a name, not an address anything is fetched from.)
    for path in WEB.iterdir():
        text = path.read_text().replace("http://www.w3.org/2000/svg", "")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path
    code, headers, _ = raw_get(api_port, "/api/status")  # no token: the page's login
    assert (code, headers["content-type"]) == (401, "application/json")
    assert raw_get(api_port, "/", "POST")[0] in (405, 415)  # 415: the guard, before the route
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
    if code == 307:  # FastAPI's trailing-slash redirect: to the file's own name, in the folder
        assert target == "/static/app.js/" and headers["location"].endswith("/static/app.js")
        return
    assert code == 404 and headers["content-type"] == "application/json", body[:200]


# --- the page in a real browser ------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="chromium and chromium-driver are not installed (tools/setup --test installs them)")


def chromium(profile: Path, size: str = "390,844"):
    """Headless Chromium (a fresh profile: no state from another run), `size` "w,h" (a
    phone by default), its console kept for get_log."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--no-first-run",
                f"--user-data-dir={profile}", f"--window-size={size}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # for get_log
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture
def browser(tmp_path):
    driver = chromium(tmp_path / "chromium")
    try:
        yield driver
    finally:
        driver.quit()


def tokens(tmp_path: Path) -> tuple[str, str]:
    """An admin and a read_only token in the token file `twcm run` reads (beside the
    database start_service gives it): their secrets."""
    from twcm.service.control.tokens import FILE_NAME, TokenFile
    file = TokenFile(tmp_path / FILE_NAME)
    return file.add("admin", "admin"), file.add("viewer", "read_only")


def api_call(port: int, method: str, path: str, body: Any = None, token: str | None = None
             ) -> tuple[int, Any]:
    """A JSON request to the REST API, with the token as a Bearer header if given."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def api_up(port: int, token: str) -> bool:
    try:
        return api_call(port, "GET", "/api/status", token=token)[0] == 200
    except OSError:  # not listening yet
        return False


def log_in(driver, port: int, token: str, remember: bool = False) -> None:
    """Open the page, give the token, and wait for the site."""
    driver.get(f"http://127.0.0.1:{port}/")
    shown(driver, "#login-title", lambda t: t == "Log in", 10, "the login form")
    driver.find_element("css selector", "#token").send_keys(token)
    if remember:
        driver.find_element("css selector", '#login-form [name="remember"]').click()
    driver.find_element("css selector", "#login-form button").click()
    shown(driver, '[data-site="home"] h2', lambda t: t.startswith("Site home"), 10, "the site")


def screenshot(driver, name: str) -> None:
    """A PNG of the page in $TWCM_SCREENSHOTS (when set), the whole page tall."""
    folder = os.environ.get("TWCM_SCREENSHOTS")
    if not folder:
        return
    width = driver.get_window_size()["width"]
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, min(height + 120, 8000))
    time.sleep(0.5)
    driver.save_screenshot(str(Path(folder) / f"{name}.png"))


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


def severe(driver, allowed: Callable[[str], bool] = lambda m: False) -> list[dict]:
    """The browser's errors (a missing file, a script error...) but the `allowed` ones."""
    return [e for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and not allowed(e["message"])]


@needs_chromium
def test_the_page_logs_in_shows_the_site_and_starts_and_ends_charge_now(
        tmp_path, mosquitto, device, browser):
    admin, _ = tokens(tmp_path)
    api = free_port()
    service = start_service(tmp_path, mosquitto, device, api)
    watcher = Watcher(mosquitto, ["twcm/home/state"])
    site = '[data-site="home"]'
    try:
        def limit() -> tuple | None:
            return device_limit(watcher)

        until(lambda: limit() == ("stopped", 0), 20, "no surplus: a 0 A lease")
        until(lambda: api_up(api, admin), 10, "the API")
        # A wrong token: the login form says so, and stays.
        browser.get(f"http://127.0.0.1:{api}/")
        assert browser.title == "twcm"
        shown(browser, "#login-title", lambda t: t == "Log in", 10, "the login form")
        browser.find_element("css selector", "#token").send_keys("twcm_not-a-token")
        browser.find_element("css selector", "#login-form button").click()
        shown(browser, '[data-field="login-error"]', lambda t: "not valid" in t, 15,
              "the refused token")
        assert not browser.find_element("css selector", "#app").is_displayed()
        # The right one: kept for this tab only, sent as a header, never a cookie.
        browser.find_element("css selector", "#token").clear()
        log_in(browser, api, admin)
        assert browser.execute_script("return sessionStorage.getItem('twcm.token')") == admin
        assert browser.execute_script("return localStorage.getItem('twcm.token')") is None
        assert browser.execute_script("return document.cookie") == ""
        assert browser.find_element("css selector", "#role").text == "admin"

        shown(browser, f'{site} [data-field="lease"]', lambda t: t == "0 A", 10, "the 0 A lease")
        def reason() -> str:
            return api_call(api, "GET", "/api/sites/home", token=admin)[1]["decision"]["reason"]
        assert reason().startswith("green: ")
        shown(browser, f'{site} [data-field="reason"]', lambda t: t == reason(), 5, "the reason")
        shown(browser, f'{site} [data-field="why"]', lambda t: "set by" in t, 5, "the claim")
        shown(browser, f'{site} [data-field="charge-now"]', lambda t: t == "Off", 5,
              "no Charge Now")
        assert not browser.find_element("css selector", f"{site} button.end").is_displayed()
        power = shown(browser, f'{site} [data-field="power"]', lambda t: "Generation" in t, 5,
                      "the power now")
        for row in ("Generation\n300 W", "House load\n800 W", "Surplus\n−500 W"):
            assert row in power, (row, power)
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
            for label in ("State", "Draw", "Cap", "Car", f"TWC {twc}"):
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
        assert browser.find_element("css selector", f"{site} button.end").is_displayed()
        error = f'{site} [data-field="charge-form"] .form-error'
        assert browser.find_element("css selector", error).text == ""

        # Too many amps: the API's words beside the form, the field marked, nothing changes.
        amps.clear()
        amps.send_keys("40")
        browser.find_element("css selector", f"{site} button.start").click()
        text = shown(browser, error, lambda t: "amps" in t and "40" in t, 5, "the API's error")
        assert "24" in text, text  # the site's max_amps, named
        assert amps.get_attribute("aria-invalid") == "true"
        time.sleep(2.5)  # a poll later, still 16 A
        assert browser.find_element("css selector", f'{site} [data-field="lease"]').text == "16 A"
        assert limit() == ("lease", 16)

        # End it: back to the green 0 A.
        browser.find_element("css selector", f"{site} button.end").click()
        shown(browser, f'{site} [data-field="charge-now"]', lambda t: t == "Off", 5,
              "Charge Now off")
        shown(browser, f'{site} [data-field="lease"]', lambda t: t == "0 A", 10, "the 0 A lease")
        assert browser.find_element("css selector", error).text == ""
        until(lambda: limit() == ("stopped", 0), 5, "the device back to 0 A")
        assert api_call(api, "GET", "/api/sites/home", token=admin)[1]["charge_now"] is None
        # Log out: the token is forgotten, the login form is back.
        browser.find_element("css selector", "#logout").click()
        shown(browser, "#login-title", lambda t: t == "Log in", 5, "the login form again")
        assert browser.execute_script("return sessionStorage.getItem('twcm.token')") is None
        # The page asked for nothing it could not get (no missing file, no script error)
        # but the refused token and the refused Charge Now.
        assert severe(browser, lambda m: "/api/login" in m and "401" in m
                      or "/charge_now" in m and ("400" in m or "422" in m)) == []
        assert service.p.poll() is None
    finally:
        watcher.close()
        service.stop()


@needs_chromium
def test_the_page_says_no_device_is_heard_then_shows_its_health(
        tmp_path, mosquitto, device, browser):
    from mqtt_helpers import PASSWORD, USER  # here: the imports above are being reworked
    admin, _ = tokens(tmp_path)
    api = free_port()
    service = start_service(tmp_path, mosquitto, lambda url, site, password: None, api)
    site = '[data-site="home"]'
    try:
        until(lambda: api_up(api, admin), 20, "the API")
        log_in(browser, api, admin)
        note = shown(browser, f'{site} [data-field="device-note"]',
                     lambda t: t.startswith("No device heard yet"), 10, "no device yet")
        assert 'site "home"' in note and "powered" in note, note
        assert not browser.find_element(
            "css selector", f'{site} [data-field="device-health"]').is_displayed()
        assert browser.find_element(
            "css selector", f'{site} [data-field="health-badge"]').text == "device unknown"

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
        status = api_call(api, "GET", "/api/sites/home", token=admin)[1]["device"]["state"]
        assert status["mqtt"]["connects"] == 1 and status["network"]["up"] is True
        assert severe(browser) == []
        assert service.p.poll() is None
    finally:
        service.stop()


@needs_chromium
def test_an_address_with_a_token_logs_in_and_loses_the_token(tmp_path, browser):
    """`twcm demo` opens /#token=...: the page logs in with it for this tab, and takes it
    out of the address; a bad one leaves the login form saying so."""
    with Rig(tmp_path) as rig:
        browser.get(f"{rig.url}/#token={rig.admin}")
        shown(browser, '[data-site="home"] h2', lambda t: t.startswith("Site home"), 15,
              "the site")
        assert "token" not in browser.current_url
        assert browser.execute_script("return sessionStorage.getItem('twcm.token')") == rig.admin
        assert browser.execute_script("return localStorage.getItem('twcm.token')") is None
        browser.execute_script("sessionStorage.clear()")
        browser.get("about:blank")  # a new load: only the part after # would change
        browser.get(f"{rig.url}/#token=twcm_not-a-token")
        shown(browser, '[data-field="login-error"]', lambda t: "not valid" in t, 15,
              "the refused token")
