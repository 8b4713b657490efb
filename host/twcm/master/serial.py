"""Runs the sans-IO master (twc.master) on a serial port with pyserial."""
from __future__ import annotations

import select
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import serial

from twc.master import MASTER_ID, Master
from twc.share import Limits
from twc.busloop import BusLoop
from twc.ticks import ticks_ms
from twcm.master.status import format_slot, slot_summary

if TYPE_CHECKING:
    from twcm.master.mqtt_link import MqttLink
    from twcm.mqtt import Broker

TICK_S = 0.002  # the master is ticked at least this often


class PortError(Exception):
    """The serial port could not be opened; the message says how to fix it."""


def open_port(path: str) -> serial.Serial:
    """Open an RS-485 port at 9600 8N1, non-blocking."""
    try:
        return serial.Serial(path, 9600, bytesize=8, parity="N", stopbits=1, timeout=0)
    except serial.SerialException as e:
        hint = "check the device path (ls /dev/ttyUSB* /dev/ttyACM*)"
        if "ermission" in str(e):
            hint = "add your user to the 'dialout' group or run with access to the device"
        raise PortError(f"cannot open serial port {path}: {e}; {hint}") from e


class SerialMaster:
    def __init__(self, port: str, limits: Limits, master_id: int = MASTER_ID,
                 status_every: float = 5.0, out: TextIO = sys.stdout) -> None:
        self.port = open_port(port)
        self.out = out
        self.status_every = status_every
        self.master = Master(self._send, limits, master_id=master_id,
                             on_event=self._event, now=ticks_ms())
        self.link: MqttLink | None = None
        self.loop = BusLoop(self.master, None, time.time)

    def use_broker(self, broker: Broker, site: str, state_dir: Path) -> None:
        """Serve the MQTT contract (docs/mqtt.md) on broker, as the ESP32 does."""
        from twcm.master.mqtt_link import MqttLink
        self.link = MqttLink(self.master, broker, site, state_dir, self._print)
        self.loop.hub = self.link.hub

    def __enter__(self) -> "SerialMaster":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.link is not None:
            self.link.close()
        self.port.close()

    def _send(self, view: memoryview) -> None:
        self.port.write(view)

    def _event(self, kind: str, twc_id: int | None, detail: object) -> None:
        who = f" TWC {twc_id:04X}" if twc_id is not None else ""
        self._print(f"event: {kind}{who}")

    def _print(self, line: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        print(f"{stamp} {line}", file=self.out, flush=True)

    def print_status(self) -> None:
        lim = self.master.limits
        linked = [s for s in self.master.slots if s.status]
        line = (f"limit {lim.site} A (wiring {lim.wiring_all} A all, "
                f"{lim.wiring_per_twc} A per TWC), {len(linked)} slave(s)")
        if self.link is not None:
            broker = "connected" if self.link.connected else "offline"
            line = f"mode {self.link.leases.mode}, {line}, broker {broker}"
        self._print(line)
        for s in linked:
            self._print("  " + format_slot(slot_summary(s)))

    def step(self, timeout: float = TICK_S) -> None:
        """Wait up to timeout for bytes, then one pass of the bus loop (twc.busloop: the
        master, and the leases) and hand what is due to the MQTT link."""
        ready, _, _ = select.select([self.port.fileno()], [], [], timeout)
        data = self.port.read(4096) if ready else b""
        now = ticks_ms()
        self.loop.step(now, data, len(data))
        if self.link is not None:
            self.link.publish_pending(now)

    def run_forever(self) -> int:
        """Run until Ctrl-C (0) or until the port fails (1)."""
        next_status = time.monotonic() + self.status_every
        self._print(f"master {self.master.id:04X} on {self.port.port}")
        if self.link is not None:
            self.link.start()
        try:
            while True:
                self.step()
                if self.status_every and time.monotonic() >= next_status:
                    next_status += self.status_every
                    self.print_status()
        except KeyboardInterrupt:
            self._print("stopped")
            return 0
        except (serial.SerialException, OSError) as e:
            self._print(f"error: serial port {self.port.port} failed ({e}); "
                        "is the adapter still plugged in?")
            return 1
