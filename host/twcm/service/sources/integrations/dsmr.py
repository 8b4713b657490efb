"""`type = "dsmr"`: a Dutch or Belgian smart meter's P1 port, read over a USB P1 cable.

The meter pushes a telegram every second (DSMR 5) or ten seconds (DSMR 2.2 to 4); nobody
asks for it. A background thread opens the port on the first read(), keeps reading, and
keeps the latest good telegram; read() hands that out with `at` = when it arrived, so the
framework sees its age. A telegram whose CRC does not match (DSMR 4 and 5) is dropped
with a warning and the previous good one stays. dsmr-parser splits the lines; the units
("kW" on most meters, "W" on Sagemcom T210-D-R style meters) are honoured.

A P1 meter sees only the grid connection: it gives grid power (import minus export),
per phase where the telegram has it, and the mains voltage; never generation or load.
"""
from __future__ import annotations

import asyncio
import errno
import logging
import os
import threading
import time
from decimal import Decimal
from typing import Any, Literal

import serial
from dsmr_parser import obis_references as obis
from dsmr_parser import telegram_specifications as specs
from dsmr_parser.clients.telegram_buffer import TelegramBuffer
from dsmr_parser.exceptions import InvalidChecksumError, ParseError
from dsmr_parser.parsers import TelegramParser
from pydantic import Field, field_validator

from twcm.service.sources import Options, Reading, SourceError, register
from twcm.service.sources.values import number, unit_factor

log = logging.getLogger("twcm.sources.dsmr")

SPECS = {"2.2": specs.V2_2, "3": specs.V3, "4": specs.V4, "5": specs.V5}
# (baud, framing) by DSMR version, as dsmr-parser's serial settings give them
SERIAL = {"2.2": (9600, "7E1"), "3": (9600, "7E1"), "4": (115200, "7E1"),
          "5": (115200, "8N1")}
PHASES = (  # import power, export power, current, voltage of L1, L2, L3
    (obis.INSTANTANEOUS_ACTIVE_POWER_L1_POSITIVE, obis.INSTANTANEOUS_ACTIVE_POWER_L1_NEGATIVE,
     obis.INSTANTANEOUS_CURRENT_L1, obis.INSTANTANEOUS_VOLTAGE_L1),
    (obis.INSTANTANEOUS_ACTIVE_POWER_L2_POSITIVE, obis.INSTANTANEOUS_ACTIVE_POWER_L2_NEGATIVE,
     obis.INSTANTANEOUS_CURRENT_L2, obis.INSTANTANEOUS_VOLTAGE_L2),
    (obis.INSTANTANEOUS_ACTIVE_POWER_L3_POSITIVE, obis.INSTANTANEOUS_ACTIVE_POWER_L3_NEGATIVE,
     obis.INSTANTANEOUS_CURRENT_L3, obis.INSTANTANEOUS_VOLTAGE_L3),
)
FIRST_WAIT_S = 1.5  # the first read() waits this long for the port to open and talk
RETRY_S = 5.0  # after the port failed (cable pulled), open it again this often
MAX_JUNK = 65536  # this many characters without a telegram: wrong version or baud rate
_SEVEN_BITS = bytes(range(128)) * 2  # P1 is ASCII: bit 7 is a parity bit or noise


class DsmrOptions(Options):
    """port: the serial device of the P1 cable, e.g. "/dev/ttyUSB0"."""

    port: str = Field(min_length=1)
    version: Literal["2.2", "3", "4", "5"] = "5"
    baudrate: int | None = Field(None, gt=0)
    framing: Literal["8N1", "7E1"] | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, v: Any) -> Any:
        """`version = 5` and `version = 2.2` mean the same as the strings."""
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


def _value(item: Any, what: str) -> float | None:
    """A line's number; None if the telegram has no such line."""
    if item is None:
        return None
    return number(float(item.value) if isinstance(item.value, Decimal) else item.value, what)


def _watts(item: Any, what: str) -> float | None:
    """A power line's value in W, honouring its unit ("kW" or "W")."""
    value = _value(item, what)
    return None if value is None else value * unit_factor(item.unit or "kW", what)


def _phase_amps(telegram: Any, p_in: str, p_out: str, current: str,
                volts: float | None) -> float | None:
    """One phase's signed current; None without its import and export power lines."""
    w_in = _watts(telegram.get(p_in), "phase power delivered")
    w_out = _watts(telegram.get(p_out), "phase power received")
    if w_in is None or w_out is None:
        return None
    net = w_in - w_out
    amps = _value(telegram.get(current), "phase current")
    if amps is None:
        if not volts:
            return None
        amps = net / volts
    return -abs(amps) if net < 0 else abs(amps)


def parse(telegram: Any, at: float) -> Reading:
    """The grid readings in a parsed telegram (a dsmr-parser Telegram) received at `at`.

    Grid power is 1.7.0 (delivered to the house) minus 2.7.0 (received from it).
    Per phase, the sign comes from the phase's import minus export; the amps are the
    meter's own current (31.7.0, ...: whole amps on Dutch meters) when the telegram has
    it, else that phase's power over its voltage. Volts: the mean of the phase voltages."""
    imp = _watts(telegram.get(obis.CURRENT_ELECTRICITY_USAGE), "power delivered (1.7.0)")
    exp = _watts(telegram.get(obis.CURRENT_ELECTRICITY_DELIVERY), "power received (2.7.0)")
    if imp is None:
        raise SourceError("the telegram has no power delivered (1-0:1.7.0)")
    if exp is None:
        raise SourceError("the telegram has no power received (1-0:2.7.0)")
    volts = [_value(telegram.get(voltage), "phase voltage") for *_, voltage in PHASES]
    amps = [_phase_amps(telegram, p_in, p_out, current, v)
            for (p_in, p_out, current, _), v in zip(PHASES, volts)]
    while amps and amps[-1] is None:  # a one-phase meter has only L1 lines
        amps.pop()
    phases = tuple(a for a in amps if a is not None)
    known = [v for v in volts if v is not None]
    return Reading(grid_import_w=imp - exp,
                   phase_amps=phases if phases and len(phases) == len(amps) else None,
                   volts=sum(known) / len(known) if known else None, at=at)


class Dsmr:
    def __init__(self, o: DsmrOptions) -> None:
        self.port = o.port
        baud, framing = SERIAL[o.version]
        self.baudrate = o.baudrate or baud
        self.framing = o.framing or framing
        self.parser = TelegramParser(SPECS[o.version])
        self.latest: Reading | None = None
        self.port_error: str | None = None  # the port cannot be read now
        self.problem: str | None = None  # why the last telegram was not used
        self.bad_crc = 0  # telegrams dropped for a bad CRC
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def read(self) -> Reading:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"dsmr {self.port}",
                                            daemon=True)
            self._thread.start()
            deadline = time.monotonic() + FIRST_WAIT_S
            while (self.latest is None and self.port_error is None
                   and time.monotonic() < deadline):
                await asyncio.sleep(0.05)
        if self.port_error is not None:
            raise SourceError(self.port_error)
        if self.latest is not None:
            return self.latest
        if self.problem is not None:
            raise SourceError(f"no valid telegram yet from {self.port}: {self.problem}")
        raise SourceError(f"no telegram yet from {self.port} (is the cable in the meter's "
                          "P1 port, and the port switched on?)")

    async def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 2.0)

    def _run(self) -> None:
        """Read the port until close(); open it again RETRY_S after it fails."""
        while not self._stop.is_set():
            try:
                with serial.Serial(self.port, self.baudrate,
                                   bytesize=7 if self.framing == "7E1" else 8,
                                   parity="E" if self.framing == "7E1" else "N",
                                   timeout=0.2, exclusive=True) as link:
                    self.port_error = None
                    self._pump(link)
            except (serial.SerialException, OSError) as e:
                self.port_error = f"cannot read {self.port}: {_cause(e)}"
                log.debug("%s", self.port_error)
            self._stop.wait(RETRY_S)

    def _pump(self, link: serial.Serial) -> None:
        buffer, junk = TelegramBuffer(), 0
        while not self._stop.is_set():
            data = link.read(max(1, link.in_waiting))
            if not data:
                continue
            buffer.append(data.translate(_SEVEN_BITS).decode("ascii"))
            junk += len(data)
            for telegram in buffer.get_all():
                junk = 0
                self._take(telegram)
            if junk > MAX_JUNK:
                buffer, junk = TelegramBuffer(), 0
                self.problem = (f"{MAX_JUNK} characters without a telegram: is `version` "
                                f"(or `baudrate`) right? reading at {self.baudrate} baud")

    def _take(self, text: str) -> None:
        """Keep one telegram's readings, or say why it was dropped (a warning for the
        first dropped after a good one: a bad cable would otherwise log every second)."""
        received = time.time()
        level = logging.WARNING if self.problem is None else logging.DEBUG
        try:
            reading = parse(self.parser.parse(text, throw_ex=True), received)
        except InvalidChecksumError:
            self.bad_crc += 1
            self.problem = f"{self.bad_crc} dropped with a bad CRC (a loose or long cable?)"
            log.log(level, "%s: dropped a telegram with a bad CRC (%d so far)", self.port,
                    self.bad_crc)
            return
        except (ParseError, SourceError, ValueError) as e:
            self.problem = f"an unreadable telegram: {e}"
            log.log(level, "%s: dropped %s", self.port, self.problem)
            return
        self.latest, self.problem = reading, None


def _cause(e: Exception) -> str:
    """What went wrong with the port, in a user's words (pyserial repeats itself)."""
    errno_ = getattr(e, "errno", None)
    if errno_ == errno.ENOENT:
        return "no such device (is the P1 cable plugged in? see ls /dev/serial/by-id/)"
    if errno_ in (errno.EACCES, errno.EPERM):
        return "permission denied (the service's user needs to be in the dialout group)"
    if errno_ is not None:
        return os.strerror(errno_).lower()
    return str(e) or type(e).__name__


register("dsmr", DsmrOptions, Dsmr, interval_s=1.0, min_interval_s=1.0, roles=("grid",))
