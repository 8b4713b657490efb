"""`twcm run` against a real mosquitto (with a password) driving a simulated device
(`twcm master --broker` on `twcm sim --pty`), controlled while it runs: Charge Now over
the REST API and over MQTT, the host's status topic, rejected requests."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from mqtt_helpers import PASSWORD, USER, Watcher, free_port
from test_devicelink_mqtt import Proc, device, until  # noqa: F401  (device: a fixture)


def call(port: int, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "twcm.cli", *args], capture_output=True,
                          text=True, timeout=20)


SITE = """
[[site]]
name = "home"
max_amps = 24
ttl_s = 10
interval_s = 0.5
[site.source]
type = "static"
generation_w = 300
consumption_w = 800
"""


def start_service(tmp_path: Path, mosquitto: Any, device: Any, api: int,
                  extra: str = "") -> Proc:
    """`twcm run` with one site "home" (24 A, no surplus: 0 A in green mode) and `extra`
    TOML for it, on mosquitto with its password, its REST API on port `api`; and the
    site's simulated device (2 slaves)."""
    path = tmp_path / "twcm.toml"
    path.write_text(SITE + extra + f"""
[broker]
url = "mqtt://{USER}@127.0.0.1:{mosquitto.port}"
password_env = "TWCM_MQTT_PASSWORD"
[database]
sqlite = "{tmp_path / 'twcm.db'}"
[api]
port = {api}
""")
    device(f"mqtt://{USER}@127.0.0.1:{mosquitto.port}", "home", PASSWORD)
    return Proc(["run", "--config", str(path)], PASSWORD)


def device_limit(watcher: Watcher) -> tuple[str, int] | None:
    """The (mode, limit_amps) of the device's latest state."""
    states = watcher.json_of("twcm/home/state")
    return (states[-1]["mode"], states[-1]["limit_amps"]) if states else None


def test_charge_now_by_rest_and_mqtt_drives_the_device_through_mosquitto(
        tmp_path, mosquitto, device):
    api = free_port()
    soon = time.localtime(time.time() + 2 * 3600)  # a daily window that is not active now
    later = time.localtime(time.time() + 3 * 3600)
    service = start_service(tmp_path, mosquitto, device, api, f"""
[[site.policy.windows]]
days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
start = "{time.strftime('%H:%M', soon)}"
end = "{time.strftime('%H:%M', later)}"
amps = 10
""")
    watcher = Watcher(mosquitto, ["twcm/home/#"])
    try:
        def limit() -> tuple | None:
            return device_limit(watcher)

        until(lambda: limit() == ("stopped", 0), 20, "no surplus: a 0 A lease")
        # The weekly window reaches the device as its schedule: today's and tomorrow's.
        until(lambda: watcher.json_of("twcm/home/state")[-1]["schedule_windows"] == 2, 5,
              "the schedule on the device")
        code, status = call(api, "POST", "/api/sites/home/charge_now",
                            {"amps": 16, "minutes": 30})
        assert code == 200 and status["charge_now"]["amps"] == 16
        until(lambda: limit() == ("lease", 16), 5, "Charge Now 16 A on the device")
        code, status = call(api, "GET", "/api/sites/home")
        assert status["decision"]["set_by"] == "manual" and status["lease_amps"] == 16
        assert status["device"]["health"] == "online"
        assert [s["name"] for s in status["sources"]] == ["static"]
        assert status["sources"][0]["ok"] is True

        shown = cli("charge", "--api", f"http://127.0.0.1:{api}")  # the only site
        assert shown.returncode == 0 and "site home: lease 16 A: manual" in shown.stdout
        assert "source static (static): ok" in shown.stdout
        refused = cli("charge", "--api", f"http://127.0.0.1:{api}", "--amps", "40")
        assert refused.returncode == 1
        assert refused.stderr == "twcm charge: error: amps must be 0-24, not 40\n"
        assert cli("charge", "--api", f"http://127.0.0.1:{api}", "--cancel").returncode == 0
        code, status = call(api, "GET", "/api/sites/home")
        assert code == 200 and status["charge_now"] is None
        until(lambda: limit() == ("stopped", 0), 5, "back to green: 0 A")

        watcher.publish("twcm/home/host/charge_now/set", {"amps": 12, "minutes": 5})
        until(lambda: limit() == ("lease", 12), 5, "Charge Now 12 A over MQTT")
        def host_status() -> dict:
            published = watcher.json_of("twcm/home/host/status")
            return published[-1] if published else {}
        until(lambda: (host_status().get("charge_now") or {}).get("amps") == 12, 5,
              "the host status shows Charge Now")
        assert host_status()["decision"]["set_by"] == "manual"

        watcher.publish("twcm/home/host/charge_now/set", {"amps": 40, "minutes": 5})
        until(lambda: watcher.json_of("twcm/home/host/event"), 5, "a rejection")
        assert watcher.json_of("twcm/home/host/event")[-1] == {
            "event": "rejected", "topic": "twcm/home/host/charge_now/set",
            "reason": "amps must be 0-24, not 40"}
        assert limit() == ("lease", 12)  # the bad request changed nothing
        watcher.publish("twcm/home/host/charge_now/set", {"amps": None})
        until(lambda: limit() == ("stopped", 0), 5, "Charge Now ended over MQTT")

        assert call(api, "POST", "/api/sites/home/charge_now", {"amps": 8}) == (
            400, {"error": "minutes must be a whole number, not None"})
        assert call(api, "POST", "/api/sites/barn/charge_now", {"amps": 8, "minutes": 1})[0] \
            == 404
        assert call(api, "PUT", "/api/status")[0] == 405
        assert service.p.poll() is None
    finally:
        watcher.close()
        service.stop()
