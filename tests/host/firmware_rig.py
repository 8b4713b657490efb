"""The firmware's own entry point (firmware/main.py) on the MicroPython unix
port with the `sim` board: its UART is one end of a pty link whose other
end carries simulated slave TWCs, and its network is the host's."""
from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from typing import Any

from mqtt_helpers import PASSWORD, USER, Mosquitto
from twcm.master.serial import open_port
from twcm.sim.serial_port import PtyLink, SerialSlaves

ROOT = Path(__file__).resolve().parents[2]
MICROPYTHON = ROOT / ".venv" / "bin" / "micropython"
# firmware/ for twc and device, tests/.deps for umqtt.simple (fetched by
# tools/setup --test, as `mpremote mip install umqtt.simple` puts it on a device).
DEPS = ROOT / "tests" / ".deps"


def device_config(broker: Mosquitto | None, **over: Any) -> dict[str, Any]:
    cfg: dict[str, Any] = {"site": "test", "board": "sim", "wiring_max_amps_all": 40,
                           "wiring_max_amps_per_twc": 32, "fallback_amps": 12}
    if broker is not None:
        cfg["broker"] = {"url": broker.url(), "user": USER, "password": PASSWORD,
                         "keepalive_s": 10}
    cfg.update(over)
    return cfg


class FirmwareRig:
    """Simulated slaves with cars on a pty, and the firmware on its other end."""

    def __init__(self, workdir: Path, config: dict[str, Any], slaves: int = 2,
                 heapsize: str = "256K", boards_dir: Path = ROOT / "boards",
                 firmware_dir: Path = ROOT / "firmware", deps_dir: Path = DEPS) -> None:
        self.dir = workdir
        self.boards_dir = boards_dir
        # The firmware's files (sources, or .mpy as on a device), and umqtt.simple.
        self.firmware_dir = firmware_dir
        self.micropypath = f".frozen:{firmware_dir}:{deps_dir}"
        self.config_path = workdir / "config.json"
        self.config_path.write_text(json.dumps(config))
        self.heapsize = heapsize
        self.link = PtyLink()
        self.sim = SerialSlaves(open_port(self.link.a))
        for i in range(slaves):
            s = self.sim.add_slave(twc_id=0x1A00 + i, seed=i)
            s.car.plug()
        self._stop = threading.Event()
        self._sim_lock = threading.Lock()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        self.proc: subprocess.Popen | None = None
        self.log = workdir / "firmware.log"

    def _pump(self) -> None:
        while not self._stop.is_set():
            with self._sim_lock:
                self.sim.poll()

    def start(self) -> None:
        env = {**os.environ, "TWCM_CONFIG": str(self.config_path),
               "TWCM_BOARDS": str(self.boards_dir), "TWCM_BUS": self.link.b,
               "MICROPYPATH": self.micropypath}
        self.proc = subprocess.Popen(
            [str(MICROPYTHON), "-X", f"heapsize={self.heapsize}", str(self.firmware_dir / "main.py")],
            env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def console(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def slaves(self):
        return self.sim.slaves

    def applied(self) -> list[float]:
        with self._sim_lock:
            return [s.applied_amps for s in self.sim.slaves]

    def heartbeat_times(self) -> list[list[int]]:
        with self._sim_lock:
            return [list(s.heartbeat_times) for s in self.sim.slaves]

    def close(self) -> None:
        self.kill()
        self._stop.set()
        self._thread.join(2)
        self.sim.port.close()
        self.link.close()
