"""The replay's device and its time: the firmware's master core on the simulated bus, with
the leases and the MQTT contract as every runtime assembles them (twc.hub.mqtt_side),
talking to the site loop's SiteLink in-process instead of over a broker.

    device = Device("replay", twcs=1, max_amps=32, bus_step_ms=20)
    clock = BusClock(device.bus, start_unix)
    device.run(5000, link, clock)   # 5 s of bus, messages both ways as they fall due
"""
from __future__ import annotations

from twc.hub import mqtt_side
from twc.master import Master
from twc.share import ABS_MAX, Limits
from twcm import __version__
from twcm.service.devicelink import SiteLink
from twcm.sim.bus import Bus
from twcm.sim.car import Car
from twcm.sim.slave import SimSlave

VOLTS = 230
# The device's bus loop, as far as MQTT goes (leases in, state out), passes this often.
# The ESP32 passes every few ms; the state goes out at most once a second anyway.
PASS_MS = 200


def replay_car(max_amps: int) -> Car:
    """The replay's car: charges at up to max_amps, with room for more than a day of sun
    (150 kWh, empty at the start), so it never fills. bench/peer_twcmanager.py puts the
    same car behind the peer's slave."""
    return Car(max_amps=max_amps, battery_kwh=150.0, soc=0.0)


class BusClock:
    """The site loop's clock in the replay: the simulated bus's time. Wall time starts at
    `start_unix` when begin() is called (the trace's first reading); the meters are the
    trace's, stamped on this clock."""

    def __init__(self, bus: Bus, start_unix: float) -> None:
        self.bus = bus
        self.start_unix = start_unix
        self._origin_ms = bus.now

    def begin(self) -> None:
        """The day starts now, at start_unix."""
        self._origin_ms = self.bus.now

    def time(self) -> float:
        return self.start_unix + (self.bus.now - self._origin_ms) / 1000

    def monotonic(self) -> float:
        return self.bus.now / 1000

    def age_s(self, stamp: float) -> float:
        return self.time() - stamp


class Device:
    """The master, its simulated Wall Connectors and their cars, and its MQTT side.

    Cars with room for more than a day of sun (they never fill). No fallback current:
    without a lease (nor a schedule) the cars get nothing."""

    def __init__(self, site: str, twcs: int, max_amps: int, bus_step_ms: int) -> None:
        amps = min(ABS_MAX, max_amps)
        self.bus = Bus(step_ms=bus_step_ms)
        self.master = Master(self.bus.master_send, Limits(max_amps, amps, 0),
                             now=self.bus.master_now)
        self.bus.attach_master(self.master)
        self.slaves: list[SimSlave] = [
            self.bus.add_slave(seed=i, max_amps=amps, volts=VOLTS,
                               car=replay_car(amps))
            for i in range(twcs)]
        self.hub = mqtt_side(self.master, site, __version__)

    def car_w(self) -> float:
        """What the cars draw now (the true current, as a meter sees it)."""
        return sum(s.car.amps for s in self.slaves) * VOLTS

    def energy_wh(self) -> float:
        return sum(s.energy_wh for s in self.slaves)

    def offers(self) -> tuple[int, ...]:
        return tuple(s.offer for s in self.master.slots)

    def exchange(self, link: SiteLink, clock: BusClock) -> None:
        """One pass of the MQTT side, both ways: the host's due commands to the Hub (and
        applied, as the device's next bus-loop pass would), the device's state to the
        host. The device's events are its log: the site loop acts on none of them."""
        now_ms, utc_s = self.bus.master_now, int(clock.time())
        for topic, payload in link.outbox(clock.monotonic(), clock.time()):
            self.hub.command(topic, payload, now_ms, utc_s)
        self.hub.bus_tick(now_ms, utc_s)
        for topic, text, _ in self.hub.outbox(now_ms, self.bus.now // 1000, None):
            if topic == self.hub.contract.state_topic:
                link.receive("state", text.encode(), clock.monotonic())
                self.hub.sent(now_ms)

    def run(self, ms: int, link: SiteLink, clock: BusClock) -> None:
        """The bus for `ms`, with an MQTT pass every PASS_MS."""
        end = self.bus.now + ms
        while self.bus.now < end:
            self.bus.run_until(min(end, self.bus.now + PASS_MS))
            self.exchange(link, clock)
