"""`twcm demo`: the embedded broker, the simulated device and the host's site loop on a
simulated solar day, as a user runs it (a subprocess, output not a terminal), and its
parts on their own."""
from __future__ import annotations

import dataclasses
import io
import json
import re
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console

from twc.share import Limits
from twc.ticks import ticks_ms
from twcm.cli import main
from twcm.demo.app import DayClock, Options, site_config
from twcm.demo.device import DeviceView, SimDevice, Twc
from twcm.demo.events import event_words, words
from twcm.demo.scenario import HOUR_S, Scenario, timeline
from twcm.demo.view import Frame, LiveView, PlainView
from twcm.mqtt import parse_broker
from twcm.service.policy import GreenSettings

LINE = re.compile(r"^(\d\d):(\d\d) sun (\d+) W .*\| lease (\d+|none)\b.*"
                  r"\| device (\w+) (\d+) A \| (.*)$")
METERS = re.compile(r"^\d\d:\d\d sun (\d+) W use (\d+) W \(cars (\d+) W\) "
                    r"grid (import|export) (\d+) W \|")
JOINED = re.compile(r"^\d\d:\d\d TWC [0-9A-F]{4} joined$", re.M)


def _demo(*args: str) -> tuple[str, list[tuple[float, int | None, str, list[int]]]]:
    """Run the demo; its output and its lines as (hour, lease, device source, offers)."""
    p = subprocess.run([sys.executable, "-m", "twcm.cli", "demo", "--every", "0.5", *args],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr, p.stderr
    rows = []
    for m in map(LINE.match, p.stdout.splitlines()):
        if m is None:
            continue
        hh, mm, _, lease, source, _, twcs = m.groups()
        offers = [int(o) for o in re.findall(r"offer (\d+) A", twcs)]
        rows.append((int(hh) + int(mm) / 60, None if lease == "none" else int(lease), source,
                     offers))
    assert len(rows) >= 20, p.stdout
    return p.stdout, rows


def test_the_car_starts_charging_when_the_sun_comes_up():
    out, rows = _demo("--speed", "1200", "--start", "05:00", "--duration", "18")
    assert len(JOINED.findall(out)) == 3
    assert "a car arrives at TWC" in out
    night = [r for r in rows if 5.3 <= r[0] < 6.5]  # before sunrise, once the site loop turned
    day = [r for r in rows if r[0] >= 10]
    assert night and day, out
    assert all(lease == 0 and sum(offers) == 0 for _, lease, _, offers in night), night
    # Leases went over MQTT to the device, which offers them to the car.
    assert all(lease and source == "lease" and max(offers) >= 6
               for _, lease, source, offers in day), day


def test_charging_stops_when_the_sun_goes_down():
    out, rows = _demo("--speed", "1500", "--start", "13:00", "--duration", "16", "--slaves", "1")
    assert len(JOINED.findall(out)) == 1
    afternoon = [r for r in rows if r[0] < 16]
    evening = [r for r in rows if r[0] >= 19]
    assert afternoon and evening, out
    assert any(offers[0] >= 6 for _, _, _, offers in afternoon), afternoon
    assert all(lease == 0 and offers == [0] for _, lease, _, offers in evening), evening


def _meters(out: str) -> list[tuple[int, int, int, int, int]]:
    """Each line's (sun, use, cars, grid import) W, and the first car's charge in %."""
    rows = []
    for line in out.splitlines():
        m, soc = METERS.match(line), re.search(r"car (\d+) %", line)
        if m and soc:
            sun, use, cars, way, grid = m.groups()
            rows.append((int(sun), int(use), int(cars),
                         int(grid) if way == "import" else -int(grid), int(soc.group(1))))
    return rows


def test_the_meter_counts_the_cars_and_their_batteries_fill_in_demo_time():
    """Consumption is the house and the cars, grid = consumption - generation; and over
    five sped-up hours the cars' batteries gain what they drew in demo time."""
    out, _ = _demo("--speed", "1200", "--start", "10:00", "--duration", "15", "--slaves", "2")
    meters = _meters(out)
    assert len(meters) >= 20, out
    assert all(grid == pytest.approx(use - sun, abs=1) for sun, use, _, grid, _ in meters)
    # The reading the line shows may be up to ~2 s older than the cars' draw on it (the
    # source reads every second, the site loop turns every 0.5 s): it counted a draw
    # the cars had within the last 3 s of lines (0.5 s apart), and the house on top.
    cars = [m[2] for m in meters]
    lows = [(use, min(cars[max(0, i - 6):i + 1])) for i, (_, use, *_) in enumerate(meters)]
    assert sum(low > 1000 for _, low in lows) >= 10, out
    assert all(use >= low + 298 for use, low in lows), lows
    socs = [m[4] for m in meters]  # the first car's (TWC C53E, shown first)
    assert socs[0] == 35 and socs[-1] >= 40, socs


def test_the_device_joins_its_slaves_and_follows_a_lease(tmp_path: Path):
    """Without a broker: the bus loop run by hand, a lease given straight to the Hub on
    the clock MqttLink uses for commands (twc.ticks), which must be the bus's."""
    lines: list[str] = []
    device = SimDevice(2, Limits(40, 32, 0), parse_broker("mqtt://127.0.0.1:9", None),
                       "t", tmp_path, lines.append)
    device.plug(0, True)

    def run(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            device.step()
            time.sleep(0.002)

    run(4)
    view = device.view()
    assert all(t.joined for t in view.twcs), lines
    assert (view.source, view.limit) == ("fallback", 0)
    assert [t.offer for t in view.twcs] == [0, 0]
    assert [t.car for t in view.twcs] == ["35 %", "none"]
    assert view.cars_w == 0
    assert device.link.hub.command("twcm/t/limit/set", b'{"amps": 10, "ttl_s": 5}',
                                   ticks_ms(), int(time.time()))
    run(2.5)
    view = device.view()
    assert (view.source, view.limit) == ("lease", 10)
    assert [t.offer for t in view.twcs] == [10, 0]
    assert view.twcs[0].state in ("starting", "charging")
    car = device.slaves[0].car
    assert view.cars_w == pytest.approx(car.amps * 230) and car.amps > 1
    run(4)  # the lease (5 s) ran out: the device is on its own again
    assert (device.view().source, device.view().twcs[0].offer) == ("fallback", 0)
    car.stored_wh = car.battery_wh
    assert device.view().twcs[0].car == "full"
    # The events, in words: the master's and the leases' (through MqttLink's log).
    ids = [f"{s.id:04X}" for s in device.slaves]
    assert [f"TWC {i} joined" for i in ids] == [x for x in lines if x.endswith("joined")]
    assert [x for x in lines if "lease" in x] == [
        "the lease sets the site limit now: 10 A (was the fallback)",
        "the lease expired: the host sent no new one in time",
        "back to the fallback 0 A (after the lease)"]


def test_cars_arrive_and_leave_once_each_in_simulated_time():
    scenario = Scenario(timeline(3))
    first = scenario.due(0)
    assert [(p.twc, p.plugged) for p in first] == [(0, True)]
    assert scenario.due(HOUR_S) == []
    assert [(p.twc, p.plugged) for p in scenario.due(3 * HOUR_S)] == [(1, True), (2, True)]
    assert [(p.twc, p.plugged) for p in scenario.due(10 * HOUR_S)] == [(1, False)]
    assert scenario.due(20 * HOUR_S) == []
    assert [p.twc for p in timeline(1)] == [0]


def test_the_policy_runs_on_the_days_time_but_not_faster_than_the_cars():
    """The site loop's clock is the simulated day's: the policy keeps a real day's
    settings, but for what the real-time cars and meter need."""
    green = site_config(Options(speed=10)).settings().green
    assert green == dataclasses.replace(GreenSettings(), subtract_charger_load=True)
    fast = site_config(Options(speed=1000))
    assert fast.settings().green.change_interval_s == 2000.0  # 2 s: cars take seconds
    assert fast.settings().max_reading_age_s == 120 * 1000  # the meter is read in real time
    assert fast.interval_s == 0.5
    clock = DayClock("10:00", 60)
    assert datetime.fromtimestamp(clock.time()).strftime("%H:%M") == "10:00"
    clock.t0 -= 60  # a real minute later: an hour of the day
    assert datetime.fromtimestamp(clock.time()).strftime("%H:%M") == "11:00"
    assert clock.age_s(time.time() - 2) == pytest.approx(120, abs=1)
    assert clock.monotonic() == pytest.approx(time.monotonic(), abs=0.1)


def test_demo_refuses_bad_wiring(capsys):
    assert main(["demo", "--wiring-max-amps-per-twc", "100"]) == 2
    assert "between 5 and 80 A" in capsys.readouterr().err


def test_the_demo_serves_the_web_page_and_takes_charge_now():
    p = subprocess.Popen([sys.executable, "-m", "twcm.cli", "demo", "--every", "0.5",
                          "--duration", "25", "--slaves", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout is not None
        first = p.stdout.readline()
        port = re.search(r"web page http://127\.0\.0\.1:(\d+)/#token=([\w-]+)", first)
        assert port, first
        api = f"http://127.0.0.1:{port.group(1)}"
        with urllib.request.urlopen(api + "/", timeout=5) as r:
            assert b"twcm" in r.read()
        body = json.dumps({"amps": 8, "minutes": 30}).encode()
        req = urllib.request.Request(api + "/api/sites/demo/charge_now", data=body,
                                     method="POST", headers={
                                         "Content-Type": "application/json",
                                         "Authorization": f"Bearer {port.group(2)}"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert json.loads(r.read())["charge_now"]["amps"] == 8
        for line in p.stdout:  # the view shows the Charge Now lease on the device
            if re.search(r"\| lease 8 A: manual: .*\| device lease 8 A", line):
                break
        else:
            raise AssertionError("Charge Now 8 A never shown")
        # Recorded as twcm run records: the page's chart has the day so far.
        now = int(time.time())  # the demo's day may run ahead of the clock: a wide range
        req = urllib.request.Request(
            api + f"/api/sites/demo/history?start={now - 2 * 86400}&end={now + 2 * 86400}",
            headers={
            "Authorization": f"Bearer {port.group(2)}"})
        samples: list = []  # written in batches off the event loop: poll a moment
        end = time.monotonic() + 10
        while not any(x["limit_amps"] == 8 for x in samples) and time.monotonic() < end:
            time.sleep(0.2)
            with urllib.request.urlopen(req, timeout=5) as r:
                samples = json.loads(r.read())["samples"]
        assert any(x["limit_amps"] == 8 for x in samples), samples[-3:]
    finally:
        p.terminate()
        p.wait(10)


def test_events_are_worded_for_a_person():
    assert words('event: {"event":"slave_joined","twc":"1A2B"}') == "TWC 1A2B joined"
    assert words('event: {"event":"lease_expired"}') == \
        "the lease expired: the host sent no new one in time"
    assert words('event: {"event":"fallback_entered","amps":0,"previous":"lease",'
                 '"source":"fallback"}') == "back to the fallback 0 A (after the lease)"
    assert words('event: {"event":"source_changed","amps":16,"previous":"lease",'
                 '"source":"schedule"}') == \
        "the schedule sets the site limit now: 16 A (was the lease)"
    assert words('event: {"event":"rejected","topic":"limit/set","reason":"amps must be '
                 '0-32, not 40"}') == "command limit/set refused: amps must be 0-32, not 40"
    assert event_words({"event": "lease_expired", "twc": "1A2B"}) == \
        "the lease capping TWC 1A2B expired"
    assert event_words({"event": "session_end", "twc": "1A2B"}) == \
        "the car on TWC 1A2B stopped drawing: its charging session ended"
    # One the formatter does not know yet, and lines that are not events, as they are.
    assert event_words({"event": "new_kind", "twc": "1A2B", "x": 1}) == \
        "event new_kind: twc 1A2B, x 1"
    for line in ("MQTT: connected to mqtt://127.0.0.1:1883", "event: not json"):
        assert words(line) == line


def _frame(clock: str) -> Frame:
    twc = Twc("C53E", True, "charging", 16, 15.0, "41 %")
    return Frame(clock, 6000.0, 3900.4, -2099.6, 16, "green", "green: because",
                 DeviceView("lease", 16, True, (twc,), 3450.0))


def test_both_views_show_the_simulated_time_and_the_meters():
    out = io.StringIO()
    with PlainView("about", lambda: "13:37", 0.0, out) as plain:
        plain.event("TWC C53E joined")
        plain.show(_frame("13:37"))
    text = out.getvalue()
    assert "13:37 TWC C53E joined\n" in text
    assert ("13:37 sun 6000 W use 3900 W (cars 3450 W) grid export 2100 W | lease 16 A: "
            "green: because | device lease 16 A | TWC C53E charging offer 16 A draws "
            "15.0 A car 41 %\n") in text
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120, color_system=None)
    with LiveView("about", lambda: "13:37", console) as live:
        live.event("TWC C53E joined")
        live.show(_frame("13:38"))
    shown = screen.getvalue()
    assert "twcm demo: 13:38 (simulated time)" in shown
    assert time.strftime("%H:%M") not in shown.replace("13:37", "").replace("13:38", "")
    assert "13:37 TWC C53E joined" in shown
    assert "3900 W  (the house and the cars, which draw 3450 W)" in shown
    assert "export 2100 W" in shown
