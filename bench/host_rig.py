"""Pieces shared by the host-service benchmarks (bench/host_*.py, bench/sources_rate.py):
`twcm` subprocesses, a simulated device (`twcm sim --pty` + `twcm master --broker`, as the
`device` fixture of tests/host/test_devicelink_mqtt.py), a twcm.toml writer, a JSON meter
over HTTP, and CPU/RSS figures of a process from /proc."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "host"))

from mqtt_helpers import PASSWORD, USER, Mosquitto  # noqa: E402,F401

CLK_TCK = os.sysconf("SC_CLK_TCK")


def until(probe: Callable[[], Any], timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    while not (v := probe()):
        if time.monotonic() > end:
            raise RuntimeError(f"no {what} within {timeout} s")
        time.sleep(0.02)
    return v


class Proc:
    """A `twcm ...` subprocess; its output (stdout and stderr) is collected in a thread."""

    def __init__(self, args: list[str], password: str | None = PASSWORD,
                 log: Path | None = None) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("TWCM_MQTT_PASSWORD", None)
        if password is not None:
            env["TWCM_MQTT_PASSWORD"] = password
        self.args = args
        self.p = subprocess.Popen([sys.executable, "-m", "twcm.cli", *args], env=env,
                                  text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.pid = self.p.pid
        self.lines: list[str] = []
        self.log = open(log, "w") if log else None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.append(line)
            if self.log:
                self.log.write(line)

    def alive(self) -> bool:
        return self.p.poll() is None

    def stop(self, grace_s: float = 5.0) -> str:
        """SIGTERM, then SIGKILL after grace_s; says how it ended."""
        if self.p.poll() is not None:
            return f"had exited ({self.p.returncode})"
        t = time.monotonic()
        self.p.terminate()
        try:
            self.p.wait(grace_s)
            return f"exited {time.monotonic() - t:.1f} s after SIGTERM ({self.p.returncode})"
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return f"did NOT exit within {grace_s:g} s of SIGTERM: killed"


def start_device(url: str, site: str, state_dir: Path, slaves: int = 2) -> list[Proc]:
    """`twcm sim --pty --slaves N` and `twcm master --broker url --site site` on it."""
    sim = Proc(["sim", "--pty", "--slaves", str(slaves)])
    line = until(lambda: next((s for s in sim.lines if "--port " in s), None), 15, "pty")
    pty = re.search(r"--port (\S+)", line).group(1)  # type: ignore[union-attr]
    master = Proc(["master", "--port", pty, "--wiring-max-amps-all", "40",
                   "--wiring-max-amps-per-twc", "32", "--fallback-amps", "6",
                   "--broker", url, "--site", site, "--state-dir", str(state_dir)])
    return [sim, master]


def write_config(path: Path, sites: list[str], broker: Mosquitto, db: Path,
                 level: str = "info") -> Path:
    """twcm.toml with these [[site]] tables (TOML text each), the broker, no REST API."""
    path.write_text("\n".join(sites) + f"""
[broker]
url = "mqtt://{USER}@127.0.0.1:{broker.port}"
password_env = "TWCM_MQTT_PASSWORD"
[database]
sqlite = "{db}"
[api]
enabled = false
[log]
level = "{level}"
""")
    return path


def cpu_s(pid: int) -> float:
    """utime + stime of the process, seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class CpuMeter:
    """CPU of a process between start() and pct(): % of one core."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start()

    def start(self) -> None:
        self.t0, self.c0 = time.monotonic(), cpu_s(self.pid)

    def pct(self) -> float:
        return 100 * (cpu_s(self.pid) - self.c0) / (time.monotonic() - self.t0)


def pctile(xs: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; nan for no values."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(q * len(s) + 0.5)) - 1))]


class JsonMeter:
    """A local HTTP meter: GET any path answers `doc` as JSON (HTTP/1.1, keep-alive).
    Records (monotonic time, path, doc) of each request served."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = dict(doc)
        self.lock = threading.Lock()
        self.served: list[tuple[float, str, dict]] = []
        meter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                with meter.lock:
                    doc = dict(meter.doc)
                    meter.served.append((time.monotonic(), self.path, doc))
                body = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def set(self, **values: Any) -> float:
        """Change the served values; the monotonic time of the change."""
        with self.lock:
            self.doc.update(values)
            return time.monotonic()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
