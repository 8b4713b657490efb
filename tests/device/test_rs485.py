"""The bus (device/rs485.py) on the MicroPython unix port: the sim board's over a real pty,
and the ESP32's (UartBus) with stand-ins for machine.UART and machine.Pin.

The unix port cannot make a pty pair, so tools/test makes one and passes both sides in:
TWCM_TEST_PTY is the path of the side the bus opens, TWCM_TEST_PTY_FD the file descriptor of
the other side (where the TWCs would be), inherited open. By hand, see tools/test, step
"tests/device".
"""
import gc
import os
import select
import time

from device import board, rs485

_here = __file__[: __file__.rfind("/")] if "/" in __file__ else "."
BOARDS = _here + "/../../boards"

PTY = os.getenv("TWCM_TEST_PTY")
_fd = os.getenv("TWCM_TEST_PTY_FD")
if not PTY or not _fd:
    raise RuntimeError("run by tools/test: it sets TWCM_TEST_PTY and TWCM_TEST_PTY_FD")
TWCS = open(int(_fd), "rb+")  # the far side of the bus
_poll = select.poll()
_poll.register(TWCS, select.POLLIN)
_one = bytearray(1)

# A master heartbeat as it goes on the wire (test vector F30: C0 escaped inside).
FRAME = bytes([0xC0, 0xFB, 0xE0, 0x77, 0x77, 0x24, 0x33, 0x09, 0x12, 0xDB, 0xDC, 0x00, 0x00,
               0x00, 0x00, 0x00, 0x00, 0x00, 0xC0])
ALL_BYTES = bytes(range(256))  # CR, LF, XON, XOFF, ^C, ^Z, DEL...: none may be translated


def _sim():
    b, errors = board.load("sim", BOARDS)
    assert errors == [], errors
    return b


def _open():
    bus = rs485.open_bus(_sim(), PTY)
    _drain(bus)
    return bus


def _drain(bus):
    # Whatever an earlier test left on either side.
    while _poll.poll(20):
        TWCS.readinto(_one)
    buf = bytearray(64)
    while bus.readinto(buf):
        pass


def _twcs_read(n, ms=2000):
    out = bytearray()
    while len(out) < n and _poll.poll(ms):
        TWCS.readinto(_one)  # one byte: a bigger read would wait to fill up
        out.append(_one[0])
    return bytes(out)


def _bus_read(bus, n, ms=2000):
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    deadline = time.ticks_add(time.ticks_ms(), ms)
    while got < n and time.ticks_diff(deadline, time.ticks_ms()) > 0:
        got += bus.readinto(view[got:])
        time.sleep_ms(1)
    return bytes(buf[:got])


def test_bytes_from_the_twcs_arrive_unchanged():
    bus = _open()
    try:
        TWCS.write(FRAME)
        TWCS.write(ALL_BYTES)
        assert _bus_read(bus, len(FRAME) + 256) == FRAME + ALL_BYTES
    finally:
        bus.close()


def test_written_bytes_reach_the_twcs_unchanged():
    bus = _open()
    try:
        bus.write(memoryview(FRAME))
        bus.write(memoryview(ALL_BYTES))
        assert _twcs_read(len(FRAME) + 256) == FRAME + ALL_BYTES
    finally:
        bus.close()


def test_readinto_never_waits():
    bus = _open()
    buf = bytearray(8)
    try:
        for _ in range(20):
            t = time.ticks_us()
            assert bus.readinto(buf) == 0
            assert time.ticks_diff(time.ticks_us(), t) < 20000
        TWCS.write(FRAME)  # more than the buffer holds: it comes in pieces
        assert _bus_read(bus, 8) == FRAME[:8]
        assert _bus_read(bus, len(FRAME) - 8) == FRAME[8:]
        t = time.ticks_us()
        assert bus.readinto(buf) == 0
        assert time.ticks_diff(time.ticks_us(), t) < 20000
    finally:
        bus.close()


def test_write_returns_within_a_frame_time():
    bus = _open()
    try:
        frame = memoryview(bytes(42))  # the longest frame on the wire
        t = time.ticks_ms()
        bus.write(frame)
        assert time.ticks_diff(time.ticks_ms(), t) < 45
        assert _twcs_read(42) == bytes(42)
    finally:
        bus.close()


def test_reads_and_writes_allocate_nothing():
    bus = _open()
    buf = bytearray(32)
    view = memoryview(buf)
    frame = memoryview(FRAME)
    try:
        bus.readinto(view)
        bus.write(frame)
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        i = 0
        while i < 20:
            bus.readinto(view)
            bus.write(frame)
            i += 1
        used = gc.mem_alloc() - before
        gc.enable()
        assert used == 0, used
        assert _twcs_read(21 * len(FRAME)) == FRAME * 21
    finally:
        gc.enable()
        bus.close()


def test_path_from_twcm_bus_when_the_board_has_none():
    sim = _sim()
    assert sim["uart"]["path"] is None
    os.putenv("TWCM_BUS", PTY)
    try:
        bus = rs485.open_bus(sim)
    finally:
        os.unsetenv("TWCM_BUS")
    try:
        _drain(bus)
        bus.write(memoryview(FRAME))
        assert _twcs_read(len(FRAME)) == FRAME
    finally:
        bus.close()
    try:
        rs485.open_bus(sim)
    except ValueError as e:
        assert "TWCM_BUS" in str(e), e
    else:
        assert False, "opened a bus without a path"


def test_missing_device_raises_oserror():
    try:
        rs485.open_bus(_sim(), "/dev/twcm-no-such-tty")
    except OSError:
        pass
    else:
        assert False, "opened a device that does not exist"


def test_esp32_board_is_refused_on_the_unix_port():
    b, errors = board.load("esp32-devkitc-max3485", BOARDS)
    assert errors == [], errors
    try:
        rs485.open_bus(b, PTY)
    except ValueError as e:
        assert "unix port" in str(e) and "sim" in str(e), e
    else:
        assert False, "opened an ESP32 board's bus on the unix port"


# The ESP32 side (UartBus), with stand-ins for machine.UART and machine.Pin that log each call.

class _Log:
    calls = []
    fail_flush = False


class _Pin:
    OUT = 3

    def __init__(self, n, mode, value=None):
        assert mode == _Pin.OUT
        self.n = n
        _Log.calls.append(("pin", n, value))

    def value(self, v):
        _Log.calls.append(("set", self.n, v))


class _UART:
    def __init__(self, uart_id, **kw):
        _Log.calls.append(("uart", uart_id, kw["baudrate"], kw["bits"], kw["parity"], kw["stop"],
                           kw["tx"], kw["rx"], kw["timeout"]))

    def write(self, data):
        _Log.calls.append(("write", bytes(data)))
        return len(data)

    def flush(self):
        _Log.calls.append(("flush",))
        if _Log.fail_flush:
            raise OSError(116)  # ETIMEDOUT

    def readinto(self, buf):
        return None  # what the ESP32 port returns when nothing is waiting

    def deinit(self):
        _Log.calls.append(("deinit",))


def _uart_bus(name):
    b, errors = board.load(name, BOARDS)
    assert errors == [], errors
    _Log.calls = []
    _Log.fail_flush = False
    return rs485.UartBus(b["uart"], _UART, _Pin)


def test_uart_bus_drives_de_only_while_sending():
    bus = _uart_bus("esp32-devkitc-max3485")
    assert _Log.calls == [("pin", 4, 0), ("uart", 2, 9600, 8, None, 1, 17, 16, 0)]
    _Log.calls = []
    bus.write(memoryview(FRAME))
    assert _Log.calls == [("set", 4, 1), ("write", FRAME), ("flush",), ("set", 4, 0)]
    assert bus.readinto(bytearray(4)) == 0
    _Log.calls = []
    bus.close()
    assert _Log.calls == [("deinit",), ("set", 4, 0)]


def test_uart_bus_releases_de_when_flush_fails():
    bus = _uart_bus("esp32-devkitc-max3485")
    _Log.calls = []
    _Log.fail_flush = True
    try:
        bus.write(memoryview(FRAME))
    except OSError:
        pass
    else:
        assert False, "flush error swallowed"
    assert _Log.calls[-1] == ("set", 4, 0)


def test_uart_bus_auto_direction_holds_its_pins_first():
    bus = _uart_bus("lilygo-t-can485")
    assert _Log.calls == [("pin", 16, 1), ("pin", 19, 1), ("pin", 17, 1),
                          ("uart", 2, 9600, 8, None, 1, 22, 21, 0)]
    _Log.calls = []
    bus.write(memoryview(FRAME))
    assert _Log.calls == [("write", FRAME), ("flush",)]  # no DE; still waits for the wire
