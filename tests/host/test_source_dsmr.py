"""The DSMR P1 source on a pty: the test plays the meter, writing recorded telegrams to the
master end; the source reads the slave end as it would a USB P1 cable."""
from __future__ import annotations

import asyncio
import os
import time
import tty
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from dsmr_parser.parsers import TelegramParser
from meter_server import assert_expected, recorded

from twcm.service.sources import SourceError
from twcm.service.sources.integrations.dsmr import SERIAL, SPECS, Dsmr, DsmrOptions, parse

PACE_S = 0.05  # a real meter sends every 1 s (DSMR 5); the test runs faster


@contextmanager
def pty_pair() -> Iterator[tuple[int, str]]:
    """(master fd, slave path): write to the fd what the meter sends."""
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    os.set_blocking(master, False)
    try:
        yield master, os.ttyname(slave)
    finally:
        for fd in (master, slave):
            try:
                os.close(fd)
            except OSError:  # the test pulled the cable: closed already
                pass


async def send(master: int, *chunks: bytes, repeat: bool = False) -> None:
    """Write the chunks at the meter's (quickened) pace, once or over and over."""
    while True:
        for chunk in chunks:
            try:
                os.write(master, chunk)
            except BlockingIOError:  # nobody reads: a meter does not wait either
                pass
            await asyncio.sleep(PACE_S)
        if not repeat:
            return


async def until(check, timeout_s: float = 3.0):
    """Wait for check() to give something truthy; the last value it gave."""
    deadline = time.monotonic() + timeout_s
    while not (got := check()) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return got


def with_meter(test, *chunks: bytes, repeat: bool = True, **options):
    """Run `test(source, master, meter)` with `meter` (a task) writing `chunks` to the
    source's port from when it opens it."""
    with pty_pair() as (master, path):
        source = Dsmr(DsmrOptions(port=path, **options))

        async def go():
            meter = asyncio.create_task(send(master, *chunks, repeat=repeat))
            try:
                return await test(source, master, meter)
            finally:
                meter.cancel()
                await source.close()
        return asyncio.run(go())


def telegram(name: str) -> bytes:
    return recorded(f"dsmr/{name}")


@pytest.mark.parametrize("name", ["v5_import.txt", "v5_export.txt",
                                  "w_units_sagemcom_style.txt"])
def test_telegrams_give_the_recorded_grid_power(name):
    async def test(source, _master, _meter):
        return await source.read()
    before = time.time()
    reading = with_meter(test, telegram(name))
    assert_expected(reading, f"dsmr/{name}")
    assert before <= reading.at <= time.time()  # when it arrived: the framework's age
    assert reading.generation_w is None and reading.consumption_w is None


def test_phases_are_signed_by_direction_with_the_meters_own_amps():
    async def test(source, _master, _meter):
        return await source.read()
    imported = with_meter(test, telegram("v5_import.txt"))
    assert imported.phase_amps == (2.0, 1.0, 2.0)
    assert imported.volts == pytest.approx((230.1 + 229.8 + 231.0) / 3)
    exported = with_meter(test, telegram("v5_export.txt"))
    assert exported.phase_amps == (-3.0, -4.0, -3.0)
    sagemcom = with_meter(test, telegram("w_units_sagemcom_style.txt"))
    assert sagemcom.phase_amps is None and sagemcom.volts is None  # not in its telegram


def without(name: str, *codes: bytes) -> bytes:
    """A recorded telegram without the lines of `codes` (e.g. b":31.7.0"), CRC redone."""
    lines = telegram(name).split(b"!")[0].splitlines(True)
    body = b"".join(x for x in lines if not any(c in x for c in codes)) + b"!"
    return body + f"{TelegramParser.crc16(body.decode()):04X}\r\n".encode()


def parsed(text: bytes):
    return parse(TelegramParser(SPECS["5"]).parse(text.decode(), throw_ex=True), at=0.0)


def test_without_current_lines_amps_are_phase_power_over_voltage():
    text = without("v5_import.txt", b":31.7.0", b":51.7.0", b":71.7.0")

    async def test(source, _master, _meter):
        return await source.read()
    reading = with_meter(test, text)
    assert reading.grid_import_w == 1193
    assert reading.phase_amps == pytest.approx((512 / 230.1, 203 / 229.8, 478 / 231.0))


def test_a_one_phase_meter_gives_one_phase():
    reading = parsed(without("v5_export.txt", b":4", b":5", b":6", b":7"))
    assert reading.phase_amps == (-3.0,) and reading.volts == 240.4


def test_a_telegram_without_export_power_is_refused_not_taken_as_0():
    with pytest.raises(SourceError, match=r"no power received \(1-0:2.7.0\)"):
        parsed(without("v5_import.txt", b"1-0:2.7.0"))


def test_a_bad_crc_before_any_good_telegram_is_an_error_naming_the_crc():
    async def test(source, _master, _meter):
        with pytest.raises(SourceError, match="no valid telegram yet.*bad CRC"):
            await source.read()
        assert source.bad_crc >= 1
    with_meter(test, telegram("v5_bad_crc.txt"))


def test_a_bad_crc_keeps_the_previous_good_telegram(caplog):
    async def test(source, master, meter):
        good = await source.read()
        meter.cancel()
        await send(master, telegram("v5_bad_crc.txt"))  # 9193 W if it were believed
        assert await until(lambda: source.bad_crc == 1)
        assert await source.read() is good
        return good
    reading = with_meter(test, telegram("v5_import.txt"))
    assert_expected(reading, "dsmr/v5_import.txt")
    assert "dropped a telegram with a bad CRC (1 so far)" in caplog.text


def test_a_pulled_cable_is_an_error_while_the_last_reading_ages():
    async def test(source, master, meter):
        await source.read()
        meter.cancel()
        os.close(master)  # the meter's end is gone: reads on the port fail
        assert await until(lambda: source.port_error)
        with pytest.raises(SourceError, match="cannot read /dev/.*: "):
            await source.read()
        return source.latest
    assert_expected(with_meter(test, telegram("v5_import.txt")), "dsmr/v5_import.txt")


def test_noise_and_broken_telegrams_between_telegrams_are_skipped():
    export = telegram("v5_export.txt")
    noise = [b"\x00\xff\xfe garbage !\r\n", b"/ISk5\\2MT382-1000\r\n\r\n1-0:1.7.0(99.9",
             b"\x80\x81 line noise\r\n"]
    # the export telegram arrives in pieces, as a serial port hands it over
    pieces = [export[i:i + 97] for i in range(0, len(export), 97)]

    async def test(source, master, meter):
        await source.read()
        meter.cancel()
        await send(master, noise[0], *pieces[:3], noise[1], *pieces, noise[2])
        reading = await until(lambda: source.latest if source.latest.grid_import_w < 0
                              else None)
        assert source.problem is None and source.bad_crc == 0
        return reading
    reading = with_meter(test, telegram("v5_import.txt"))
    assert_expected(reading, "dsmr/v5_export.txt")


def test_a_port_that_does_not_exist_is_a_clear_error():
    source = Dsmr(DsmrOptions(port="/dev/ttyUSB_no_such_port"))

    async def go():
        try:
            with pytest.raises(SourceError, match="cannot read /dev/ttyUSB_no_such_port: "
                                                  "no such device"):
                await source.read()
        finally:
            await source.close()
    asyncio.run(go())


def test_a_silent_port_says_no_telegram_yet():
    async def test(source, _master, _meter):
        with pytest.raises(SourceError, match="no telegram yet from /dev/"):
            await source.read()
    with_meter(test, b"", repeat=False)


def test_options_give_the_versions_serial_settings_without_opening_the_port():
    source = Dsmr(DsmrOptions(port="/dev/ttyUSB_not_opened_here", version=4))
    assert (source.baudrate, source.framing) == SERIAL["4"] == (115200, "7E1")
    source = Dsmr(DsmrOptions(port="/dev/x", version="2.2", baudrate=19200))
    assert (source.baudrate, source.framing) == (19200, "7E1")
    assert Dsmr(DsmrOptions(port="/dev/x")).framing == "8N1"
    with pytest.raises(ValueError):
        DsmrOptions(port="/dev/x", version="6")
