"""DeviceLink end to end: a real broker (mosquitto with a password, or the embedded amqtt),
real `twcm master --broker` processes as the devices, each with `twcm sim --pty --slaves 2`
as its two Wall Connectors."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from types import SimpleNamespace
from typing import Any

import pytest

from mqtt_helpers import PASSWORD, USER, Watcher, free_port
from twcm.service.devicelink import DeviceLink, EmbeddedBroker, SiteLink

TTL = 6


def until(probe: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while not (v := probe()):
        assert time.monotonic() < end, f"no {what} within {timeout} s"
        time.sleep(0.02)
    return v


class Proc:
    """A twcm subprocess whose output is collected in a thread."""

    def __init__(self, args: list[str], password: str | None = None) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("TWCM_MQTT_PASSWORD", None)
        if password is not None:
            env["TWCM_MQTT_PASSWORD"] = password
        self.p = subprocess.Popen([sys.executable, "-m", "twcm.cli", *args], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.append(line)

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        print(f"--- {self.p.args[3]} (exit {self.p.returncode}):\n" + "".join(self.lines[-20:]))


@pytest.fixture
def device(tmp_path):
    """device(url, site, password) starts a simulated bus and `twcm master` on it."""
    procs: list[Proc] = []

    def start(url: str, site: str, password: str | None = None) -> Proc:
        procs.append(sim := Proc(["sim", "--pty", "--slaves", "2"]))
        line = until(lambda: next((s for s in sim.lines if "--port " in s), None), 10, "pty")
        pty = re.search(r"--port (\S+)", line).group(1)  # type: ignore[union-attr]
        procs.append(Proc(["master", "--port", pty, "--wiring-max-amps-all", "40",
                           "--wiring-max-amps-per-twc", "32", "--fallback-amps", "6",
                           "--broker", url, "--site", site,
                           "--state-dir", str(tmp_path / site)], password))
        return procs[-1]
    yield start
    for p in reversed(procs):
        p.stop()


class LinkThread:
    """A DeviceLink (or any coroutine around one) running in an event loop of its own."""

    def __init__(self, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.loop = asyncio.new_event_loop()
        self.task: asyncio.Task | None = None
        self.thread = threading.Thread(target=self._run, args=(main,), daemon=True)
        self.thread.start()
        until(lambda: self.task, 5, "event loop")

    def _run(self, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.task = self.loop.create_task(main())
        try:
            self.loop.run_until_complete(self.task)
        except asyncio.CancelledError:
            pass

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        async def call() -> Any:
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(5)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.task.cancel)  # type: ignore[union-attr]
            self.thread.join(5)
            assert not self.thread.is_alive()


def lease_state(site: SiteLink, amps: int) -> Callable[[], bool]:
    return lambda: bool(site.state and site.state.mode == "lease" and site.state.limit_amps == amps)


def charging(site: SiteLink) -> bool:
    return bool(site.health(time.monotonic()) == "online" and site.state
                and len([x for x in site.state.slaves if x.link == "linked"]) == 2)


def test_leases_are_renewed_clamped_and_run_out_when_the_link_stops(mosquitto, device,
                                                                    monkeypatch):
    monkeypatch.setenv("TWCM_MQTT_PASSWORD", PASSWORD)
    url = f"mqtt://{USER}@127.0.0.1:{mosquitto.port}"
    device(url, "a", PASSWORD)
    watcher = Watcher(mosquitto, ["twcm/a/#"])
    site = SiteLink("a", max_amps=48, ttl_s=TTL)
    link = DeviceLink(url, [site])
    lt = LinkThread(link.run)
    try:
        until(lambda: charging(site), 15, "online device with two linked slaves")
        assert lt.call(site.want, 20, "test") == 20
        until(lease_state(site, 20), 3, "state on the 20 A lease")
        t0 = time.monotonic()
        time.sleep(3 * TTL)  # renewed all along: never back on the fallback
        states = watcher.json_of("/state", since=t0)
        assert states and {(s["mode"], s["limit_amps"]) for s in states} == {("lease", 20)}
        sent = [(t, json.loads(p)) for t, topic, p, retain in watcher.messages
                if topic == "twcm/a/limit/set" and not retain]
        assert len(sent) >= 9 and {(x["amps"], x["ttl_s"]) for _, x in sent} == {(20, TTL)}
        assert all(b - a <= TTL / 3 + 0.3 for (a, _), (b, _) in zip(sent, sent[1:]))
        assert [x["seq"] for _, x in sent] == sorted({x["seq"] for _, x in sent})
        # Above the wiring limit (40 A, from the device's state): lowered, not refused.
        assert lt.call(site.want, 45, "test") == 40
        until(lease_state(site, 40), 3, "state on the 40 A lease")
        assert not [e for e in watcher.json_of("/event") if e["event"] in ("rejected",
                                                                          "lease_expired")]
        assert site.garbage == 0
        lt.stop()
        stopped = time.monotonic()
        hit = watcher.wait_for(lambda t, p: t == "twcm/a/event" and
                               json.loads(p)["event"] == "fallback_entered", TTL + 2, stopped)
        assert hit, "the device did not fall back"
        last = max(t for t, topic, _, _ in watcher.messages if topic == "twcm/a/limit/set")
        assert TTL - 0.2 <= hit[0] - last <= TTL + 1, hit[0] - last
        late = Watcher(mosquitto, ["twcm/a/limit/set"], client_id="late")
        time.sleep(0.3)
        assert late.messages == []  # no lease was retained
        late.close()
    finally:
        lt.stop()
        watcher.close()


def test_two_sites_in_one_link_a_dead_device_is_reported_and_a_broker_restart_survived(
        mosquitto, device, monkeypatch, caplog):
    caplog.set_level(logging.INFO, "twcm.devicelink")
    monkeypatch.setenv("TWCM_MQTT_PASSWORD", PASSWORD)
    url = f"mqtt://{USER}@127.0.0.1:{mosquitto.port}"
    device(url, "a", PASSWORD)
    master_b = device(url, "b", PASSWORD)
    a, b = SiteLink("a", max_amps=32, ttl_s=TTL), SiteLink("b", max_amps=32, ttl_s=TTL)
    link = DeviceLink(url, [a, b])
    lt = LinkThread(link.run)
    try:
        until(lambda: charging(a) and charging(b), 15, "two online devices")
        lt.call(a.want, 10, "test")
        lt.call(b.want, 16, "test")
        until(lambda: lease_state(a, 10)() and lease_state(b, 16)(), 3, "both leases")
        assert link.health == {"a": "online", "b": "online"}
        assert "site a: device online" in caplog.text and "site b: device online" in caplog.text
        master_b.p.kill()
        until(lambda: link.health["b"] == "offline", 2, "offline report")
        assert link.health == {"a": "online", "b": "offline"}
        assert a.state and a.state.mode == "lease"
        assert "site b: device offline (its broker connection is gone)" in caplog.text
        # The broker restarts (losing its retained messages): the link comes back, a's lease
        # goes on.
        mosquitto.kill()
        until(lambda: not link.connected, 3, "lost broker")
        mosquitto.start()
        restarted = time.monotonic()
        until(lambda: link.connected, 5, "reconnection")
        until(lambda: (a.state_at or 0) > restarted and lease_state(a, 10)(), 5, "a's new state")
        assert "lost broker mqtt://127.0.0.1" in caplog.text
        assert "site a: device: lease_expired" not in caplog.text
    finally:
        lt.stop()


def test_the_embedded_broker_serves_device_and_link_and_garbage_is_survived(device):
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    site = SiteLink("a", max_amps=32, ttl_s=TTL)

    async def main() -> None:
        async with EmbeddedBroker(port):
            await DeviceLink(url, [site]).run()
    lt = LinkThread(main)
    try:
        device(url, "a")  # anonymous: the embedded broker is on loopback only
        until(lambda: charging(site), 15, "online device with two linked slaves")
        lt.call(site.want, 16, "test")
        until(lease_state(site, 16), 3, "state on the 16 A lease")
        garbler = Watcher(SimpleNamespace(host="127.0.0.1", port=port), [], "garbler")
        for topic, payload in [("state", b"garbage"), ("online", b"maybe"),
                               ("state", b'{"mode": "lease"}'), ("event", b"[]")]:
            garbler.publish("twcm/a/" + topic, payload)
        garbler.close()
        until(lambda: site.garbage == 4, 3, "four garbled messages counted")
        assert site.online is True
        lt.call(site.want, 12, "test")  # still serving
        until(lease_state(site, 12), 3, "state on the 12 A lease")
    finally:
        lt.stop()


def test_a_device_never_heard_from_is_reported_once_with_what_to_check(mosquitto, monkeypatch,
                                                                       caplog):
    caplog.set_level(logging.INFO, "twcm.devicelink")
    monkeypatch.setenv("TWCM_MQTT_PASSWORD", PASSWORD)
    site = SiteLink("ghost", max_amps=32)
    link = DeviceLink(f"mqtt://{USER}@127.0.0.1:{mosquitto.port}", [site], unheard_after_s=0.5)
    lt = LinkThread(link.run)
    fake = Watcher(mosquitto, [], "fake-device")
    try:
        until(lambda: "no word from its device" in caplog.text, 5, "the warning")
        time.sleep(1.5)  # said once only
        (warning,) = [r for r in caplog.records if "no word" in r.getMessage()]
        text = warning.getMessage()
        assert warning.levelname == "WARNING" and text.startswith("site ghost: no word from "
                                                                  "its device in 0.5 s on broker")
        for part in (f"mqtt://127.0.0.1:{mosquitto.port}", "powered", 'site "ghost"',
                     "twcm/ghost/state", "twcm/ghost/online", "127.0.0.1 is this computer only"):
            assert part in text, part
        fake.publish("twcm/ghost/online", "true")
        until(lambda: link.health["ghost"] == "online", 3, "the device online")
        assert "site ghost: device online (heard from at last)" in caplog.text
    finally:
        fake.close()
        lt.stop()
