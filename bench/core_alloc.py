# Allocation and speed of the master core, on MicroPython (run it with
# bench/run on the WebAssembly port: 32-bit like the ESP32).
#
# Three protocol-2 slaves are linked, their cars charging; then the master
# runs in simulated time, each heartbeat answered at once with a prebuilt
# reply. Prints bytes allocated per heartbeat cycle (one heartbeat and one
# reply per slave), per received frame, and the time per received frame.
# Then the same through a whole pass of the bus loop as the ESP32 runs it
# (twc/busloop.py: the master, a Hub with its leases, a live site lease),
# each reply fed at the next pass.
import gc
import sys
import time

from twc import frame, hub, master, proto, share
from twc.busloop import BusLoop

IDS = (0x1001, 0x2002, 0x3003)
STEP = 5  # ms of simulated time between ticks
UTC = 1767225600  # the clock: made once (the device's makes one int a second)


def wire(buf, n):
    out = bytearray(frame.MAX_WIRE)
    k = frame.escape_into(buf, n, out)
    return bytes(out[:k]) + b"\xfe"


class Bench:
    def __init__(self):
        buf = bytearray(frame.MAX_LEN)
        self.linkready = []
        self.reply = []
        for i in IDS:
            self.linkready.append(wire(buf, proto.slave_linkready(buf, i, 1, 3200, 2)))
            # The car draws 12.8 A and the slave applies the 13 A offered.
            self.reply.append(wire(buf, proto.slave_heartbeat(buf, i, master.MASTER_ID, 1, 1300, 1280, 2)))
        self.meter = [wire(buf, proto.meter_reply(buf, i, 1000, (230, 231, 229), (26, 0, 0))) for i in IDS]
        self.to = -1
        self.code = 0
        self.sent = 0
        self.now = 0
        self.m = master.Master(self.send, share.Limits(40, 32, 40), now=0)
        self.hub = hub.mqtt_side(self.m, "bench", "0")
        self.loop = BusLoop(self.m, self.hub, lambda: UTC)
        self.hub.command("twcm/bench/limit/set", b'{"amps": 39, "ttl_s": 3600}', 0, UTC)

    def send(self, view):
        # The wire form of our frames here has no escaped bytes up front.
        self.code = (view[1] << 8) | view[2]
        self.to = (view[5] << 8) | view[6]
        self.sent += 1

    def run(self, ms):
        end = self.now + ms
        m = self.m
        while self.now < end:
            self.now += STEP
            now = self.now
            self.to = -1
            m.tick(now)
            to = self.to
            if to >= 0:
                i = 0
                while i < 3:
                    if IDS[i] == to:
                        if self.code == proto.MASTER_HEARTBEAT:
                            m.handle_bytes(self.reply[i], now)
                        elif self.code == proto.METER_REQUEST:
                            m.handle_bytes(self.meter[i], now)
                    i += 1

    def run_loop(self, ms):
        """As run(), through BusLoop.step: each reply arrives at the next pass."""
        end = self.now + ms
        loop = self.loop
        data = None
        while self.now < end:
            self.now += STEP
            self.to = -1
            loop.step(self.now, data, len(data) if data is not None else 0)
            data = None
            to = self.to
            if to >= 0:
                i = 0
                while i < 3:
                    if IDS[i] == to:
                        if self.code == proto.MASTER_HEARTBEAT:
                            data = self.reply[i]
                        elif self.code == proto.METER_REQUEST:
                            data = self.meter[i]
                    i += 1

    def link(self):
        for w in self.linkready:
            self.m.handle_bytes(w, self.now)
        self.run(10000)


def allocated(f):
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    f()
    b = gc.mem_alloc()
    gc.enable()
    return b - a


def main():
    b = Bench()
    b.link()
    b.run(70000)  # warm: every path of the steady state has run once
    seconds = 120
    before = b.sent
    total = allocated(lambda: b.run(seconds * 1000))
    cycles = seconds  # one heartbeat per slave per second
    print("frames sent in %d s: %d (3 heartbeats/s + kWh polls)" % (seconds, b.sent - before))
    print("bytes allocated per heartbeat cycle (3 slaves): %d" % (total // cycles))
    m = b.m
    reply = b.reply[0]
    n = 1000
    t = b.now

    def feed():
        i = 0
        while i < n:
            m.handle_bytes(reply, t)
            i += 1
    total = allocated(feed)
    print("bytes allocated per received frame: %d" % (total // n))
    t0 = time.ticks_us()
    feed()
    dt = time.ticks_diff(time.ticks_us(), t0)
    print("time per received frame (%d bytes on the wire): %d us" % (len(reply), dt // n))
    b.run_loop(70000)  # warm, as above
    before = b.sent
    total = allocated(lambda: b.run_loop(seconds * 1000))
    print("frames sent in %d s through the bus loop: %d (lease %d A, loop_max_ms %d)"
          % (seconds, b.sent - before, b.m.limits.site, b.hub.loop_max_ms))
    print("bytes allocated per heartbeat cycle through the bus loop with leases (3 slaves): %d"
          % (total // cycles))
    gc.collect()
    print("heap in use after the run: %d bytes" % gc.mem_alloc())


if sys.implementation.name == "micropython":
    main()
else:
    print("core_alloc.py measures MicroPython allocations: run it with bench/run")
