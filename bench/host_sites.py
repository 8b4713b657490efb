"""Sites per core: how many sites one `twcm run` process serves before one core is full
or its decisions fall behind.

    .venv/bin/python bench/host_sites.py [--sites 10 50 100 200] [--seconds 60]
                                         [--warmup 15] [--ttl 15]

For each N: one `twcm run` with N sites (static source each, interval_s 1, green tracking
starting at once, ttl_s --ttl so that a lease is renewed every ttl/3 s), a real
mosquitto, SQLite in a temporary directory. Each site's device is faked by this process:
one paho client publishes a valid state message (docs/mqtt.md, one charging slave) per
site per second, spread evenly over the second, plus a retained `online`. After a warm-up
the bench watches for --seconds:

- CPU of `twcm run` (% of one core, /proc/<pid>/stat) and its RSS;
- decisions per site per second, from the `samples` table the service writes on every
  turn (expected 1/interval_s = 1.0);
- lease messages (limit/set) per site per minute, expected 60 / (ttl/3), and the largest
  gap between two leases of a site (expected ttl/3; above ttl the device would have
  fallen back);
- the host's own CPU (mosquitto, this bench) for context on a shared 2-core machine.

A row is "keeps up" while decisions are >= 95 % of the expected rate and no lease gap
exceeds ttl/3 + 1 s. The largest N that keeps up with the service's CPU under ~100 % is
the figure "sites per core".
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import paho.mqtt.client as mqtt

from host_rig import (PASSWORD, USER, CpuMeter, Mosquitto, Proc, cpu_s, rss_mb, until,
                      write_config)

STATE = {
    "version": "0.1.0", "uptime_s": 100, "mode": "lease", "source": "lease",
    "limit_amps": 16, "lease_left_s": 10, "schedule_windows": 0, "time_valid": True,
    "wiring_max_amps_all": 40, "wiring_max_amps_per_twc": 32, "fallback_amps": 6,
    "min_amps": 0, "free_heap": 84512, "loop_max_ms": 14,
    "slaves": [{"id": "1A2B", "link": "linked", "protocol": 2, "max_amps": 32,
                "offered_amps": 16, "actual_amps": 15.87, "state": "charging",
                "volts": [231, 0, 0], "lifetime_kwh": 6843, "vin": None, "cap_amps": None}],
}


def site_toml(name: str, ttl: int) -> str:
    return f"""
[[site]]
name = "{name}"
max_amps = 32
ttl_s = {ttl}
interval_s = 1
[site.source]
type = "static"
generation_w = 5000
consumption_w = 800
[site.policy.green]
start_delay_s = 0
"""


class FakeDevices:
    """N fake devices on one paho client: a state per site per second, leases counted."""

    def __init__(self, broker: Mosquitto, sites: list[str]) -> None:
        self.sites = sites
        self.leases: dict[str, list[float]] = defaultdict(list)
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fake-devices")
        self.c.username_pw_set(USER, PASSWORD)
        self.c.max_queued_messages_set(0)
        self.c.on_connect = lambda c, *a: c.subscribe("twcm/+/limit/set", qos=1)
        self.c.on_message = self._lease
        self.c.connect(broker.host, broker.port, keepalive=30)
        self.c.loop_start()
        for s in sites:
            self.c.publish(f"twcm/{s}/online", b"true", qos=1, retain=True)
        self.late = 0  # publishing rounds that overran the second
        self.thread = threading.Thread(target=self._publish, daemon=True)
        self.thread.start()

    def _lease(self, client, userdata, msg) -> None:
        site = msg.topic.split("/")[1]
        with self.lock:
            self.leases[site].append(time.monotonic())

    def _publish(self) -> None:
        n = len(self.sites)
        t = time.monotonic()
        while not self.stop.is_set():
            for i, s in enumerate(self.sites):
                due = t + i / n
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                state = dict(STATE, uptime_s=int(time.monotonic()))
                self.c.publish(f"twcm/{s}/state", json.dumps(state), qos=0, retain=True)
            t += 1.0
            if time.monotonic() > t:
                self.late += 1
                t = time.monotonic()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(3)
        self.c.loop_stop()
        self.c.disconnect()


def one(n: int, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        broker = Mosquitto(work)
        names = [f"s{i:04d}" for i in range(n)]
        fake = FakeDevices(broker, names)
        db = work / "twcm.db"
        cfg = write_config(work / "twcm.toml", [site_toml(s, args.ttl) for s in names], broker,
                           db, level="info")
        service = Proc(["run", "--config", str(cfg)], log=work / "run.log")
        try:
            until(lambda: len(fake.leases) == n or not service.alive(), 60 + n / 5,
                  "a lease for every site")
            time.sleep(args.warmup)
            cpu = CpuMeter(service.pid)
            mosq = CpuMeter(broker.proc.pid)  # type: ignore[union-attr]
            me0, t0m, t0 = cpu_s(__import__("os").getpid()), time.monotonic(), time.time()
            time.sleep(args.seconds)
            t1m, t1 = time.monotonic(), time.time()
            row = {"n": n, "cpu": cpu.pct(), "mosq": mosq.pct(),
                   "bench": 100 * (cpu_s(__import__("os").getpid()) - me0) / (t1m - t0m),
                   "rss": rss_mb(service.pid), "alive": service.alive(), "late": fake.late}
            con = sqlite3.connect(db)
            per_site = dict(con.execute(
                "SELECT site, COUNT(*) FROM samples WHERE at >= ? AND at < ? GROUP BY site",
                (t0, t1)).fetchall())
            con.close()
            rates = [per_site.get(s, 0) / (t1 - t0) for s in names]
            row["dec_mean"] = sum(rates) / n
            row["dec_min"] = min(rates)
            renew = args.ttl / 3
            with fake.lock:
                per_min, gaps = [], []
                for s in names:
                    ts = [t for t in fake.leases[s] if t0m <= t < t1m]
                    per_min.append(len(ts) / (t1m - t0m) * 60)
                    prior = [t for t in fake.leases[s] if t < t0m][-1:]
                    ts = prior + ts + [t1m]
                    gaps.append(max(b - a for a, b in zip(ts, ts[1:])))
            row["lease_pm"] = sum(per_min) / n
            row["lease_pm_min"] = min(per_min)
            row["gap_max"] = max(gaps)
            row["expect_pm"] = 60 / renew
            row["ok"] = (row["dec_mean"] >= 0.95 and row["dec_min"] >= 0.9
                         and row["gap_max"] <= renew + 1 and row["alive"])
            row["shutdown"] = service.stop(10)
            warn = [x for x in service.lines if " WARNING " in x or " ERROR " in x]
            if warn:
                print(f"  N={n}: {len(warn)} warnings/errors in the log, e.g. "
                      + " | ".join(x.strip()[:160] for x in warn[:3]), flush=True)
            return row
        finally:
            service.stop()
            fake.close()
            broker.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, nargs="+", default=[10, 50, 100, 200])
    ap.add_argument("--seconds", type=float, default=60, help="measured window per N")
    ap.add_argument("--warmup", type=float, default=15)
    ap.add_argument("--ttl", type=int, default=15)
    ap.add_argument("--stop-when-saturated", action="store_true",
                    help="skip larger N once one does not keep up")
    args = ap.parse_args()
    print(f"one `twcm run`, N sites, interval_s 1, ttl_s {args.ttl} (a lease every "
          f"{args.ttl / 3:g} s), fake devices publishing a state per site per second; "
          f"{args.seconds:.0f} s measured after {args.warmup:.0f} s warm-up")
    head = (f"{'N':>5s} {'run CPU%':>8s} {'RSS MB':>7s} {'decisions/site/s':>16s} "
            f"{'(min)':>6s} {'leases/site/min':>15s} {'(min)':>6s} {'(expect)':>8s} "
            f"{'max lease gap s':>15s} {'mosq CPU%':>9s} {'bench CPU%':>10s}  keeps up")
    print(head, flush=True)
    rows = []
    for n in args.sites:
        r = one(n, args)
        rows.append(r)
        print(f"{r['n']:5d} {r['cpu']:8.1f} {r['rss']:7.1f} {r['dec_mean']:16.2f} "
              f"{r['dec_min']:6.2f} {r['lease_pm']:15.1f} {r['lease_pm_min']:6.1f} "
              f"{r['expect_pm']:8.1f} {r['gap_max']:15.2f} {r['mosq']:9.1f} "
              f"{r['bench']:10.1f}  {'yes' if r['ok'] else 'NO'}"
              + ("" if r["alive"] else " (twcm run died)")
              + (f" (fake devices late {r['late']}x)" if r["late"] else "")
              + f"; twcm run {r['shutdown']}", flush=True)
        if args.stop_when_saturated and not r["ok"]:
            break
    ok = [r for r in rows if r["ok"] and r["cpu"] < 95]
    if ok:
        best = max(ok, key=lambda r: r["n"])
        per_core = best["n"] * 100 / max(best["cpu"], 1e-9)
        print(f"largest N that keeps up: {best['n']} at {best['cpu']:.0f} % of a core "
              f"(linear estimate: about {per_core:.0f} sites per core)")
    else:
        print("no N kept up")


if __name__ == "__main__":
    sys.exit(main())
