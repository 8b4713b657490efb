"""`type = "solaredge_modbus"`: a SolarEdge inverter over Modbus TCP (SunSpec registers).

Holding registers, addresses from 0 (SolarEdge's SunSpec note counts from 40001). Each
value is an int16 times ten to the power of its scale-factor register; -32768 means
"not implemented":

- 40069: the inverter model, 101-103 (single, split, three phase); from 40071 the AC
  current, voltages from 40076 (40079: phase A to neutral, scale 40082), AC power 40083
  (scale 40084): the inverter's output.
- Meters 1-3 at 40121, 40295, 40469; 67 registers on, their model (201-204): currents
  from +3 (scale +6), phase A voltage +8 (scale +15), total power +18, per phase +19..21
  (scale +22). A meter at the grid connection reads positive while exporting, as
  SolarEdge sets it up (not checked on every model: `export_positive` turns it round).

The inverter answers one Modbus TCP client at a time.
"""
from __future__ import annotations

import math

from pydantic import Field

from twcm.service.sources import Options, Reading, SourceError, register
from twcm.service.sources.modbus import ModbusTcp

INVERTER = 40069
METERS = (40121, 40295, 40469)
METER_MODEL = 67  # from a meter's common block to its meter model
PHASES = {201: 1, 202: 2, 203: 3, 204: 3}  # meter model → phases
NOT_IMPLEMENTED = -32768


class SolarEdgeModbusOptions(Options):
    """host: the inverter's address; Modbus TCP must be on (SetApp → Site Communication
    → Modbus TCP)."""

    host: str = Field(min_length=1)
    port: int = Field(1502, ge=1, le=65535)
    unit_id: int = Field(1, ge=0, le=247)
    grid_meter: int = Field(1, ge=0, le=3)  # 0: none
    export_positive: bool = True
    timeout_s: float = Field(3.0, gt=0, le=30)


def int16(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


def scaled(words: list[int], at: int, sf_at: int, what: str) -> float | None:
    """words[at] × 10^words[sf_at], both int16; None if either is not implemented."""
    value, sf = int16(words[at]), int16(words[sf_at])
    if value == NOT_IMPLEMENTED or sf == NOT_IMPLEMENTED:
        return None
    if not -10 <= sf <= 10:
        raise SourceError(f"{what} has the scale factor {sf}: the registers are not SunSpec")
    return value * 10.0 ** sf


def parse_inverter(words: list[int]) -> Reading:
    """The inverter's output from 16 registers at 40069."""
    if words[0] not in (101, 102, 103):
        raise SourceError(f"register {INVERTER} holds {words[0]}, not a SunSpec inverter "
                          "model (101-103): is it a SolarEdge inverter, the unit id right?")
    power = scaled(words, 14, 15, "the AC power")
    return Reading(generation_w=None if power is None else max(0.0, power),
                   volts=scaled(words, 10, 13, "the voltage"))


def parse_meter(words: list[int], export_positive: bool = True) -> Reading:
    """The grid from 23 registers of a meter model (+67 from its block)."""
    phases = PHASES.get(words[0])
    if phases is None:
        raise SourceError(f"the meter's model is {words[0]}, not a SunSpec meter (201-204): "
                          "is a meter connected there (grid_meter)?")
    sign = -1.0 if export_positive else 1.0  # ours: positive importing
    power = scaled(words, 18, 22, "the meter's power")
    amps: list[float] = []
    for n in range(phases):
        current = scaled(words, 3 + n, 6, f"the meter's current on phase {n + 1}")
        phase_w = scaled(words, 19 + n, 22, f"the meter's power on phase {n + 1}")
        if current is None or phase_w is None:
            break
        amps.append(math.copysign(abs(current), sign * phase_w))
    return Reading(grid_import_w=None if power is None else sign * power,
                   phase_amps=tuple(amps) if len(amps) == phases else None,
                   volts=scaled(words, 8, 15, "the meter's voltage"))


class SolarEdgeModbus:
    def __init__(self, o: SolarEdgeModbusOptions) -> None:
        self.o = o
        self.modbus = ModbusTcp(
            o.host, o.port, o.unit_id, o.timeout_s,
            unreachable="Modbus TCP on, the port right, no other client connected?",
            refused=f"is the unit id {o.unit_id} right?")

    async def read(self) -> Reading:
        o = self.o
        inverter = parse_inverter(await self.modbus.registers(INVERTER, 16))
        if not o.grid_meter:
            return inverter
        at = METERS[o.grid_meter - 1] + METER_MODEL
        grid = parse_meter(await self.modbus.registers(at, 23), o.export_positive)
        gen, imp = inverter.generation_w, grid.grid_import_w
        # The house takes what the inverter gives plus what the grid gives.
        house = None if gen is None or imp is None else max(0.0, gen + imp)
        return Reading(generation_w=gen, consumption_w=house, grid_import_w=imp,
                       phase_amps=grid.phase_amps,
                       volts=inverter.volts if grid.volts is None else grid.volts)

    async def close(self) -> None:
        self.modbus.close()


register("solaredge_modbus", SolarEdgeModbusOptions, SolarEdgeModbus, interval_s=2.0,
         min_interval_s=1.0,
         roles=lambda o: ("generation",) if not o.grid_meter
         else ("generation", "consumption", "grid"))
