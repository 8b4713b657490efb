"""The SolarEdge Modbus source against pymodbus's own TCP server holding SunSpec registers
made here (there is no recorded SolarEdge register dump)."""
from __future__ import annotations

import asyncio

import pytest
from meter_server import closed_port, read_once, read_registers, silent_port

from twcm.service.sources import SourceError, kinds
from twcm.service.sources.integrations.solaredge_modbus import (
    INVERTER, METER_MODEL, METERS, SolarEdgeModbus, SolarEdgeModbusOptions)


def u16(value: int) -> int:
    return value & 0xFFFF


def inverter(watts: int, w_sf: int, volts: int = 2312, v_sf: int = -1) -> list[int]:
    """16 registers from 40069: a three-phase inverter (model 103)."""
    words = [0] * 16
    words[0], words[1] = 103, 50
    words[10], words[13] = volts, u16(v_sf)
    words[14], words[15] = u16(watts), u16(w_sf)
    return words


def meter(watts: int, per_phase: tuple[int, int, int], amps: tuple[int, int, int],
          model: int = 203) -> list[int]:
    """23 registers of a meter model: power scale 0, current scale -2, volts 230.4."""
    words = [0] * 23
    words[0], words[1] = model, 105
    words[3:6] = amps
    words[6] = u16(-2)
    words[8], words[15] = 2304, u16(-1)
    words[18] = u16(watts)
    words[19:22] = [u16(w) for w in per_phase]
    return words


def read(regs: dict[int, list[int]], unit_id: int = 1, **options):
    return read_registers(lambda port: SolarEdgeModbus(SolarEdgeModbusOptions(
        host="127.0.0.1", port=port, timeout_s=2.0, **options)), regs, unit_id)


GRID = METERS[0] + METER_MODEL


def test_export_through_meter_1():
    # 4520 W from the inverter (452 × 10^1); the meter reads +3100 W: exporting.
    r = read({INVERTER: inverter(452, 1), GRID: meter(3100, (1000, 1050, 1050),
                                                      (435, 456, 456))})
    assert (r.generation_w, r.grid_import_w, r.consumption_w) == (4520.0, -3100.0, 1420.0)
    assert r.phase_amps == pytest.approx((-4.35, -4.56, -4.56))
    assert r.volts == pytest.approx(230.4)


def test_import_at_night_with_the_sign_turned_round():
    r = read({INVERTER: inverter(0, 0), GRID: meter(800, (300, 250, 250), (130, 109, 109))},
             export_positive=False)
    assert (r.generation_w, r.grid_import_w, r.consumption_w) == (0.0, 800.0, 800.0)
    assert r.phase_amps == pytest.approx((1.30, 1.09, 1.09))


def test_meter_2_and_a_single_phase_meter():
    at = METERS[1] + METER_MODEL
    r = read({INVERTER: inverter(1500, 0), at: meter(-200, (-200, 0, 0), (87, 0, 0), 201)},
             grid_meter=2)
    assert (r.grid_import_w, r.consumption_w, r.phase_amps) == (200.0, 1700.0, (0.87,))


def test_without_a_meter_the_inverter_alone():
    r = read({INVERTER: inverter(-32768, 0)}, grid_meter=0)
    assert (r.generation_w, r.grid_import_w, r.consumption_w, r.volts) == (
        None, None, None, pytest.approx(231.2))
    kind = kinds()["solaredge_modbus"]
    assert kind.roles(SolarEdgeModbusOptions(host="x", grid_meter=0)) == ("generation",)
    assert kind.roles(SolarEdgeModbusOptions(host="x")) == (
        "generation", "consumption", "grid")


@pytest.mark.parametrize("regs,words", [
    ({INVERTER: [1] + [0] * 15}, "register 40069 holds 1, not a SunSpec inverter"),
    ({INVERTER: inverter(452, 1), GRID: [0] * 23}, "the meter's model is 0, not a SunSpec"),
    ({INVERTER: inverter(452, 1)}, "refused registers 40188-40210 .Modbus exception 2"),
    ({INVERTER: inverter(452, 77)}, "scale factor 77: the registers are not SunSpec")])
def test_odd_registers_say_why(regs, words):
    with pytest.raises(SourceError, match=words):
        read(regs)


def test_a_refused_connection_is_a_clear_error():
    port = closed_port()
    with pytest.raises(SourceError, match=f"cannot connect to the inverter at "
                                          f"127.0.0.1:{port}"):
        read_once(SolarEdgeModbus(SolarEdgeModbusOptions(host="127.0.0.1", port=port,
                                                         timeout_s=1.0)))


def test_an_inverter_that_does_not_answer_is_a_clear_error():
    async def go():
        async with silent_port() as port:
            source = SolarEdgeModbus(SolarEdgeModbusOptions(host="127.0.0.1", port=port,
                                                            timeout_s=0.3))
            try:
                with pytest.raises(SourceError, match="no answer from the inverter .* "
                                                      "within 0.3 s"):
                    await source.read()
                assert source.modbus.client is None  # the next read connects afresh
            finally:
                await source.close()
    asyncio.run(go())
