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
from twc.ticks import ticks_add, ticks_diff, ticks_ms
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
        self._pass_at = self._utc_next = ticks_ms()
        self._utc_s = 0

    def use_broker(self, broker: Broker, site: str, state_dir: Path) -> None:
        """Serve the MQTT contract (docs/mqtt.md) on broker, as the ESP32 does."""
        from twcm.master.mqtt_link import MqttLink
        self.link = MqttLink(self.master, broker, site, state_dir, self._print)

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
        """Wait up to timeout for bytes, feed them, tick the master (and the
        leases, and hand what is due to the MQTT link)."""
        ready, _, _ = select.select([self.port.fileno()], [], [], timeout)
        if ready:
            data = self.port.read(4096)
            if data:
                self.master.handle_bytes(data, ticks_ms())
        now = ticks_ms()
        self.master.tick(now)
        link = self.link
        if link is not None:
            gap = ticks_diff(now, self._pass_at)  # this pass, with its wait for bytes
            self._pass_at = now
            if gap > (link.hub.loop_max_ms or 0):
                link.hub.loop_max_ms = gap
            link.hub.bus_tick(now, self._utc(now))
            link.publish_pending(now)

    def _utc(self, now: int) -> int:
        """Unix seconds, read from the clock once a second, as each one begins."""
        if ticks_diff(now, self._utc_next) >= 0:
            t = time.time()
            self._utc_s = int(t)
            self._utc_next = ticks_add(now, 1000 - int(t % 1 * 1000))
        return self._utc_s

    def run_forever(self) -> int:
        """Run until Ctrl-C (0) or until the port fails (1)."""
        next_status = time.monotonic() + self.status_every
        self._print(f"master {self.master.id:04X} on {self.port.port}")
        if self.link is not None:
            self.link.start()
            self._pass_at = ticks_ms()
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
