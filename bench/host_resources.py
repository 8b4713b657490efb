"""Host resources of `twcm run` with one site: resident memory (MB) and CPU (% of one
core) over a steady run. No fixed target; for a Raspberry Pi the service should stay
well under 100 MB and a few % of a core.

    .venv/bin/python bench/host_resources.py [--seconds 60] [--source sim|static]
                                             [--interval 5] [--slaves 2]

One `twcm run` (real mosquitto, SQLite in a temporary directory, REST API off) drives a
simulated device: `twcm master --broker` on `twcm sim --pty` (as the tests' `device`
fixture). The source is `sim` (a simulated solar day at speed 60, so the lease moves) or
`static`. The window starts once the device is on the host's lease (start-up imports
excluded); RSS is read from /proc/<pid>/status VmRSS each second, CPU from
/proc/<pid>/stat utime + stime over the window. The device's processes are shown too.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from host_rig import CpuMeter, Mosquitto, Proc, rss_mb, start_device, until, write_config

from mqtt_helpers import Watcher  # noqa: E402

SITE = "home"


def site_toml(source: str, interval: float) -> str:
    src = ('type = "sim"\npeak_w = 6000\nbase_load_w = 350\nspeed = 60\nstart = "09:00"'
           if source == "sim" else 'type = "static"\ngeneration_w = 5000\nconsumption_w = 800')
    return f"""
[[site]]
name = "{SITE}"
max_amps = 32
ttl_s = 60
interval_s = {interval}
[site.source]
{src}
[site.policy.green]
start_delay_s = 0
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--source", choices=("sim", "static"), default="sim")
    ap.add_argument("--interval", type=float, default=5.0, help="the site's interval_s")
    ap.add_argument("--slaves", type=int, default=2, choices=(1, 2, 3))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        broker = Mosquitto(work)
        w = Watcher(broker, [f"twcm/{SITE}/#"])
        procs: list[Proc] = []
        try:
            url = broker.url().replace("mqtt://", "mqtt://twcm@")
            procs += start_device(url, SITE, work / "state", args.slaves)
            cfg = write_config(work / "twcm.toml", [site_toml(args.source, args.interval)],
                               broker, work / "twcm.db")
            started = time.monotonic()
            service = Proc(["run", "--config", str(cfg)], log=work / "run.log")
            procs.append(service)
            until(lambda: any(s["source"] == "lease" for s in w.json_of("/state")), 60,
                  "the device on the host's lease")
            ready = time.monotonic() - started
            rss_start = rss_mb(service.pid)
            meters = {p.args[0]: CpuMeter(p.pid) for p in procs}
            rss: list[float] = []
            end = time.monotonic() + args.seconds
            while time.monotonic() < end and service.alive():
                rss.append(rss_mb(service.pid))
                time.sleep(1)
            cpu = {k: m.pct() for k, m in meters.items()}
            rss_by = {p.args[0]: rss_mb(p.pid) for p in procs}
            leases = len([1 for _, topic, _, _ in w.messages if topic.endswith("/limit/set")])
            print(f"twcm run, one site ({args.source} source, interval_s {args.interval:g}), "
                  f"`twcm master` + `twcm sim --slaves {args.slaves}`, mosquitto; "
                  f"{args.seconds:.0f} s after the first lease was in force "
                  f"({ready:.1f} s after start)")
            print(f"{'process':14s} {'RSS MB start':>12s} {'RSS MB max':>10s} "
                  f"{'RSS MB end':>10s} {'CPU % of a core':>16s}")
            print(f"{'twcm run':14s} {rss_start:12.1f} {max(rss):10.1f} {rss[-1]:10.1f} "
                  f"{cpu['run']:16.2f}")
            for name in ("master", "sim"):
                print(f"{'twcm ' + name:14s} {'':12s} {'':10s} {rss_by[name]:10.1f} "
                      f"{cpu[name]:16.2f}")
            print(f"leases published in the whole run: {leases}; twcm run "
                  f"{'alive' if service.alive() else 'DIED'}, then {service.stop(10)}")
        finally:
            for p in reversed(procs):
                p.stop()
            w.close()
            broker.kill()


if __name__ == "__main__":
    sys.exit(main())
