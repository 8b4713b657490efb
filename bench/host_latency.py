"""Meter change -> lease -> wire: how long after the meter's value changes the Wall
Connector applies the new limit. Target: <= 2 s (TWCManager takes 4-27 s).

    .venv/bin/python bench/host_latency.py [--n 20] [--slaves 1] [--device firmware|master]

The whole chain runs for real: a local HTTP meter (a tiny http.server in this process,
JSON {"generation_w": ..., "consumption_w": ...}) read by `twcm run` through two
`http_json` sources (one value each, as the integration reads one value per source:
roles generation and consumption), each polled every 1 s; the site decides every
interval_s = 1 s with green tracking set to follow at once (start_delay_s = 0,
stop_delay_s = 0, change_interval_s = 0); a real mosquitto; the device is the firmware
on the MicroPython unix port with simulated slaves on a pty (tests/host/firmware_rig.py,
default), whose in-process simulated slaves show the moment the heartbeat carrying the
new limit arrived, or `twcm master --broker` on `twcm sim --pty` (--device master), where
the device's state message is the last thing seen.

The change measured is a large step of the surplus, the kind green tracking follows at
once whatever its smoothing: generation 0 W -> 20 kW with 500 W consumption (a start: 0 A
-> the site's 32 A) and back (a stop: 32 A -> 0 A). Small changes are smoothed by design
(energy balance, change_interval_s) and not measured here.

Figures: per kind of step and all together, n, median, p95, max of
  meter -> new value served   (wait for the source's next poll, <= 1 s)
  meter -> lease published    (limit/set with the new amps seen on the broker)
  lease -> state shows it     (twcm/<site>/state with the new limit_amps)
  lease -> slave applies it   (firmware rig only: the first simulated slave's limit)
  meter -> slave applies it   (end to end; with --device master: meter -> state)
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from host_rig import (PASSWORD, Mosquitto, Proc, JsonMeter, pctile, start_device, until,  # noqa: F401
                      write_config)

from mqtt_helpers import Watcher  # noqa: E402

SITE = "test"  # the firmware rig's site
P = f"twcm/{SITE}/"
CONSUMPTION_W = 500
HIGH_W = 20000
MAX_AMPS = 32


def site_toml(meter_url: str) -> str:
    src = "\n".join(f"""
[[site.source]]
name = "{role[:4]}"
type = "http_json"
url = "{meter_url}/meter?who={role[:4]}"
path = "{role}_w"
role = "{role}"
interval_s = 1
timeout_s = 2
""" for role in ("generation", "consumption"))
    return f"""
[[site]]
name = "{SITE}"
max_amps = {MAX_AMPS}
ttl_s = 30
interval_s = 1
{src}
[site.policy]
min_amps = 6
[site.policy.green]
start_delay_s = 0
stop_delay_s = 0
change_interval_s = 0
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20, help="steps (half starts, half stops)")
    ap.add_argument("--slaves", type=int, default=1, choices=(1, 2, 3))
    ap.add_argument("--device", choices=("firmware", "master"), default="firmware")
    ap.add_argument("--hold", type=float, nargs=2, default=(3.0, 5.0), metavar=("MIN", "MAX"),
                    help="seconds between steps, drawn uniformly (so that the steps fall "
                         "anywhere in the poll and decision cycles)")
    args = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        broker = Mosquitto(work)
        w = Watcher(broker, [P + "#"])
        meter = JsonMeter({"generation_w": 0, "consumption_w": CONSUMPTION_W})
        rig = None
        procs: list[Proc] = []
        try:
            if args.device == "firmware":
                from firmware_rig import FirmwareRig, device_config
                rig = FirmwareRig(work, device_config(broker), slaves=args.slaves,
                                  heapsize="1M")
                rig.start()
            else:
                procs += start_device(broker.url().replace("mqtt://", "mqtt://twcm@"), SITE,
                                      work / "state", args.slaves)
            until(lambda: w.wait_for(lambda t, p: t == P + "online" and p == b"true", 0), 20,
                  "device online")
            cfg = write_config(work / "twcm.toml", [site_toml(meter.url)], broker,
                               work / "twcm.db")
            service = Proc(["run", "--config", str(cfg)], log=work / "run.log")
            procs.append(service)

            def state_limit() -> int | None:
                s = w.json_of(P + "state")
                return s[-1]["limit_amps"] if s else None

            until(lambda: state_limit() == 0, 30, "the first 0 A lease in force")
            if rig is not None:
                until(lambda: rig.applied()[0] == 0, 10, "the slave at 0 A")
            time.sleep(2)
            rows: dict[str, list[dict]] = {"start": [], "stop": []}
            high = False
            for i in range(args.n):
                high = not high
                kind, want = ("start", MAX_AMPS) if high else ("stop", 0)
                t0 = meter.set(generation_w=HIGH_W if high else 0)
                r: dict = {}
                end = t0 + 10
                while time.monotonic() < end:
                    if "served" not in r:
                        with meter.lock:
                            hits = [t for t, path, doc in meter.served
                                    if "who=gene" in path and t >= t0]
                        if hits:
                            r["served"] = hits[0] - t0
                    if "lease" not in r:
                        hit = w.wait_for(lambda t, p: t == P + "limit/set"
                                         and json.loads(p)["amps"] == want, 0, since=t0)
                        if hit:
                            r["lease"] = hit[0] - t0
                    if "state" not in r:
                        hit = w.wait_for(lambda t, p: t == P + "state"
                                         and json.loads(p)["limit_amps"] == want, 0, since=t0)
                        if hit:
                            r["state"] = hit[0] - t0
                    if rig is not None and "applied" not in r:
                        a = rig.applied()[0]
                        if (a >= 6) if high else (a == 0):
                            r["applied"] = time.monotonic() - t0
                    if {"served", "lease", "state"} <= r.keys() and (
                            rig is None or "applied" in r):
                        break
                    time.sleep(0.002)
                rows[kind].append(r)
                print(f"  step {i + 1:2d} {kind:5s}: " + ", ".join(
                    f"{k} {v:.3f} s" for k, v in r.items()), flush=True)
                time.sleep(rng.uniform(*args.hold))
            if not service.alive():
                print("twcm run died:\n" + "".join(service.lines[-30:]))
            report(rows, rig is not None, args)
        finally:
            for p in reversed(procs):
                p.stop()
            if rig is not None:
                rig.close()
            meter.close()
            w.close()
            broker.kill()


def report(rows: dict[str, list[dict]], wire: bool, args: argparse.Namespace) -> None:
    end = "applied" if wire else "state"
    parts = [("meter -> new value served", lambda r: r.get("served")),
             ("meter -> lease published", lambda r: r.get("lease")),
             ("lease -> state shows it", lambda r: r.get("state") - r["lease"]
              if "state" in r and "lease" in r else None)]
    if wire:
        parts.append(("lease -> slave applies it", lambda r: r["applied"] - r["lease"]
                      if "applied" in r and "lease" in r else None))
    parts.append((f"meter -> {'slave applies it' if wire else 'state shows it'} (end to end)",
                  lambda r: r.get(end)))
    print(f"\nmeter step -> lease -> wire: twcm run + http_json meter (1 s polls, interval_s 1) "
          f"+ mosquitto + {args.device} device with {args.slaves} slave(s); target end to end "
          f"<= 2 s")
    print(f"{'':40s} {'kind':5s} {'n':>3s} {'median':>8s} {'p95':>8s} {'max':>8s}")
    for name, f in parts:
        for kind in ("start", "stop", "all"):
            rs = rows["start"] + rows["stop"] if kind == "all" else rows[kind]
            xs = [x for x in (f(r) for r in rs) if x is not None]
            n_total = len(rs)
            if not xs:
                print(f"{name:40s} {kind:5s} 0/{n_total}")
                continue
            print(f"{name:40s} {kind:5s} {len(xs):>3d} {pctile(xs, .5):8.3f} "
                  f"{pctile(xs, .95):8.3f} {max(xs):8.3f}" +
                  ("" if len(xs) == n_total else f"  (missing {n_total - len(xs)})"))


if __name__ == "__main__":
    sys.exit(main())
