"""The Kostal source against pymodbus's own TCP server holding the recorded registers."""
from __future__ import annotations

import asyncio
import json

import pytest
from meter_server import (assert_expected, closed_port, read_once, read_registers, recorded,
                          silent_port)

from twcm.service.sources import SourceError
from twcm.service.sources.integrations.kostal import Kostal, KostalOptions, float32

FIXTURES = ["holding_registers_little_endian_export.json",
            "holding_registers_big_endian_battery_night.json"]


def registers(name: str, without: tuple[int, ...] = ()) -> dict[int, list[int]]:
    doc = json.loads(recorded(f"kostal/{name}"))
    return {int(k): v for k, v in doc["registers"].items() if int(k) not in without}


def read(regs: dict[int, list[int]], unit_id: int = 71, **options):
    return read_registers(lambda port: Kostal(KostalOptions(
        host="127.0.0.1", port=port, timeout_s=2.0, **options)), regs, unit_id)


@pytest.mark.parametrize("name", FIXTURES)
def test_recorded_registers_give_the_recorded_readings(name):
    reading = read(registers(name))
    assert_expected(reading, f"kostal/{name}")


def test_consumption_includes_what_the_battery_gives_the_house():
    night = read(registers(FIXTURES[1]))
    assert night.consumption_w == pytest.approx(650.0 + 210.5)  # 106 + 108 + 116
    assert night.battery_w == 650.0  # discharging into the house
    day = read(registers(FIXTURES[0]))
    assert day.battery_w is None  # not discharging: charging or resting, unknown


def test_a_configured_byte_order_does_not_need_register_5():
    reading = read(registers(FIXTURES[0], without=(5,)), byte_order="CDAB")
    assert_expected(reading, f"kostal/{FIXTURES[0]}")


def test_without_a_battery_the_soc_is_neither_read_nor_given():
    reading = read(registers(FIXTURES[1], without=(514,)), battery=False)
    assert reading.battery_soc is None
    assert reading.grid_import_w == pytest.approx(210.5)


def test_a_modbus_exception_names_the_register_and_the_exception():
    with pytest.raises(SourceError, match=r"refused register 252 \(Modbus exception 2: "
                                          r"illegal data address\)"):
        read(registers(FIXTURES[0], without=(252,)))


def test_an_odd_byte_order_register_asks_for_the_option():
    regs = registers(FIXTURES[0])
    regs[5] = [7]
    with pytest.raises(SourceError, match='register 5 .* not 0 or 1: set `byte_order'):
        read(regs)


def test_a_refused_connection_is_a_clear_error():
    port = closed_port()
    with pytest.raises(SourceError, match=f"cannot connect to the inverter at "
                                          f"127.0.0.1:{port}"):
        read_once(Kostal(KostalOptions(host="127.0.0.1", port=port, timeout_s=1.0)))


def test_an_inverter_that_does_not_answer_is_a_clear_error():
    async def go():
        async with silent_port() as port:
            source = Kostal(KostalOptions(host="127.0.0.1", port=port, timeout_s=0.3))
            try:
                with pytest.raises(SourceError, match=f"no answer from the inverter at "
                                                      f"127.0.0.1:{port} within 0.3 s"):
                    await source.read()
                assert source.modbus.client is None  # the next read connects afresh
            finally:
                await source.close()
    asyncio.run(go())


def test_words_in_either_order():
    assert float32([6963, 17824], "CDAB") == pytest.approx(5123.4, abs=0.001)
    assert float32([17824, 6963], "ABCD") == pytest.approx(5123.4, abs=0.001)
