# RAM that the firmware's modules take once imported from .mpy files, as on
# a device, on the WebAssembly MicroPython (32-bit like the ESP32); the
# network-bound device modules that import there are counted too. Run by
# bench/run, which compiles the firmware first.
import gc

MODULES = ("twc.ticks", "twc.frame", "twc.proto", "twc.slot", "twc.share", "twc.master",
           "twc.busloop", "twc.payloads", "twc.leases", "twc.state", "twc.contract",
           "twc.health", "twc.hub", "device.rs485", "device.net", "device.link")

gc.collect()
base = gc.mem_alloc()
prev = base
for name in MODULES:
    __import__(name)
    gc.collect()
    now = gc.mem_alloc()
    print("  %-14s %6d bytes" % (name, now - prev))
    prev = now
from twc import master, share  # noqa: E402

m = master.Master(lambda view: None, share.Limits(40, 32, 6))
gc.collect()
print("modules: %d bytes; a master with its 3 slots: %d bytes more"
      % (prev - base, gc.mem_alloc() - prev))
