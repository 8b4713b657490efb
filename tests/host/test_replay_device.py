"""The replay's device: the master core with Leases, Contract and Hub on the simulated bus,
talking in-process to a SiteLink as `twcm run`'s would over MQTT."""
from datetime import time

import pytest

from twcm.replay import replay_settings, site_config
from twcm.replay.device import BusClock, Device
from twcm.service.devicelink import SiteLink
from twcm.service.policy import GreenSettings, Settings, Window

START = 1_800_000_000.0


@pytest.fixture
def rig():
    device = Device("replay", 1, 32, 20)
    link = SiteLink("replay", 24, ttl_s=10)
    clock = BusClock(device.bus, START)
    device.slaves[0].car.plug()
    device.run(15_000, link, clock)  # the master links the slave
    return device, link, clock


def test_the_state_comes_back_parsed(rig):
    device, link, clock = rig
    assert link.state is not None and link.health(clock.monotonic()) == "online"
    (slave,) = link.state.slaves
    assert (slave.link, slave.volts, slave.wanting) == ("linked", (230, 0, 0), True)
    assert link.state.source == "fallback" and link.state.limit_amps == 0


def test_a_lease_is_clamped_sent_renewed_and_runs_out_when_released(rig):
    device, link, clock = rig
    link.want(40, "more than the site may have")  # the site's max_amps is 24
    device.run(10_000, link, clock)
    assert (device.hub.leases.source, device.hub.leases.amps) == ("lease", 24)
    assert device.master.slots[0].offer > 0
    device.run(30_000, link, clock)  # renewed every ttl/3: never runs out
    assert device.hub.leases.source == "lease"
    link.release("no readings")
    device.run(1_000, link, clock)
    assert device.hub.leases.source == "lease"  # the last lease holds until its ttl
    device.run(10_000, link, clock)  # ttl_s 10 after the last renewal at most
    assert (device.hub.leases.source, device.hub.leases.amps) == ("fallback", 0)
    assert link.state.source == "fallback"


def test_the_clock_is_the_bus(rig):
    device, _, clock = rig
    clock.begin()
    assert clock.time() == START
    device.bus.advance(1500)
    assert (clock.time(), clock.age_s(START)) == (START + 1.5, 1.5)
    assert clock.monotonic() == device.bus.now / 1000


def test_the_replays_site_is_a_config_site_with_these_settings():
    settings = replay_settings("green", 24, GreenSettings(subtract_charger_load=True,
                                                          raise_wh=20.0))
    config = site_config(settings, 5.0)
    assert config.settings() == settings
    assert (config.interval_s, config.timezone, config.max_amps) == (5.0, "UTC", 24)
    with pytest.raises(ValueError, match="no schedule windows"):
        site_config(Settings(windows=(Window((0,), time(1), time(2), 8),)), 5.0)
