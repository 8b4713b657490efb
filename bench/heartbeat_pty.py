"""Heartbeat period and largest gap per slave: `twcm master` (a separate
process, as a user runs it) and three simulated slaves over a pty link.

    .venv/bin/python bench/heartbeat_pty.py [SECONDS]

Targets: median period <= 1.1 s, largest gap <= 2 s, per slave.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time

from twcm.sim.car import Car
from twcm.sim.serial_port import PtyLink, SerialSlaves
from twcm.master.serial import open_port


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    with PtyLink() as link:
        sim = SerialSlaves(open_port(link.a))
        for i, twc_id in enumerate((0x1A01, 0x2B02, 0x3C03)):
            s = sim.add_slave(twc_id=twc_id, seed=i, car=Car(vin=None))
            s.car.plug()
        master = subprocess.Popen(
            [sys.executable, "-m", "twcm.cli", "master", "--port", link.b,
             "--wiring-max-amps-all", "40", "--wiring-max-amps-per-twc", "32",
             "--fallback-amps", "40", "--status-every", "0"],
            stdout=subprocess.DEVNULL)
        try:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                sim.poll()
        finally:
            master.terminate()
            master.wait()
            sim.port.close()
    print(f"3 slaves, {seconds:.0f} s, twcm master over a pty")
    print(f"{'slave':>6} {'heartbeats':>10} {'median s':>9} {'p95 s':>6} {'largest gap s':>14}")
    ok = True
    for s in sim.slaves:
        times = list(s.heartbeat_times)
        first = times[0] if times else 0
        gaps = s.heartbeat_gaps(since=first + 2000)  # from 2 s after linking
        if not gaps:
            print(f"{s.id:04X}  no heartbeats")
            ok = False
            continue
        med = statistics.median(gaps) / 1000
        p95 = sorted(gaps)[int(len(gaps) * 0.95) - 1] / 1000
        big = max(gaps) / 1000
        ok &= med <= 1.1 and big <= 2.0
        print(f"{s.id:04X}   {len(times):10d} {med:9.3f} {p95:6.3f} {big:14.3f}")
    print("targets (median <= 1.1 s, largest gap <= 2 s):", "met" if ok else "NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
