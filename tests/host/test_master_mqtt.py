"""`twcm master --broker` as a user runs it: a subprocess, a real mosquitto
(with a password), and two simulated slave TWCs with cars on a pty, here in
a thread so that their heartbeat times can be read. The MQTT contract
(docs/mqtt.md) as a Pi with a USB RS-485 adapter serves it.

The fallback is 12 A, so that both cars charge (6 A each) before a lease
arrives, and a lease's fair shares are offered at the next heartbeats."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from twcm import __version__

from mqtt_helpers import PASSWORD, USER, Mosquitto, Watcher
from twcm.cli import main
from twcm.master.serial import open_port
from twcm.sim.serial_port import PtyLink, SerialSlaves

T = "twcm/test/"
IDS = ["1A2B", "32C4"]


class Slaves:
    """Two slave TWCs, cars plugged in, on one end of a PtyLink (`port` is the other)."""

    def __init__(self) -> None:
        self.link = PtyLink()
        self.port = self.link.b
        self.serial = open_port(self.link.a)
        self.sim = SerialSlaves(self.serial)
        for seed, twc_id in enumerate(IDS):
            s = self.sim.add_slave(twc_id=int(twc_id, 16), seed=seed, first_linkready_ms=100)
            s.car.plug()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            self.sim.poll()

    def applied(self) -> list[float]:
        return [s.applied_amps for s in self.sim.slaves]

    def heartbeats(self) -> list[list[int]]:
        """Each slave's heartbeat times (sim ms); list() of a deque is atomic."""
        return [list(s.heartbeat_times) for s in self.sim.slaves]

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.serial.close()
        self.link.close()


class Master:
    """`twcm master --broker ... --site test`; its output is read in a thread."""

    def __init__(self, port: str, url: str, state_dir: Path, password: str | None = PASSWORD):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("TWCM_MQTT_PASSWORD", None)
        if password is not None:
            env["TWCM_MQTT_PASSWORD"] = password
        self.p = subprocess.Popen(
            [sys.executable, "-m", "twcm.cli", "master", "--port", port,
             "--wiring-max-amps-all", "40", "--wiring-max-amps-per-twc", "32",
             "--fallback-amps", "12", "--status-every", "1", "--broker", url,
             "--site", "test", "--state-dir", str(state_dir)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.append(line)

    def wait_line(self, text: str, timeout: float, start: int = 0) -> str:
        """The first line from lines[start] on that holds text."""
        line = until(lambda: next((s for s in self.lines[start:] if text in s), None), timeout)
        assert line, f"no {text!r} in:\n" + "".join(self.lines[-30:])
        return line

    def stop(self) -> int:
        self.p.send_signal(signal.SIGINT)
        return self.p.wait(10)


def until(probe: Callable[[], Any], timeout: float) -> Any:
    """probe()'s first true value within timeout (polled), else None."""
    end = time.monotonic() + timeout
    while True:
        v = probe()
        if v or time.monotonic() > end:
            return v or None
        time.sleep(0.02)


def url(broker: Mosquitto, creds: str = f"{USER}@") -> str:
    return f"mqtt://{creds}{broker.host}:{broker.port}"


def wait_json(w: Watcher, kind: str, pred: Callable[[dict], bool], timeout: float,
              since: float = 0.0) -> tuple[float, dict]:
    """(arrival, message) of the first `state` or `event` since `since` that pred accepts."""
    hit = w.wait_for(lambda t, p: t == T + kind and pred(json.loads(p)), timeout, since)
    assert hit, f"no such {kind} in {timeout} s; got {w.json_of('/' + kind, since)[-3:]}"
    return hit[0], json.loads(hit[2])


def linked(s: dict) -> list[str]:
    return sorted(x["id"] for x in s["slaves"] if x["link"] == "linked")


def charging(s: dict) -> bool:
    """Both slaves linked, both cars drawing."""
    return linked(s) == IDS and all(x["actual_amps"] >= 1 for x in s["slaves"])


def offers(s: dict) -> list[int]:
    return [x["offered_amps"] for x in sorted(s["slaves"], key=lambda x: x["id"])]


def online(w: Watcher, value: bytes, timeout: float, since: float = 0.0) -> float:
    hit = w.wait_for(lambda t, p: t == T + "online" and p == value, timeout, since)
    assert hit, f"no online {value!r} in {timeout} s"
    return hit[0]


def retained(broker: Mosquitto, topic: str) -> tuple[bytes, bool]:
    """What a client that subscribes now gets first on topic, and its retain flag."""
    w = Watcher(broker, [T + topic], client_id="late-" + topic)
    try:
        assert w.wait_for(lambda t, p: True, 5), f"nothing retained on {topic}"
        _, _, payload, retain = w.messages[0]
        return payload, retain
    finally:
        w.close()


@pytest.fixture
def slaves():
    s = Slaves()
    yield s
    s.close()


@pytest.fixture
def masters():
    """Starts `twcm master`s; kills what is left at the end and prints their
    output (pytest shows it when the test failed)."""
    started: list[Master] = []

    def start(*args: Any, **kw: Any) -> Master:
        started.append(Master(*args, **kw))
        return started[-1]
    yield start
    for m in started:
        if m.p.poll() is None:
            m.p.kill()
        m.p.wait()
        print(f"--- twcm master (exit {m.p.returncode}):\n" + "".join(m.lines[-40:]))


@pytest.fixture
def watcher(mosquitto):
    w = Watcher(mosquitto, [T + "#"])
    yield w
    w.close()


def test_lease_is_honoured_refusals_change_nothing_and_it_expires(
        mosquitto, slaves, masters, watcher, tmp_path):
    """(a) online and state, (b) a lease, (d) bad commands, (c) the lease runs out."""
    w = watcher
    m = masters(slaves.port, url(mosquitto), tmp_path)
    # (a) `true`, retained, once connected; a state with both slaves, on the fallback.
    online(w, b"true", 10)
    _, s = wait_json(w, "state", lambda s: linked(s) == IDS, 10)
    assert (s["mode"], s["limit_amps"], s["free_heap"], s["version"]) == ("fallback", 12, None,
                                                                         __version__)
    wait_json(w, "state", charging, 10)
    assert retained(mosquitto, "online") == (b"true", True)
    text, retain = retained(mosquitto, "state")
    assert retain and linked(json.loads(text)) == IDS
    # (b) A site lease of 20 A: both slaves are offered and apply 10 A.
    t0 = time.monotonic()
    w.publish(T + "limit/set", {"amps": 20, "ttl_s": 5})
    _, s = wait_json(w, "state", lambda s: offers(s) == [10, 10], 4, since=t0)
    assert (s["mode"], s["source"], s["limit_amps"]) == ("lease", "lease", 20)
    assert 0 < s["lease_left_s"] <= 5
    assert until(lambda: slaves.applied() == [10.0, 10.0], 1), slaves.applied()
    # (d) Refused commands name the reason and change nothing: the 20 A lease stays as it
    # was, and runs out when it would have (checked below).
    for payload, reason in [
            ("not json", "payload is not valid JSON"),
            ({"amps": 50, "ttl_s": 60}, "amps 50 is above the wiring limit for all TWCs (40 A)"),
            ({"amps": 10, "ttl_s": 2}, "ttl_s must be between 5 and 3600 seconds, not 2")]:
        sent = time.monotonic()
        w.publish(T + "limit/set", payload)
        _, e = wait_json(w, "event", lambda e: e["event"] == "rejected", 2, since=sent)
        assert e == {"event": "rejected", "topic": "limit/set", "reason": reason}
    assert m.wait_line('"reason":"ttl_s must be between', 2)
    # (c) ttl_s after its arrival the lease ends: back on the fallback within ttl + 1 s.
    t_fb, e = wait_json(w, "event", lambda e: e["event"] == "fallback_entered", 7, since=t0)
    assert e == {"event": "fallback_entered", "source": "fallback", "previous": "lease",
                 "amps": 12}
    assert 4.95 <= t_fb - t0 <= 6.0, t_fb - t0
    assert [e["event"] for e in w.json_of("/event", since=t0)] == [
        "fallback_left", "rejected", "rejected", "rejected", "lease_expired", "fallback_entered"]
    lease_states = [x for x in w.json_of("/state", since=t0) if x["mode"] == "lease"]
    assert {x["limit_amps"] for x in lease_states} == {20}
    # Each slave is lowered at its next heartbeat.
    _, s = wait_json(w, "state", lambda s: offers(s) == [6, 6], 3, since=t_fb)
    assert (s["mode"], s["limit_amps"]) == ("fallback", 12)
    assert until(lambda: slaves.applied() == [6.0, 6.0], 1), slaves.applied()
    # A clean stop says `false` itself (a DISCONNECT would drop the last will).
    stopped = time.monotonic()
    assert m.stop() == 0
    online(w, b"false", 3, since=stopped)


def test_broker_restart_mid_charge(mosquitto, slaves, masters, watcher, tmp_path):
    """(e) The bus never waits for the broker; the link comes back and re-subscribes."""
    w = watcher
    m = masters(slaves.port, url(mosquitto, f"{USER}:{PASSWORD}@"), tmp_path, password=None)
    online(w, b"true", 10)
    wait_json(w, "state", charging, 10)
    t_kill = slaves.sim.now()
    mosquitto.kill()
    m.wait_line("lost broker", 3)
    m.wait_line("cannot reach broker mqtt://127.0.0.1", 3)  # it tried while the broker was down
    seen = len(m.lines)
    mosquitto.start()
    m.wait_line("connected to mqtt://127.0.0.1", 5, start=seen)
    w2 = Watcher(mosquitto, [T + "#"], client_id="after-restart")
    try:
        online(w2, b"true", 5)  # a broker without persistence: published anew
        t0 = time.monotonic()
        w2.publish(T + "limit/set", {"amps": 16, "ttl_s": 5})  # heard: subscribed again
        _, s = wait_json(w2, "state", lambda s: offers(s) == [8, 8], 4, since=t0)
        assert s["mode"] == "lease" and s["limit_amps"] == 16
        assert s["loop_max_ms"] < 200, s["loop_max_ms"]
    finally:
        w2.close()
    assert until(lambda: slaves.applied() == [8.0, 8.0], 1), slaves.applied()
    now = slaves.sim.now()
    for times in slaves.heartbeats():
        times = [t for t in times if t >= t_kill - 2000] + [now]
        assert times[0] < t_kill and max(b - a for a, b in zip(times, times[1:])) <= 2000


def test_sigkill_leaves_the_last_will(mosquitto, masters, watcher, tmp_path):
    """(f) A master that dies: the broker publishes its retained `false`."""
    with PtyLink() as link:
        m = masters(link.b, url(mosquitto), tmp_path)
        online(watcher, b"true", 10)
        killed = time.monotonic()
        m.p.kill()
        online(watcher, b"false", 3, since=killed)
    assert retained(mosquitto, "online") == (b"false", True)


def test_schedule_is_followed_and_survives_a_restart(mosquitto, slaves, masters, watcher,
                                                     tmp_path):
    """(g) A window covering now, with no lease: followed, stored, restored."""
    w = watcher
    m = masters(slaves.port, url(mosquitto), tmp_path)
    online(w, b"true", 10)
    wait_json(w, "state", lambda s: linked(s) == IDS, 10)
    now = int(time.time())
    sent = time.monotonic()
    w.publish(T + "schedule/set", [{"start": now - 60, "end": now + 600, "amps": 16}])
    _, s = wait_json(w, "state", lambda s: offers(s) == [8, 8], 5, since=sent)
    assert (s["mode"], s["limit_amps"], s["schedule_windows"]) == ("schedule", 16, 1)
    assert until(lambda: slaves.applied() == [8.0, 8.0], 1), slaves.applied()
    stored = json.loads((tmp_path / "schedule.json").read_text())
    assert [(x["end"], x["amps"]) for x in stored] == [(now + 600, 16)]
    assert m.stop() == 0
    restarted = time.monotonic()
    m2 = masters(slaves.port, url(mosquitto), tmp_path)
    m2.wait_line("schedule restored from " + str(tmp_path / "schedule.json"), 5)
    _, s = wait_json(w, "state", lambda s: True, 10, since=online(w, b"true", 10, restarted))
    assert (s["mode"], s["limit_amps"], s["schedule_windows"]) == ("schedule", 16, 1)


def test_an_unreachable_broker_at_start_is_not_fatal(mosquitto, slaves, masters, tmp_path):
    """The master heartbeats on its fallback, warns, and connects once the broker is up."""
    mosquitto.kill()
    m = masters(slaves.port, url(mosquitto), tmp_path)
    m.wait_line(f"cannot reach broker mqtt://127.0.0.1:{mosquitto.port}", 5)
    assert until(lambda: slaves.applied() == [6.0, 6.0], 5), slaves.applied()
    mosquitto.start()
    w = Watcher(mosquitto, [T + "#"], client_id="late")
    try:
        online(w, b"true", 10)
    finally:
        w.close()


def test_the_state_reports_why_the_broker_was_unreachable(mosquitto, slaves, masters, tmp_path):
    """paho's failed connects and lost connections are the state's mqtt; the network and
    the clock are the computer's."""
    mosquitto.kill()
    m = masters(slaves.port, url(mosquitto), tmp_path)
    m.wait_line(f"cannot reach broker mqtt://127.0.0.1:{mosquitto.port}", 5)
    mosquitto.start()
    w = Watcher(mosquitto, [T + "state"], client_id="late")
    try:
        _, s = wait_json(w, "state", lambda s: True, 10)
        assert s["mqtt"]["connects"] == 1 and "Connection refused" in s["mqtt"]["last_error"]
        assert s["network"] == {"up": True, "connects": 1, "last_error": None}
        assert s["ntp"] == {"synced": True, "last_error": None}
        assert s["events_dropped"] == 0
    finally:
        w.close()
    mosquitto.kill()
    mosquitto.start()
    w = Watcher(mosquitto, [T + "state"], client_id="later")
    try:
        _, s = wait_json(w, "state", lambda s: s["mqtt"]["connects"] == 2, 15)
        assert s["mqtt"]["last_error"], s["mqtt"]
    finally:
        w.close()


@pytest.mark.parametrize("args, env, message", [
    (["--broker", "http://127.0.0.1", "--site", "home"], None,
     "--broker: 'http://127.0.0.1' is not an MQTT broker URL; give mqtt://"),
    (["--broker", "mqtt://", "--site", "home"], None, "--broker: 'mqtt://' must give a host"),
    (["--broker", "mqtt://h:99999", "--site", "home"], None,
     "--broker: 'mqtt://h:99999' has no valid port"),
    (["--broker", "mqtt://h/x", "--site", "home"], None, "maybe a port, nothing else"),
    (["--broker", "mqtt://h", "--site", "home"], "pw", "--broker: a password (in the URL or "
     "$TWCM_MQTT_PASSWORD) needs a user"),
    (["--broker", "mqtt://h"], None, "--site NAME is required with --broker"),
    (["--broker", "mqtt://h", "--site", "a/b"], None, "--site: 'a/b' is not a site name"),
    (["--broker", "mqtt://h", "--site", "x" * 33], None, "give 1-32 letters, digits, - or _"),
    (["--site", "home"], None, "--site only applies with --broker URL"),
    (["--state-dir", "/tmp"], None, "--state-dir only applies with --broker URL"),
])
def test_bad_broker_and_site_are_refused_with_the_fix(args, env, message, capsys, monkeypatch):
    """(h)"""
    monkeypatch.delenv("TWCM_MQTT_PASSWORD", raising=False)
    if env is not None:
        monkeypatch.setenv("TWCM_MQTT_PASSWORD", env)
    code = main(["master", "--port", "/dev/null", "--wiring-max-amps-all", "40",
                 "--wiring-max-amps-per-twc", "32", "--fallback-amps", "12", *args])
    assert code == 2
    assert message in capsys.readouterr().err
