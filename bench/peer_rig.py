"""The peer's test rig, run by bench/peer_twcmanager.py under libfaketime: twcm's
simulated slave TWC (with the replay's car) on a pty, a fake Home Assistant serving the
trace's generation and consumption, and TWCManager as the slave's master.

    faketime -f "@2026-06-21 05:58:00 x20" (FAKETIME_DONT_RESET=1) \\
        .venv/bin/python bench/peer_rig.py RUN.json

RUN.json (written by peer_twcmanager.py) names the trace, the window (trace seconds),
the run directory, the peer's python and whether the meter includes the charger. This
process and TWCManager (its child) share one fake clock (FAKETIME_DONT_RESET: the child
keeps the parent's start), so the trace's time, the car and TWCManager's timers all run
on the same day. Every STEP_S of fake time it records the slave's energy and offer; at
the end it writes RUN.result.json with the samples and the heartbeat times.
"""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from twcm.master.serial import open_port
from twcm.replay import day, load_trace
from twcm.replay.device import VOLTS, replay_car
from twcm.replay.engine import _unix
from twcm.replay.trace import Trace
from twcm.sim.serial_port import PtyLink, SerialSlaves
from twcm.sim.slave import SimSlave

STEP_S = 5.0  # fake seconds between samples, as the replay's decide_s
SLAVE_ID = 0x1839
GENERATION = "sensor.twcm_bench_generation"
CONSUMPTION = "sensor.twcm_bench_consumption"


def load(spec: dict[str, Any]) -> Trace:
    return load_trace(spec["trace"]) if spec.get("trace") else day(spec["day"], spec["seed"])


class FakeHass:
    """Home Assistant's /api/states/<entity> for the two power sensors, at the fake now.

    Consumption is the house plus, when the meter includes the charger, what the car
    draws at that moment (as a meter on the house's supply sees it). The meter includes
    the charger exactly when TWCManager is told to subtract its load: with
    subtractChargerLoad off, the meter is one that leaves the charger out."""

    def __init__(self, trace: Trace, origin_unix: float, slave: SimSlave,
                 meter_includes_charger: bool) -> None:
        self.trace, self.origin, self.slave = trace, origin_unix, slave
        self.includes_charger = meter_includes_charger
        self.requests = 0
        self.lost = 0  # answers the client no longer waited for (its 2 s timeout, fake)

    def state(self, entity: str) -> dict[str, Any] | None:
        gen, house = self.trace.at(time.time() - self.origin)
        if entity == GENERATION:
            watts = gen
        elif entity == CONSUMPTION:
            watts = house + (self.slave.car.amps * VOLTS if self.includes_charger else 0.0)
        else:
            return None
        self.requests += 1
        return {"entity_id": entity, "state": f"{watts:.1f}",
                "attributes": {"unit_of_measurement": "W", "device_class": "power",
                               "state_class": "measurement"}}

    def serve(self) -> ThreadingHTTPServer:
        hass = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                prefix = "/api/states/"
                body = hass.state(self.path[len(prefix):]) \
                    if self.path.startswith(prefix) else None
                data = json.dumps(body if body else {"message": "Entity not found."}).encode()
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                try:
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    hass.lost += 1

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def peer_config(run: dict[str, Any], port: str, hass_port: int) -> dict[str, Any]:
    """TWCManager's config.json: its shipped example's values, except the site's wiring
    (32 A), the voltage (230 V, the simulated slave's), the meter and the options the
    bench varies. Its web server, MQTT and status outputs stay off."""
    return {
        "config": {
            "settingsPath": run["dir"], "wiringMaxAmpsAllTWCs": run["max_amps"],
            "wiringMaxAmpsPerTWC": run["max_amps"], "minAmpsPerTWC": 12,
            "defaultVoltage": VOLTS, "numberOfPhases": 1, "greenEnergyFlexAmps": 0,
            "useFlexAmpsToStartCharge": False,
            "subtractChargerLoad": run["subtract_charger_load"],
            "treatGenerationAsGridDelivery": False, "cloudUpdateInterval": 1800,
            "logLevel": 20, "displayMilliseconds": False, "fakeMaster": 1,
        },
        "interface": {"RS485": {"enabled": True, "baud": 9600, "port": port}},
        "control": {"HTTP": {"enabled": False}, "MQTT": {"enabled": False}},
        "policy": {"engine": {"policyCheckInterval": run["policy_s"]}},
        "sources": {"HASS": {"enabled": True, "serverIP": "127.0.0.1",
                             "serverPort": str(hass_port), "apiKey": "bench",
                             "hassEntityConsumption": CONSUMPTION,
                             "hassEntityGeneration": GENERATION}},
        "logging": {"Console": {"enabled": True}},
    }


def main(path: str) -> int:
    run = json.loads(Path(path).read_text())
    trace = load(run)
    origin = _unix(trace.start)
    start_s, end_s = run["start_s"], run["end_s"]
    link = PtyLink()
    port = open_port(link.a)
    sim = SerialSlaves(port)
    slave = sim.add_slave(twc_id=SLAVE_ID, seed=0, max_amps=run["max_amps"], volts=VOLTS,
                          car=replay_car(run["max_amps"]))
    events = [e for e in trace.events if start_s <= e.t_s < end_s]
    if not trace.events:
        slave.car.plug()
    hass = FakeHass(trace, origin, slave, run["subtract_charger_load"])
    server = hass.serve()
    rundir = Path(run["dir"])
    (rundir / "config.json").write_text(json.dumps(
        peer_config(run, link.b, server.server_address[1]), indent=2))
    log = open(rundir / "twcmanager.log", "w")
    peer = subprocess.Popen([run["peer_python"], "-m", "TWCManager.TWCManager"],
                            cwd=rundir, stdout=log, stderr=subprocess.STDOUT)
    samples: list[list[float]] = []
    drops: list[float] = []
    was_mastered, at_start = False, None
    next_step = origin + start_s
    last_wh = slave.energy_wh
    shown = time.monotonic()
    try:
        while True:
            sim.poll()
            now = time.time()
            t = now - origin
            while events and events[0].t_s <= t:
                e = events.pop(0)
                slave.car.plug() if e.kind == "plug" else slave.car.unplug()
            if at_start is None and t >= start_s:
                at_start = slave.mastered
            if slave.mastered:
                was_mastered = True
            elif was_mastered:
                was_mastered = False
                drops.append(t)
            if now >= next_step:
                if t >= start_s + STEP_S / 2:  # the window's first sample is its start
                    car_wh = slave.energy_wh - last_wh
                    gen, house = trace.at(t - STEP_S)
                    samples.append([t - STEP_S - start_s, gen, house, car_wh,
                                    slave.applied_amps, slave.car.amps])
                last_wh = slave.energy_wh
                next_step += STEP_S
                if t >= end_s:
                    break
            if peer.poll() is not None:
                print(f"peer_rig: TWCManager exited with {peer.returncode}; see "
                      f"{rundir / 'twcmanager.log'}", file=sys.stderr)
                break
            if time.monotonic() - shown >= 30 * run["speedup"]:
                shown = time.monotonic()
                done = max(0.0, t - start_s)
                print(f"peer: {done / 3600:.2f} of {(end_s - start_s) / 3600:.2f} h "
                      f"(fake {time.strftime('%H:%M', time.gmtime(now))}), "
                      f"{len(slave.heartbeat_times)} heartbeats, "
                      f"car {slave.car.amps:4.1f} A, offer {slave.applied_amps:4.1f} A",
                      file=sys.stderr, flush=True)
    finally:
        peer.terminate()
        try:
            peer.wait(10)
        except subprocess.TimeoutExpired:
            peer.kill()
        server.shutdown()
        port.close()
        link.close()
    window_ms = (start_s - (time.time() - origin)) * 1000 + sim.now()
    result = {"samples": samples, "drops_s": drops, "mastered_at_start": bool(at_start),
              "peer_exit": peer.returncode, "hass_requests": hass.requests, "hass_lost": hass.lost,
              "heartbeats_ms": [h for h in slave.heartbeat_times if h >= window_ms],
              "complete": bool(samples) and samples[-1][0] + 2 * STEP_S >= end_s - start_s}
    Path(path).with_suffix(".result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
