"""`type = "kostal"`: a Kostal Plenticore or PIKO IQ inverter over Modbus TCP.

Holding registers (function 3) of unit 71 on port 1502; each power is an IEEE float32 in
two registers, whose word order the inverter reports in register 5 (0: low word first,
"CDAB", the factory setting; 1: high word first, "ABCD", the SunSpec choice):

- 100: total DC power, the solar output;
- 106 + 108 + 116: the house's consumption from the battery, the grid and the sun;
- 252: the power meter at the grid connection, negative while feeding in;
- 514: battery state of charge in % (a plain 16-bit number).

The battery's own power is not in this map. Register 106 says what it gives the house,
so while it discharges into the house that is its power; while it charges or rests it is
unknown (None), never 0 W.
"""
from __future__ import annotations

import math
import struct
from typing import Literal

from pydantic import Field

from twcm.service.sources import Options, Reading, SourceError, register
from twcm.service.sources.modbus import ModbusTcp

BYTE_ORDER_REG = 5
GENERATION, FROM_BATTERY, FROM_GRID, FROM_PV, GRID = 100, 106, 108, 116, 252
SOC = 514
ORDERS = {0: "CDAB", 1: "ABCD"}  # register 5's value → word order


class KostalOptions(Options):
    """host: the inverter's address, e.g. "192.168.1.30"; Modbus TCP must be on in its
    web interface (Settings → Modbus / SunSpec)."""

    host: str = Field(min_length=1)
    port: int = Field(1502, ge=1, le=65535)
    unit_id: int = Field(71, ge=0, le=255)
    byte_order: Literal["auto", "CDAB", "ABCD"] = "auto"
    battery: bool = True
    timeout_s: float = Field(3.0, gt=0, le=30)


def float32(words: list[int], order: str) -> float:
    """Two registers as a float; "CDAB": the low word comes first."""
    if len(words) != 2:
        raise SourceError(f"the inverter gave {len(words)} registers for a float, not 2")
    high, low = (words[1], words[0]) if order == "CDAB" else (words[0], words[1])
    return struct.unpack(">f", struct.pack(">HH", high, low))[0]


def parse(registers: dict[int, list[int]], order: str) -> Reading:
    """The readings in the registers read (by start address); SOC only if it was read."""
    def power(reg: int) -> float:
        value = float32(registers[reg], order)
        if not math.isfinite(value):
            raise SourceError(f"register {reg} holds {value}, not a power: is `byte_order` "
                              "right?")
        return value

    from_battery = power(FROM_BATTERY)
    soc = registers.get(SOC)
    return Reading(generation_w=power(GENERATION),
                   consumption_w=from_battery + power(FROM_GRID) + power(FROM_PV),
                   grid_import_w=power(GRID),
                   battery_w=from_battery if from_battery > 0 else None,
                   battery_soc=None if soc is None else float(soc[0]))


def byte_order(words: list[int]) -> str:
    """The word order register 5 announces."""
    try:
        return ORDERS[words[0]]
    except (KeyError, IndexError):
        raise SourceError(f"register 5 (byte order) holds {words}, not 0 or 1: set "
                          '`byte_order = "CDAB"` or "ABCD"') from None


class Kostal:
    def __init__(self, o: KostalOptions) -> None:
        self.o = o
        self.modbus = ModbusTcp(
            o.host, o.port, o.unit_id, o.timeout_s,
            unreachable="is it on, Modbus TCP switched on, the port right?",
            refused=f"is it a Plenticore or PIKO IQ, unit id {o.unit_id}?")

    async def read(self) -> Reading:
        order = self.o.byte_order
        if order == "auto":
            order = byte_order(await self._register(BYTE_ORDER_REG, 1))
        wanted = [(reg, 2) for reg in (GENERATION, FROM_BATTERY, FROM_GRID, FROM_PV, GRID)]
        if self.o.battery:
            wanted.append((SOC, 1))
        return parse({reg: await self._register(reg, n) for reg, n in wanted}, order)

    async def _register(self, address: int, count: int) -> list[int]:
        return await self.modbus.registers(address, count, f"register {address}")

    async def close(self) -> None:
        self.modbus.close()


register("kostal", KostalOptions, Kostal, interval_s=2.0, min_interval_s=1.0,
         roles=lambda o: ("generation", "consumption", "grid")
         + (("battery",) if o.battery else ()))
