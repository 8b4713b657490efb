"""The simulated twcm device: what the ESP32 runs, on this computer.

The firmware's master core (twc.master) drives 1-3 simulated Wall Connectors with cars
(twcm.sim) on an in-process RS-485 bus, and serves the MQTT contract through MqttLink,
the same Hub on paho that `twcm master --broker` uses. The bus loop runs in a thread of
its own, as on the ESP32, in real time.

The bus clock is the monotonic clock in ms, so that the master's ticks (bus.master_now)
are twc.ticks.ticks_ms(), the clock MqttLink stamps incoming commands with. The cars'
batteries fill at the demo's speed (twcm.sim.car), so that they keep pace with its day.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from queue import Empty, SimpleQueue

from twc import proto
from twc.busloop import BusLoop
from twc.master import Master
from twc.share import Limits
from twc.state import event_json
from twcm.demo.events import event_words, words
from twcm.master.mqtt_link import MqttLink
from twcm.mqtt import Broker
from twcm.sim.bus import Bus
from twcm.sim.car import Car

STEP_MS = 5  # bus resolution: a quarter of the time of 1 ms steps, fine for 9600 baud
PASS_S = 0.005  # the bus thread sleeps this long between passes
VINS = ("5YJ3E7EB3KF000001", "5YJYGDEE2LF000002", "LRW3E7EK9NC000003")
SOCS = (0.35, 0.55, 0.7)  # the cars' batteries at the start


@dataclass(frozen=True)
class Twc:
    """One Wall Connector as the master sees it, and its car."""

    id: str
    joined: bool
    state: str  # the state it reports: ready, charging, ...
    offer: int  # amps the master offers it
    draws: float  # amps it reports its car draws
    car: str  # "none", the car's charge, e.g. "41 %", or "full"


@dataclass(frozen=True)
class DeviceView:
    """What the device does now."""

    source: str  # what sets its site limit: lease, schedule or fallback
    limit: int  # the site limit in force, amps
    connected: bool  # to the broker
    twcs: tuple[Twc, ...]
    cars_w: float  # what the cars draw together, watts (see SimDevice.cars_w)


def _now_ms() -> int:
    return int(time.monotonic() * 1000)


class SimDevice:
    """`start()` the bus thread and the MQTT link, `stop()` both; `plug()` from any thread.

    log(line) gets the master's and the leases' events, in words (twcm.demo.events), and
    the link's news; it is called from the bus thread and paho's. speed: the cars'
    batteries fill this many times faster than they draw.
    """

    def __init__(self, slaves: int, limits: Limits, broker: Broker, site: str,
                 state_dir: Path, log: Callable[[str], None], speed: float = 1.0) -> None:
        if not 1 <= slaves <= len(VINS):
            raise ValueError(f"slaves must be 1-{len(VINS)}, not {slaves}")
        self.log = log
        self.bus = Bus(step_ms=STEP_MS, start_ms=_now_ms())
        self.master = Master(self.bus.master_send, limits, now=self.bus.master_now,
                             on_event=self._event)
        self.bus.attach_master(self.master)
        self.slaves = [self.bus.add_slave(seed=i, kwh=1200.0 * (i + 1),
                                          car=Car(vin=VINS[i], soc=SOCS[i], speed=speed))
                       for i in range(slaves)]
        self.link = MqttLink(self.master, broker, site, state_dir,
                             lambda line: log(words(line)))
        self.loop = BusLoop(self.master, self.link.hub, time.time)  # the bus runs the master
        self._plugs: SimpleQueue[tuple[int, bool]] = SimpleQueue()
        self._running = threading.Event()
        self._thread = threading.Thread(target=self._run, name="twcm demo bus", daemon=True)

    def start(self) -> None:
        self.link.start()
        self._running.set()
        self._thread.start()

    def stop(self) -> None:
        """End the bus thread, say `online false` and disconnect."""
        self._running.clear()
        if self._thread.is_alive():
            self._thread.join()
        self.link.close()

    def plug(self, index: int, plugged: bool) -> None:
        """Plug a car into (or out of) TWC `index`, at the bus thread's next pass."""
        self._plugs.put((index, plugged))

    def step(self) -> None:
        """One pass of the bus loop: run the bus up to now, then the leases and MQTT."""
        while True:
            try:
                index, plugged = self._plugs.get_nowait()
            except Empty:
                break
            car = self.slaves[index].car
            if plugged:
                car.plug()
            else:
                car.unplug()
        self.bus.run_until(_now_ms())
        now = self.bus.master_now
        self.loop.leases(now)
        self.link.publish_pending(now)

    def _run(self) -> None:
        while self._running.is_set():
            self.step()
            time.sleep(PASS_S)

    def _event(self, kind: str, twc_id: int | None, detail: object) -> None:
        """A master event, as the device publishes it, in words."""
        self.log(event_words(json.loads(event_json(kind, twc_id))))

    def cars_w(self) -> float:
        """What the cars draw now, watts: what a meter on the Wall Connectors' circuit
        sees (not what the TWCs report: an idle one reports 0.25 A). Any thread."""
        return sum(s.car.amps * s.volts * s.car.phases_on(s.phases) for s in self.slaves)

    def view(self) -> DeviceView:
        """A snapshot, read from another thread: each figure is current, together they
        may be a pass apart."""
        slots = {s.id: s for s in self.master.slots if s.status}
        twcs = []
        for sim in self.slaves:
            slot = slots.get(sim.id)
            car = ("none" if not sim.car.plugged else "full" if sim.car.full
                   else f"{sim.car.soc:.0%}".replace("%", " %"))
            if slot is None:
                twcs.append(Twc(f"{sim.id:04X}", False, "-", 0, 0.0, car))
            else:
                state = proto.STATE_NAMES.get(slot.state, f"0x{slot.state:02X}")
                twcs.append(Twc(f"{slot.id:04X}", True, state, slot.offer,
                                slot.actual_ca / 100, car))
        leases = self.link.leases
        return DeviceView(leases.source, leases.amps, self.link.connected, tuple(twcs),
                          self.cars_w())
