# The RS-485 bus to the slave TWCs, opened from a board description
# (boards/*.json, loaded and checked by device/board.py).
#
#     bus = open_bus(board)        # or open_bus(board, path) on the sim board
#     n = bus.readinto(buf)        # bytes received since the last call; 0 if none; never waits
#     bus.write(view)              # one whole frame; returns once it has left the transceiver
#     bus.close()
#
# ESP32 (board "mcu": "esp32"): a machine.UART at 9600 baud, 8N1. If the board names a
# driver-enable pin (uart.de: DE and /RE of a MAX485/MAX3485 tied together), write() raises it,
# queues the bytes, waits with UART.flush() (MicroPython 1.20 or later) until the last stop bit
# has been shifted out, and lowers it again at once, so that the reply of the slave is heard.
# A frame is at most 42 bytes on the wire, so write() blocks for at most about 45 ms. Boards
# with an auto-direction transceiver have "de": null; write() still waits for the flush, so
# that the master's reply timer starts when the frame has been sent. Pins in uart.hold
# (transceiver power and shutdown lines) are driven to their level before the UART starts.
#
# Sim (board "mcu": "unix", MicroPython unix port): the bus is a serial device, normally a
# pty whose other end is the simulated TWCs (twcm sim), or a USB RS-485 adapter. Its path is,
# first found: the path argument, the TWCM_BUS environment variable, the board's uart.path.
# It is opened raw (no byte is translated, no flow control) at 9600 baud with VMIN = VTIME = 0,
# so that a read returns what is waiting and never waits itself.
#
# The buffers are the caller's: after open_bus() neither readinto() nor write() allocates.
# Anything that goes wrong raises OSError (from the port) or ValueError (from open_bus, naming
# the fix). UartBus takes the machine.UART and machine.Pin classes as arguments, so that the
# tests (tests/device/) can run it on the unix port with stand-ins.

BAUD = 9600
RXBUF = 512  # ESP32 driver's receive buffer: half a second of a busy bus

# Linux termios layout as returned by termios.tcgetattr on the unix port.
_IFLAG, _OFLAG, _CFLAG, _LFLAG, _ISPEED, _OSPEED, _CC = 0, 1, 2, 3, 4, 5, 6
_VTIME, _VMIN = 5, 6
_CSIZE, _CS8, _CSTOPB, _CREAD, _PARENB, _CLOCAL = 0o60, 0o60, 0o100, 0o200, 0o400, 0o4000


def open_bus(board, path=None):
    """Open the bus that the board (a dict from device/board.py) describes."""
    try:
        from machine import UART, Pin
    except ImportError:  # the MicroPython unix port: the sim board's serial device
        import os
        import termios

        if board["mcu"] != "unix":
            raise ValueError("board %s needs an ESP32 (machine.UART); on the unix port use "
                             "the sim board" % board["name"])
        path = path or os.getenv("TWCM_BUS") or board["uart"]["path"]
        if not path:
            raise ValueError("board %s: no serial device: set TWCM_BUS=/dev/pts/N (or give "
                             "uart.path in the board file)" % board["name"])
        return TtyBus(path, termios)
    if board["mcu"] != "esp32":
        raise ValueError("board %s is for the MicroPython unix port; on an ESP32 use an "
                         "ESP32 board file" % board["name"])
    return UartBus(board["uart"], UART, Pin)


class UartBus:
    """The bus on an ESP32 UART, with optional driver-enable pin."""

    def __init__(self, cfg, UART, Pin):
        self._hold = [Pin(h["pin"], Pin.OUT, value=h["value"]) for h in cfg["hold"]]
        self._de = None
        if cfg["de"] is not None:
            self._de = Pin(cfg["de"], Pin.OUT, value=0)  # receive until we send
        self._uart = UART(cfg["id"], baudrate=BAUD, bits=8, parity=None, stop=1,
                          tx=cfg["tx"], rx=cfg["rx"], rxbuf=RXBUF, timeout=0, timeout_char=0)

    def readinto(self, buf):
        return self._uart.readinto(buf) or 0  # None: nothing waiting

    def write(self, data):
        de = self._de
        if de is not None:
            de.value(1)
        try:
            self._uart.write(data)
            self._uart.flush()  # returns once the last stop bit is out
        finally:
            if de is not None:
                de.value(0)  # never leave the bus driven, even if flush timed out

    def close(self):
        self._uart.deinit()
        if self._de is not None:
            self._de.value(0)


class TtyBus:
    """The bus on a serial device of the host (unix port): a pty or a USB adapter."""

    def __init__(self, path, termios):
        f = open(path, "rb+")
        try:
            fd = f.fileno()
            termios.setraw(fd)
            a = termios.tcgetattr(fd)
            a[_IFLAG] = 0  # no CR/LF translation, no XON/XOFF, no parity marks
            a[_OFLAG] = 0
            a[_LFLAG] = 0
            a[_CFLAG] = (a[_CFLAG] & ~(_CSIZE | _CSTOPB | _PARENB)) | _CS8 | _CREAD | _CLOCAL
            a[_ISPEED] = a[_OSPEED] = termios.B9600
            a[_CC][_VMIN] = 0  # a read returns at once with what is there
            a[_CC][_VTIME] = 0
            termios.tcsetattr(fd, termios.TCSANOW, a)
        except BaseException:
            f.close()
            raise
        self._f = f

    def readinto(self, buf):
        return self._f.readinto(buf) or 0

    def write(self, data):
        self._f.write(data)

    def close(self):
        self._f.close()
