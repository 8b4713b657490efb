"""`twcm run` against a real mosquitto (with a password) driving a simulated device
(`twcm master --broker` on `twcm sim --pty`), controlled while it runs: Charge Now over
the REST API (with the admin token its first start made) and over MQTT, the host's status
topic, rejected requests; `twcm charge` and `twcm token` on the same token file."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from mqtt_helpers import PASSWORD, USER, Watcher, free_port
from test_devicelink_mqtt import Proc, device, until  # noqa: F401  (device: a fixture)


def call(port: int, method: str, path: str, body: Any = None, token: str | None = None
         ) -> tuple[int, Any]:
    """(status, JSON) of a request to the REST API on `port`, with `token` if given."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "TWCM_TOKEN"}
    return subprocess.run([sys.executable, "-m", "twcm.cli", *args], capture_output=True,
                          text=True, timeout=20, env={**environ, **(env or {})})


def admin_token(service: Proc) -> str:
    """The admin token the service's first start made and logged."""
    line = until(lambda: next((x for x in service.lines if "made the admin token" in x), None),
                 20, "the first admin token in the log")
    return re.search(r"made the admin token (twcm_\S+)", line).group(1)  # type: ignore


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
        token = admin_token(service)
        assert call(api, "GET", "/api/sites/home")[0] == 401  # no token, no answer
        assert call(api, "POST", "/api/sites/home/charge_now", {"amps": 16, "minutes": 30},
                    "twcm_wrong")[0] == 401
        code, status = call(api, "POST", "/api/sites/home/charge_now",
                            {"amps": 16, "minutes": 30}, token)
        assert code == 200 and status["charge_now"]["amps"] == 16
        until(lambda: limit() == ("lease", 16), 5, "Charge Now 16 A on the device")
        code, status = call(api, "GET", "/api/sites/home", token=token)
        assert status["decision"]["set_by"] == "manual" and status["lease_amps"] == 16
        assert status["device"]["health"] == "online"
        assert [s["name"] for s in status["sources"]] == ["static"]
        assert status["sources"][0]["ok"] is True
        code, twcs = call(api, "GET", "/api/sites/home/twcs", token=token)
        assert code == 200 and len(twcs) == 2  # the simulated bus's two Wall Connectors

        url = f"http://127.0.0.1:{api}"
        assert cli("charge", "--api", url).stderr.startswith("twcm charge: error: no token")
        shown = cli("charge", "--api", url, env={"TWCM_TOKEN": token})  # the only site
        assert shown.returncode == 0 and "site home: lease 16 A: manual" in shown.stdout
        assert "source static (static): ok" in shown.stdout
        refused = cli("charge", "--api", url, "--token", token, "--amps", "40")
        assert refused.returncode == 1
        assert refused.stderr == "twcm charge: error: amps must be 0-24, not 40\n"
        # On the service's machine, its config is enough (a one-off token, revoked after).
        config = str(tmp_path / "twcm.toml")
        assert cli("charge", "--config", config, "--cancel").returncode == 0
        code, status = call(api, "GET", "/api/sites/home", token=token)
        assert code == 200 and status["charge_now"] is None
        until(lambda: limit() == ("stopped", 0), 5, "back to green: 0 A")
        listed = cli("token", "list", "--config", config)
        assert listed.returncode == 0 and listed.stdout.split()[:2] == ["admin", "admin"]
        assert "twcm-charge" not in listed.stdout
        # A read-only token made while the service runs works at once, for reading only.
        added = cli("token", "add", "phone", "--read-only", "--config", config)
        reader = added.stdout.split()[0]
        assert call(api, "GET", "/api/sites/home", token=reader)[0] == 200
        assert call(api, "DELETE", "/api/sites/home/charge_now", token=reader)[0] == 403
        assert cli("token", "revoke", "phone", "--config", config).returncode == 0
        assert call(api, "GET", "/api/sites/home", token=reader)[0] == 401

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

        code, answer = call(api, "POST", "/api/sites/home/charge_now", {"amps": 8}, token)
        assert code == 422 and answer["problems"] == ["minutes: Field required"]
        assert call(api, "POST", "/api/sites/barn/charge_now", {"amps": 8, "minutes": 1},
                    token)[0] == 404
        assert call(api, "PUT", "/api/status", {}, token)[0] == 405
        assert service.p.poll() is None
    finally:
        watcher.close()
        service.stop()
