"""`twcm run` end to end: the service as a subprocess with its embedded broker, real
`twcm master --broker` devices, each on `twcm sim --pty --slaves 2`."""
from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from mqtt_helpers import Watcher, free_port
from test_devicelink_mqtt import Proc, device, until  # noqa: F401  (device: a fixture)

SITE = """
[[site]]
name = "{name}"
max_amps = 20
ttl_s = 10
interval_s = 0.5
source = {{ type = "static"{readings} }}
[site.policy.green]
start_delay_s = 0
"""


def config(tmp_path: Path, tail: str, **sites: str) -> Path:
    path = tmp_path / "twcm.toml"
    path.write_text("".join(SITE.format(name=n, readings=r) for n, r in sites.items())
                    + f'[database]\nsqlite = "{tmp_path / "twcm.db"}"\n' + tail)
    return path


def run(path: Path) -> Proc:
    service = Proc(["run", "--config", str(path)])
    until(lambda: any("serving sites" in line for line in service.lines), 10, "service")
    return service


def stop(service: Proc) -> int:
    service.p.send_signal(signal.SIGTERM)
    return service.p.wait(5)


def test_the_service_leases_what_the_policy_decides_and_records_it(tmp_path, device):
    port = free_port()
    path = config(tmp_path, f"[embedded_broker]\nport = {port}\n",
                  sun=", generation_w = 20000, consumption_w = 500",  # far above max_amps
                  cloud=", generation_w = 300, consumption_w = 800",  # no surplus
                  dark="")  # no readings at all
    service = run(path)
    url = f"mqtt://127.0.0.1:{port}"
    for name in ("sun", "cloud", "dark"):
        device(url, name)
    watcher = Watcher(SimpleNamespace(host="127.0.0.1", port=port), ["twcm/#"])
    try:
        def mode(site: str) -> tuple | None:
            """The latest valid state's (mode, source, limit) once two slaves are linked."""
            for _, topic, payload, _ in reversed(watcher.messages):
                if topic == f"twcm/{site}/state" and payload.startswith(b"{"):
                    s = json.loads(payload)
                    linked = [x for x in s["slaves"] if x["link"] == "linked"]
                    return (s["mode"], s["source"], s["limit_amps"]) if len(linked) == 2 else None
            return None
        until(lambda: mode("sun") == ("lease", "lease", 20), 15, "sun on a 20 A lease")
        until(lambda: mode("cloud") == ("stopped", "lease", 0), 5, "cloud on a 0 A lease")
        until(lambda: mode("dark") == ("fallback", "fallback", 6), 5, "dark on its fallback")
        log = "".join(service.lines)
        decided = re.search(r"site sun: (\d+) A: green: surplus 19500 W", log)
        assert decided and int(decided.group(1)) == 20  # what the policy decided, clamped
        assert re.search(r"site cloud: 0 A: green: surplus -500 W ÷ \d+ V \(volts × phases\) "
                         r"= -2\.\d A: below", log)
        assert "site dark: no lease (device on its own): default: tracking green energy: " \
               "no surplus reading" in log
        # A device publishing garbage changes nothing; the leases go on.
        watcher.publish("twcm/sun/state", b"garbage")
        until(lambda: "site sun: ignored a garbled state message" in "".join(service.lines),
              3, "garbage logged")
        since = watcher.messages[-1][0]
        until(lambda: len(watcher.json_of("twcm/sun/limit/set", since)) >= 2, 10, "renewals")
        assert {x["amps"] for x in watcher.json_of("twcm/sun/limit/set")} == {20}
        assert watcher.json_of("twcm/dark/limit/set") == []
        assert mode("sun") == ("lease", "lease", 20) and service.p.poll() is None
        assert stop(service) == 0
    finally:
        watcher.close()
        service.stop()
    assert "stopping: the devices follow their schedule or fallback" in "".join(service.lines)
    db = sqlite3.connect(tmp_path / "twcm.db")
    limits = dict(db.execute("SELECT site, MAX(COALESCE(amps, -1)) FROM decisions "
                             "GROUP BY site"))
    assert limits == {"sun": 20, "cloud": 0, "dark": -1}
    twcs = db.execute("SELECT DISTINCT twc FROM slave_status WHERE site = 'sun'").fetchall()
    assert len(twcs) == 2
    assert db.execute("SELECT COUNT(*) FROM sessions WHERE site = 'sun'").fetchone()[0] == 2


def test_an_unreachable_broker_is_logged_and_the_service_goes_on(tmp_path):
    port = free_port()  # nothing listens there
    path = config(tmp_path, f'[broker]\nurl = "mqtt://127.0.0.1:{port}"\n',
                  sun=", generation_w = 20000, consumption_w = 500")
    service = run(path)
    try:
        until(lambda: "cannot connect to broker mqtt://127.0.0.1" in "".join(service.lines),
              5, "connection failure logged")
        until(lambda: "site sun: 20 A: green" in "".join(service.lines), 5, "decision")
        assert service.p.poll() is None
        assert stop(service) == 0
    finally:
        service.stop()


def test_a_bad_key_exits_2_naming_it(tmp_path):
    path = config(tmp_path, "[log]\nlevl = 'debug'\n", sun="")
    out = subprocess.run([sys.executable, "-m", "twcm.cli", "run", "--config", str(path)],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 2
    assert out.stderr == f'{path}: log: unknown key "levl": did you mean "level"?\n'
    assert out.stdout == ""
