"""Real phases end to end: a simulated three-phase Wall Connector reports its per-phase
currents (FD EB) to the firmware's master, the device's state carries them to the site
loop's SiteLink, site_inputs and the policy, and the lease comes back to the device, as
in `twcm replay` (BusClock, in-process MQTT side). A single-phase car on it gets the whole
surplus; a three-phase car gets a third of it on each phase."""
from __future__ import annotations

import pytest

from twc.hub import mqtt_side
from twc.master import Master
from twc.share import Limits
from twcm.replay import replay_settings, site_config
from twcm.replay.device import BusClock
from twcm.replay.engine import TraceMeters
from twcm.service.policy import GreenSettings
from twcm.service.site import SiteLoop
from twcm.service.sources import Reading
from twcm.sim.bus import Bus
from twcm.sim.car import Car

VOLTS = 230
SUN_W = 4600.0
HOUSE_W = 200.0


class Site:
    def __init__(self, car_phases: int) -> None:
        self.bus = Bus(step_ms=20)
        self.master = Master(self.bus.master_send, Limits(32, 32, 0), now=self.bus.master_now)
        self.bus.attach_master(self.master)
        self.slave = self.bus.add_slave(seed=1, max_amps=32, phases=3, volts=VOLTS,
                                        car=Car(battery_kwh=150, soc=0, phases=car_phases))
        self.hub = mqtt_side(self.master, "replay", "test")
        self.clock = BusClock(self.bus, 1_800_000_000.0)
        self.meters = TraceMeters()
        green = GreenSettings(subtract_charger_load=True, start_delay_s=0, raise_wh=5)
        self.loop = SiteLoop(site_config(replay_settings("green", 32, green), 5.0), None,
                             self.clock, self.meters)
        self.slave.car.plug()

    def car_w(self) -> float:
        s = self.slave
        return s.car.amps * VOLTS * s.car.phases_on(s.phases)

    def exchange(self) -> None:
        link, clock, hub = self.loop.link, self.clock, self.hub
        now_ms, utc_s = self.bus.master_now, int(clock.time())
        for topic, payload in link.outbox(clock.monotonic(), clock.time()):
            hub.command(topic, payload, now_ms, utc_s)
        hub.bus_tick(now_ms, utc_s)
        for topic, text, _ in hub.outbox(now_ms, self.bus.now // 1000, None):
            if topic == hub.contract.state_topic:
                link.receive("state", text.encode(), clock.monotonic())
                hub.sent(now_ms)

    def run(self, seconds: int) -> None:
        """Turn every 5 s for `seconds`, the bus in between with an MQTT pass every 200 ms."""
        for _ in range(seconds // 5):
            self.meters.reading = Reading(generation_w=SUN_W, consumption_w=HOUSE_W
                                          + self.car_w(), at=self.clock.time())
            self.loop.turn()
            for _ in range(25):
                self.exchange()
                self.bus.advance(200)


@pytest.mark.parametrize("car_phases", [1, 3])
def test_the_surplus_goes_to_the_car_on_the_phases_it_really_draws_on(car_phases):
    site = Site(car_phases)
    site.run(20)  # linked; the car starts at the policy's minimum
    site.run(300)
    surplus = SUN_W - HOUSE_W
    state = site.loop.link.state
    assert state is not None
    (slave,) = state.slaves
    assert slave.volts == (VOLTS, VOLTS, VOLTS)  # a three-phase Wall Connector
    assert slave.phase_amps is not None
    assert sum(1 for a in slave.phase_amps if a >= 1) == car_phases
    want = surplus / (VOLTS * car_phases)  # 19.1 A on one phase, 6.4 A on three
    lease = site.loop.sent  # the surplus, plus up to 1.5 A the car draws below its offer
    assert lease is not None and want - 2 <= lease <= want + 1.5, (lease, site.loop.decision)
    assert f"÷ {VOLTS * car_phases:.0f} V" in site.loop.decision.reason
    # What the car draws takes most of the surplus, and not more.
    assert 0.8 * surplus <= site.car_w() <= surplus, site.car_w()
