# Millisecond ticks that wrap, as MicroPython's time.ticks_* do.
#
# The core never stores absolute times as growing integers: on a 32-bit
# MicroPython port an int above 2**30 is a heap object, and the device runs
# for months. Every stored time is a wrapped tick and every comparison goes
# through ticks_diff. Under CPython the same arithmetic is done in Python,
# with the ESP32's period.
try:
    from time import ticks_ms, ticks_diff, ticks_add

    PERIOD = ticks_add(0, -1) + 1  # 2**30 on 32-bit ports, more on 64-bit
except ImportError:
    import time

    PERIOD = 1 << 30
    _MASK = PERIOD - 1
    _HALF = PERIOD >> 1

    def ticks_ms():
        return int(time.monotonic() * 1000) & _MASK

    def ticks_diff(a, b):
        d = (a - b) & _MASK
        return d - PERIOD if d >= _HALF else d

    def ticks_add(a, d):
        return (a + d) & _MASK
