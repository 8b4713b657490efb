# One pass of a master's bus loop, the same in every runtime: the ESP32's
# bus thread (device/app.py), `twcm master` on a serial port, the demo.
#
#     loop = BusLoop(master, hub, utc)   # hub None: no MQTT side
#     while running:                     # as often as can be
#         now = ticks_ms()
#         n = uart.readinto(buf)
#         loop.step(now, buf, n)     # bytes -> master, tick, leases
#
# A runtime whose master is fed and ticked elsewhere (a simulated bus that
# runs the master itself) calls loop.leases(now) after it instead.
#
# utc() gives Unix seconds; it is read once a second, as each second
# begins if it returns a float (a host's time.time), else a second after
# the last read. Each pass but the first measures the time since the start
# of the last one: the longest is hub.loop_max_ms (the state's). A pass
# allocates nothing but what the master and the leases do (nothing in the
# steady state: bench/core_alloc.py) and what utc() returns.
from twc.ticks import ticks_add, ticks_diff


class BusLoop:
    def __init__(self, master, hub, utc):
        self.master = master
        self.hub = hub
        self.utc = utc
        self.utc_s = None  # Unix seconds of the last read; None before it
        self._started = False
        self._last = 0  # the start of the last pass
        self._next_utc = 0
        self._longest = 0

    def step(self, now, data=None, n=0):
        """One pass at now (ticks, read as the pass begins): the first n
        bytes of data to the master, its tick, then leases(now)."""
        if n:
            self.master.handle_bytes(data, now, n)
        self.master.tick(now)
        self.leases(now)

    def leases(self, now):
        """The rest of a pass: measure it, read the clock when due, and run
        the leases (expiry, schedule, fallback). Without a hub, nothing."""
        hub = self.hub
        if hub is None:
            return
        if self._started:
            gap = ticks_diff(now, self._last)
            if gap > self._longest:
                self._longest = gap
                hub.loop_max_ms = gap
        else:  # the first pass: no gap yet, the clock is read now
            self._started = True
            self._next_utc = now
        self._last = now
        if ticks_diff(now, self._next_utc) >= 0:
            t = self.utc()
            wait = 1000
            if isinstance(t, float):
                s = int(t)
                wait -= int((t - s) * 1000)
                t = s
            self.utc_s = t
            self._next_utc = ticks_add(now, wait)
        hub.bus_tick(now, self.utc_s)
