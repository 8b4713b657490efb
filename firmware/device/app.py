# The firmware: bus master, leases and MQTT link, unattended.
#
# Two threads. The bus thread reads the UART, runs the master and the
# leases, and feeds the watchdog; it never touches the network, so nothing
# the network does (a connect, a DNS lookup, a dead broker) can hold the
# bus up. The main thread brings the network up, keeps the clock, runs the
# MQTT link and publishes state and events. They meet in twc.hub.Hub.
#
# A bad or missing config is printed on the console every 10 s. The device
# still heartbeats the slaves if it can open the bus: at the fallback when
# the wiring limits are valid, otherwise offering no current at all.
import gc
import sys
import time

import _thread

from twc.ticks import ticks_add, ticks_diff, ticks_ms

VERSION = "0.2.0"
EPOCH_OFFSET = 946684800 if time.gmtime(0)[0] == 2000 else 0  # to Unix time
MAIN_SLEEP_MS = 20
BUS_IDLE_MS = 2  # the bus thread sleeps this long when nothing arrived
WDT_MS = 10000
COMPLAIN_MS = 10000
BUS_STACK = 8192


def _env(name):
    try:
        from os import getenv
    except ImportError:  # the ESP32 has no environment
        return None
    return getenv(name)


def _client_id(site):
    try:
        from machine import unique_id
        from binascii import hexlify
        return "twcm-" + hexlify(unique_id()).decode()
    except (ImportError, AttributeError):
        return "twcm-" + site


def _utc():
    """Unix seconds now (an int; on a 32-bit port a heap object)."""
    return int(time.time()) + EPOCH_OFFSET


class Device:
    def __init__(self, config_path, boards_dir, bus_path=None):
        # The config and the board first, alone: their modules are freed
        # before anything that stays is imported, so that what stays fills
        # the room they leave, and the free heap is left in one piece.
        self.cfg, self.board, self.errors = _load(config_path, boards_dir)
        gc.collect()
        from twc.busloop import BusLoop
        from twc.master import MASTER_ID, Master
        from twc.share import Limits

        cfg = self.cfg
        if cfg.get("limits_ok"):
            limits = Limits(cfg["wiring_max_amps_all"], cfg["wiring_max_amps_per_twc"],
                            cfg["fallback_amps"], cfg["min_amps"])
        else:
            limits = Limits(5, 5, 0)  # no valid wiring limits: offer nothing
        self.bus = None
        if self.board is not None:
            from device import rs485
            try:
                self.bus = rs485.open_bus(self.board, bus_path)
            except (OSError, ValueError) as e:
                self.errors.append("bus: " + str(e))
        send = self.bus.write if self.bus is not None else _discard
        self.master = Master(send, limits, master_id=cfg.get("master_id", MASTER_ID),
                             now=ticks_ms(), start_stop=cfg.get("twc_start_stop", False))
        self.schedule_path = config_path.rsplit("/", 1)[0] + "/schedule.json" \
            if "/" in config_path else "schedule.json"
        self.hub = None
        self.link = None
        self.net = None
        self.running = True
        self.bus_error = None
        if cfg.get("limits_ok") and cfg.get("site") and not self.errors:
            self._mqtt_side()
        self.loop = BusLoop(self.master, self.hub, _utc)

    def _mqtt_side(self):
        from twc.hub import mqtt_side
        self.hub = hub = mqtt_side(self.master, self.cfg["site"], VERSION, self._store_schedule)
        contract = hub.contract
        try:
            with open(self.schedule_path) as f:
                hub.leases.restore(f.read())  # after the Hub: it reports a bad file
        except OSError:
            pass
        from device.net import Network
        self.net = Network(self.board, self.cfg, hub.health)
        if self.net.error:
            self.errors.append(self.net.error)
        if self.cfg["broker"] is not None:
            from device.link import Link
            self.link = Link(self.cfg["broker"], contract, _client_id(self.cfg["site"]),
                             self._on_command, hub.connected, hub.health)

    def _store_schedule(self, text):
        try:
            with open(self.schedule_path, "w") as f:
                f.write(text)
        except OSError as e:
            print("schedule not stored:", e)

    def _on_command(self, topic, payload):
        hub = self.hub
        if hub is not None:
            hub.command(topic, payload, ticks_ms(), _utc())

    # -- the bus thread ----------------------------------------------------

    def bus_loop(self):
        try:
            self._bus_loop()
        except BaseException as e:  # noqa: the main thread must learn of it
            self.bus_error = e
            sys.print_exception(e)

    def _bus_loop(self):
        wdt = None
        if self.board is not None and self.board["mcu"] == "esp32":
            from machine import WDT
            wdt = WDT(timeout=WDT_MS)
        buf = bytearray(256)
        bus = self.bus
        loop = self.loop
        while self.running:
            now = ticks_ms()
            n = bus.readinto(buf) if bus is not None else 0
            loop.step(now, buf, n)
            if wdt is not None:
                wdt.feed()
            if not n:
                time.sleep_ms(BUS_IDLE_MS)

    # -- the main thread ---------------------------------------------------

    def complain(self):
        for e in self.errors:
            print("twcm config error:", e)
        if self.errors:
            print("twcm: running safe:", "fallback" if self.cfg.get("limits_ok")
                  else "no current offered", "- fix the config and restart")

    def main_loop(self, run_for_ms=0):
        start = ticks_ms()
        uptime_s = 0
        next_second = ticks_add(start, 1000)
        next_complain = start
        while True:
            now = ticks_ms()
            if run_for_ms and ticks_diff(now, start) >= run_for_ms:
                break
            if self.bus_error is not None:
                raise self.bus_error  # main.py resets the board
            if ticks_diff(now, next_second) >= 0:
                next_second = ticks_add(next_second, 1000)
                uptime_s += 1
            if self.errors and ticks_diff(now, next_complain) >= 0:
                next_complain = ticks_add(now, COMPLAIN_MS)
                self.complain()
            net = self.net
            link = self.link
            hub = self.hub
            if net is not None:
                net.step(now)
                if link is not None and hub is not None and net.up():
                    link.step(now)
                    if link.connected():
                        self._publish(link, hub, now, uptime_s)
            time.sleep_ms(MAIN_SLEEP_MS)

    def _publish(self, link, hub, now, uptime_s):
        items = hub.outbox(now, uptime_s, gc.mem_free(), True)  # the state in pieces
        for i in range(len(items)):
            topic, text, retain = items[i]
            if not link.publish(topic, text, retain, now):
                hub.requeue(items[i:])
                return
            if topic == hub.contract.state_topic:
                hub.sent(now)

    def stop(self):
        self.running = False


def _discard(view):
    pass


def _forget(name):
    """Unload a module that is done with, so that its code can be freed."""
    sys.modules.pop(name, None)
    pkg, _, attr = name.rpartition(".")
    parent = sys.modules.get(pkg)
    if parent is not None and hasattr(parent, attr):
        delattr(parent, attr)


def _load(config_path, boards_dir):
    """(config, board or None, errors), with device.config and device.board
    unloaded again: they are only needed at start."""
    from device import board as boards
    from device import config as configs

    cfg, errors = configs.load(config_path)
    board = None
    name = cfg.get("board") or _only_board(boards_dir)
    if name:
        board, more = boards.load(name, boards_dir)
        errors += ["board " + name + ": " + e for e in more]
    _forget("device.config")  # give their RAM back
    _forget("device.board")
    return cfg, board, errors


def _only_board(boards_dir):
    """The board when the config names none (it is missing or broken):
    twcm flash puts exactly one board file on a device, so with it the bus
    can still be heartbeated, offering no current."""
    try:
        from os import listdir
        names = [n for n in listdir(boards_dir) if n.endswith(".json")]
    except (ImportError, OSError):
        return None
    return names[0][:-5] if len(names) == 1 else None


def main(config_path=None, boards_dir=None, run_for_ms=0):
    """Start the device. On the unix port, TWCM_CONFIG, TWCM_BOARDS and
    TWCM_BUS name the config file, the boards folder and the serial device."""
    config_path = config_path or _env("TWCM_CONFIG") or "/config.json"
    boards_dir = boards_dir or _env("TWCM_BOARDS") or "/boards"
    print("twcm", VERSION, "config", config_path)
    dev = Device(config_path, boards_dir, _env("TWCM_BUS"))
    dev.complain()
    gc.collect()
    try:
        _thread.stack_size(BUS_STACK)
    except (AttributeError, ValueError):
        pass
    _thread.start_new_thread(dev.bus_loop, ())
    try:
        dev.main_loop(run_for_ms)
    finally:
        dev.stop()
    return dev


if __name__ == "__main__":
    main()
    sys.exit(0)
