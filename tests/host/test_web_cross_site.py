"""What the web app cannot be made to do, in headless Chromium against `twcm run`: with a
read-only token nothing can be changed (the controls are hidden, and the API refuses the
requests the page could still make); and a page of another origin (a second local HTTP
server) in the same browser, where an admin is logged in, changes nothing with a no-cors
fetch, a form POST or an image request, nor reads anything."""
from __future__ import annotations

import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mqtt_helpers import Watcher, free_port
from test_devicelink_mqtt import device, until  # noqa: F401  (device: a fixture)
from test_service_control import device_limit, start_service
from test_web_ui import api_call, api_up, log_in, needs_chromium, shown, tokens
from test_web_ui import browser  # noqa: F401  (a fixture)

SITE = '[data-site="home"]'


def what_matters(api: int, token: str) -> dict:
    """The parts of the site's status a request could change."""
    code, s = api_call(api, "GET", "/api/sites/home", token=token)
    assert code == 200, s
    return {"charge_now": s["charge_now"], "lease_amps": s["lease_amps"],
            "settings": s["settings"],
            "caps": [t.get("cap_amps") for t in (s["device"]["state"] or {}).get("slaves", [])]}


# Every change the page's API client can ask for, tried from the page with its own token.
TRY_ALL = """
const done = arguments[arguments.length - 1];
(async () => {
const m = await import('/static/api.js');
const c = m.change, out = [];
const tries = [
  () => c.chargeNow('home', 16, 30), () => c.cancelChargeNow('home'),
  () => c.nonScheduled('home', 'fixed', 8),
  () => c.schedule('home', [{days: ['Mon'], start: '00:00', end: '23:59', amps: 10}]),
  () => c.settings('home', {green: {start_delay_s: 5}}),
  () => c.offsets('home', [{name: 'pool', value: 500, unit: 'W'}]),
  () => c.cap('home', arguments[0], 6), () => c.charging('home', arguments[0], false),
];
for (const t of tries) {
  try { await t(); out.push(200); } catch (e) { out.push(e.status || String(e)); }
}
done(out);
})();
"""


@needs_chromium
def test_a_read_only_token_shows_everything_and_changes_nothing(
        tmp_path, mosquitto, device, browser):
    admin, viewer = tokens(tmp_path)
    api = free_port()
    service = start_service(tmp_path, mosquitto, device, api)
    watcher = Watcher(mosquitto, ["twcm/home/state"])
    try:
        until(lambda: device_limit(watcher) == ("stopped", 0), 20, "no surplus: a 0 A lease")
        ids = until(lambda: (s := watcher.json_of("twcm/home/state")) and
                    len(s[-1]["slaves"]) == 2 and [t["id"] for t in s[-1]["slaves"]],
                    20, "two Wall Connectors on the device")
        until(lambda: api_up(api, viewer), 10, "the API")
        log_in(browser, api, viewer)
        assert browser.find_element("css selector", "#role").text == "read-only"
        shown(browser, ".read-only-note", lambda t: t.startswith("Read-only token"), 5,
              "the read-only note")
        # It sees what an admin sees...
        shown(browser, f'{SITE} [data-field="lease"]', lambda t: t == "0 A", 10, "the lease")
        shown(browser, f'{SITE} [data-field="green-settings"]',
              lambda t: "green.start_delay_s" in t, 10, "the settings")
        shown(browser, f'{SITE} [data-twc="{ids[0]}"]', lambda t: "Offer" in t, 10, "a TWC")
        # ...with no control to use: forms hidden, inputs disabled.
        for css in (f'{SITE} [data-field="charge-form"]', f'{SITE} [data-field="action-form"]',
                    f'{SITE} [data-twc="{ids[0]}"] [data-field="cap-form"]',
                    f"{SITE} form[data-list=windows] button.add",
                    f'{SITE} [data-field="settings-form"] button[type=submit]'):
            assert not browser.find_element("css selector", css).is_displayed(), css
        delay = browser.find_element("css selector", "#set-green-start_delay_s")
        assert delay.is_displayed() and not delay.is_enabled()
        # The requests those controls make, sent anyway with the page's token: all refused.
        before = what_matters(api, admin)
        browser.set_script_timeout(30)
        answers = browser.execute_async_script(TRY_ALL, ids[0])
        assert answers == [403] * 8, answers
        time.sleep(1.5)  # a turn or two of the site's loop
        assert what_matters(api, admin) == before
        assert device_limit(watcher) == ("stopped", 0)
        # Still logged in: a 403 is not a 401.
        assert browser.find_element("css selector", "#app").is_displayed()
        # The token revoked (`twcm token revoke`): the next answer is a 401, the login is back.
        from twcm.service.control.tokens import FILE_NAME, TokenFile
        TokenFile(tmp_path / FILE_NAME).revoke("viewer")
        shown(browser, '[data-field="login-error"]', lambda t: t.startswith("Log in again"), 20,
              "the login after the revoked token")
        assert not browser.find_element("css selector", "#app").is_displayed()
        assert browser.execute_script("return sessionStorage.getItem('twcm.token')") is None
        assert service.p.poll() is None
    finally:
        watcher.close()
        service.stop()


def evil_page(api: int) -> str:
    """A page of another origin that tries to start Charge Now at 16 A on `api`."""
    target = f"http://127.0.0.1:{api}/api/sites/home/charge_now"
    return f"""<!doctype html><title>evil</title>
<iframe name="sink"></iframe>
<form id="f" method="POST" enctype="text/plain" target="sink" action="{target}">
  <input name='{{"amps": 16, "minutes": 30, "x": "' value='"}}'>
</form>
<img id="img" src="{target}?amps=16&minutes=30">
<img src="http://127.0.0.1:{api}/api/sites/home/charge_now">
<script>
const results = {{}};
async function attempt() {{
  const body = JSON.stringify({{amps: 16, minutes: 30}});
  try {{
    const r = await fetch("{target}", {{method: "POST", mode: "no-cors", body,
                                        headers: {{"Content-Type": "text/plain"}}}});
    results.nocors = r.type;
  }} catch (e) {{ results.nocors = "failed: " + e; }}
  try {{
    const r = await fetch("{target}", {{method: "POST", mode: "no-cors", credentials: "include",
                                        body}});
    results.nocors_credentials = r.type;
  }} catch (e) {{ results.nocors_credentials = "failed: " + e; }}
  try {{
    const r = await fetch("http://127.0.0.1:{api}/api/status");
    results.read = await r.text();
  }} catch (e) {{ results.read = "failed"; }}
  document.getElementById("f").submit();
  await new Promise((ok) => setTimeout(ok, 1500));
  document.title = "done " + JSON.stringify(results);
}}
attempt();
</script>"""


@needs_chromium
def test_a_page_of_another_origin_changes_nothing(tmp_path, mosquitto, device, browser):
    admin, _ = tokens(tmp_path)
    api = free_port()
    service = start_service(tmp_path, mosquitto, device, api)
    watcher = Watcher(mosquitto, ["twcm/home/state"])
    site_dir = tmp_path / "evil"
    site_dir.mkdir()
    (site_dir / "index.html").write_text(evil_page(api))
    evil = ThreadingHTTPServer(("127.0.0.1", free_port()),
                               partial(SimpleHTTPRequestHandler, directory=str(site_dir)))
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        until(lambda: device_limit(watcher) == ("stopped", 0), 20, "no surplus: a 0 A lease")
        until(lambda: api_up(api, admin), 10, "the API")
        until(lambda: len(what_matters(api, admin)["caps"]) == 2, 20, "both Wall Connectors")
        # An admin logged in, remembered, in this very browser.
        log_in(browser, api, admin, remember=True)
        shown(browser, f'{SITE} [data-field="charge-now"]', lambda t: t == "Off", 10,
              "no Charge Now")
        before = what_matters(api, admin)
        browser.get(f"http://127.0.0.1:{evil.server_address[1]}/index.html")
        title = until(lambda: browser.title.startswith("done") and browser.title, 20,
                      "the other page's attempts")
        # The browser sent them (opaque answers), and could read nothing back.
        assert '"nocors":"opaque"' in title and '"read":"failed"' in title, title
        time.sleep(1.5)  # a turn or two of the site's loop
        assert what_matters(api, admin) == before
        assert before["charge_now"] is None
        assert device_limit(watcher) == ("stopped", 0)
        # The user's own page still works with the remembered token.
        browser.get(f"http://127.0.0.1:{api}/")
        shown(browser, f'{SITE} [data-field="charge-now"]', lambda t: t == "Off", 10,
              "the page, still logged in")
        assert service.p.poll() is None
    finally:
        evil.shutdown()
        watcher.close()
        service.stop()


def test_the_evil_page_would_start_charge_now_if_the_api_took_it(tmp_path: Path) -> None:
    """The form's text/plain body is the JSON of a Charge Now: the attack is real, so the
    test above shows a refusal, not a harmless request."""
    import json
    import re
    page = evil_page(8080)
    name, value = re.search(r"<input name='(.*?)' value='(.*?)'>", page).groups()
    assert json.loads(f"{name}={value}") == {"amps": 16, "minutes": 30, "x": "="}
