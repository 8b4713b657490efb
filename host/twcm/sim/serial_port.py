"""Simulated slaves on a real serial device, in real time.

SerialSlaves reads whatever has arrived (waiting at most POLL_S), feeds it
with the monotonic time in ms to every slave, ticks them and writes their
replies, so that `twcm master` on the far end of a serial link (or of a
PtyLink) sees slave TWCs. The slaves also hear one another, as on a real
bus. No baud rate is simulated: a pty moves bytes at once.

PtyLink joins two pseudo-terminals back to back with a forwarding thread,
like a null-modem cable, for tests and demos without socat. Two ptys, not
one, because only the slave end of a pty has a device path (the master end
is a bare fd from openpty), while both `twcm master` and `twcm sim` open a
port by path with pyserial, which needs a tty it can set termios on.
"""
from __future__ import annotations

import os
import select
import selectors
import threading
import time
import tty
from typing import Any

import serial

from twcm.sim.slave import SimSlave

POLL_S = 0.005  # longest wait for input before the slaves are ticked


class SerialSlaves:
    """Up to three SimSlaves sharing one serial port.

    The port is opened non-blocking (timeout=0), as twcm.master.serial.open_port
    does.
    """

    def __init__(self, port: serial.Serial) -> None:
        self.port = port
        self.slaves: list[SimSlave] = []
        self._t0 = time.monotonic()

    def now(self) -> int:
        """Milliseconds since start: the slaves' time."""
        return int((time.monotonic() - self._t0) * 1000)

    def add_slave(self, **options: Any) -> SimSlave:
        """A new SimSlave on the port; options go to SimSlave."""
        slave: SimSlave

        def send(data: bytes) -> None:
            self.port.write(data)
            now = self.now()
            for other in self.slaves:
                if other is not slave:
                    other.handle_bytes(data, now)

        slave = SimSlave(send, now_ms=self.now(), **options)
        self.slaves.append(slave)
        return slave

    def poll(self) -> None:
        """Read what has arrived (waiting up to POLL_S), then tick every slave."""
        ready, _, _ = select.select([self.port.fileno()], [], [], POLL_S)
        data = self.port.read(4096) if ready else b""
        now = self.now()
        for s in self.slaves:
            if data:
                s.handle_bytes(data, now)
            s.tick(now)


class PtyLink:
    """Two connected pty device paths, a and b: what one writes the other reads."""

    def __init__(self) -> None:
        self._ends = [os.openpty(), os.openpty()]  # (master fd, slave fd) each
        for _, slave_fd in self._ends:
            # Raw at once: bytes written before a program opens the path must
            # not be echoed back or edited by the line discipline. The slave
            # fds stay open so that the ptys outlive their users.
            tty.setraw(slave_fd)
        self.a = os.ttyname(self._ends[0][1])
        self.b = os.ttyname(self._ends[1][1])
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._pump, name="ptylink", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        ma, mb = self._ends[0][0], self._ends[1][0]
        other = {ma: mb, mb: ma}
        with selectors.DefaultSelector() as sel:
            sel.register(ma, selectors.EVENT_READ)
            sel.register(mb, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while True:
                for key, _ in sel.select():
                    if key.fd == self._wake_r:
                        return
                    data = os.read(key.fd, 4096)
                    while data:
                        data = data[os.write(other[key.fd], data):]

    def close(self) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join()
        for fd in (self._wake_r, self._wake_w, *(fd for end in self._ends for fd in end)):
            os.close(fd)

    def __enter__(self) -> PtyLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
