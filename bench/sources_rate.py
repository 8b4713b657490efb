"""Meter readings per second that one host process sustains across 100 local sources.
Target: 100 sources at interval_s 0.1 s, i.e. 1000 readings/s, without failures (the
config's own minimum for http_json is 0.5 s: 200 readings/s is what 100 sources can ask).

    .venv/bin/python bench/sources_rate.py [--sources 100] [--interval 0.1] [--seconds 20]
                                           [--servers 1]

100 twcm.service.sources.feed.Feed objects of the `http_json` source (httpx, one client per
source, keep-alive), built directly so that the interval may be below the config's
minimum, poll local HTTP meters in one asyncio loop of this process. The meters are
ThreadingHTTPServers (HTTP/1.1, one path per source) in --servers child processes, so that
this process's CPU is the feeds' alone. Each poll_once is timed.

Figures: readings/s in total (and asked for: sources / interval), failures, read time
median / p95 / max, CPU % of one core of this process (the feeds) and of the servers.
"""
from __future__ import annotations

import argparse
import faulthandler
import signal
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from host_rig import cpu_s, pctile  # noqa: E402

SERVER = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        i = int(self.path.rsplit("/", 1)[1])
        body = json.dumps({"site": {"meters": [{"power": 100 + i}]}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass
    def log_message(self, *a):
        pass
class S(ThreadingHTTPServer):
    request_queue_size = 1024  # the default 5 drops the SYNs of 100 feeds starting at once
s = S(("127.0.0.1", 0), H)
s.daemon_threads = True
print(s.server_address[1], flush=True)
s.serve_forever()
"""


async def run(args: argparse.Namespace, ports: list[int]) -> dict:
    from twcm.service.sources import kinds
    from twcm.service.sources.feed import Feed

    times: list[float] = []
    counts = {"ok": 0, "fail": 0}
    measuring = [False]

    class TimedFeed(Feed):
        async def poll_once(self) -> bool:
            t = time.perf_counter()
            ok = await super().poll_once()
            if measuring[0]:
                times.append(time.perf_counter() - t)
                counts["ok" if ok else "fail"] += 1
            return ok

    kind = kinds()["http_json"]
    feeds = []
    for i in range(args.sources):
        port = ports[i % len(ports)]
        o = kind.options.model_validate({"url": f"http://127.0.0.1:{port}/m/{i}",
                                         "path": "site.meters[0].power",
                                         "role": "generation", "timeout_s": 5})
        feeds.append(TimedFeed(f"m{i}", "http_json", kind.make(o), ("generation",),
                               args.interval, 30.0))
    tasks = [asyncio.create_task(f.run()) for f in feeds]
    await asyncio.sleep(args.warmup)
    errors_before = {f.name: f.failures for f in feeds}
    measuring[0] = True
    c0, t0 = cpu_s(os.getpid()), time.monotonic()
    await asyncio.sleep(args.seconds)
    measuring[0] = False
    c1, t1 = cpu_s(os.getpid()), time.monotonic()
    for t in tasks:
        t.cancel()
    # A Feed task should end on one cancel; count those that went on polling instead.
    _, pending = await asyncio.wait(tasks, timeout=5)
    ignored = len(pending)
    while pending:
        for t in pending:
            t.cancel()
        _, pending = await asyncio.wait(pending, timeout=1)
    wrong = sum(1 for i, f in enumerate(feeds)
                if f.latest is None or f.latest.generation_w != 100 + i)
    last_errors = sorted({f.error for f in feeds if f.error})
    del errors_before
    return {"times": times, **counts, "cpu": 100 * (c1 - c0) / (t1 - t0), "wall": t1 - t0,
            "wrong": wrong, "errors": last_errors, "ignored": ignored}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=int, default=100)
    ap.add_argument("--interval", type=float, default=0.1, help="each feed's interval_s")
    ap.add_argument("--seconds", type=float, default=20, help="measured window")
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--servers", type=int, default=1, help="HTTP server processes")
    args = ap.parse_args()
    faulthandler.register(signal.SIGUSR1)  # kill -USR1 <pid>: where it is stuck
    servers = [subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE,
                                text=True) for _ in range(args.servers)]
    try:
        ports = [int(s.stdout.readline()) for s in servers]  # type: ignore[union-attr]
        s0 = sum(cpu_s(s.pid) for s in servers)
        r = asyncio.run(run(args, ports))
        server_cpu = 100 * (sum(cpu_s(s.pid) for s in servers) - s0) / (
            r["wall"] + args.warmup)
    finally:
        for s in servers:
            s.terminate()
            s.wait()
    ts = r["times"]
    total = r["ok"] + r["fail"]
    print(f"{args.sources} http_json Feeds at interval_s {args.interval:g} in one asyncio "
          f"process, {args.servers} local ThreadingHTTPServer process(es), "
          f"{args.seconds:.0f} s measured")
    print(f"{'asked readings/s':>16s} {'readings/s':>10s} {'failures':>8s} "
          f"{'read ms median':>14s} {'p95':>7s} {'max':>7s} {'feeds CPU%':>10s} "
          f"{'servers CPU%':>12s}")
    print(f"{args.sources / args.interval:16.0f} {r['ok'] / r['wall']:10.1f} "
          f"{r['fail']:8d} {1000 * pctile(ts, .5):14.1f} {1000 * pctile(ts, .95):7.1f} "
          f"{1000 * max(ts):7.1f} {r['cpu']:10.1f} {server_cpu:12.1f}")
    if r["fail"] or r["errors"]:
        print(f"failures: {r['fail']} of {total}; last errors: {r['errors'][:3]}")
    if r["ignored"]:
        print(f"{r['ignored']} of {args.sources} feed tasks were still polling 5 s after "
              "task.cancel() (the cancel was lost; they needed another)")
    if r["wrong"]:
        print(f"{r['wrong']} feeds ended without their right value")


if __name__ == "__main__":
    sys.exit(main())
