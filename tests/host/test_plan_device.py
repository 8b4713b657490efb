"""A car with a departure and a target, a static night tariff: the site loop plans the
cheapest slots, leases them as the "plan" claim, and stores them in the device's schedule,
which the device (the firmware's master core on the simulated bus, replay/device.py)
follows with the host gone."""
from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from twcm.replay.device import PASS_MS, BusClock, Device
from twcm.service.config import SiteConfig
from twcm.service.site import SiteLoop

VIN = "5YJ3E1EA7KF000001"
EVENING = datetime(2026, 6, 1, 20, 0, tzinfo=timezone.utc).timestamp()


def night(hh: int, mm: int = 0) -> float:
    return datetime(2026, 6, 2, hh, mm, tzinfo=timezone.utc).timestamp()


def config(**car) -> SiteConfig:
    return SiteConfig.model_validate({
        "name": "replay", "max_amps": 32, "ttl_s": 30, "timezone": "UTC",
        "source": {"type": "static", "generation_w": 0.0, "consumption_w": 300.0},
        "policy": {"non_scheduled": "do_not_charge"},
        "tariff": {"type": "static", "import_price": 0.30, "window": [
            {"start": "01:00", "end": "03:00", "import_price": 0.11},
            {"start": "03:00", "end": "05:00", "import_price": 0.15}]},
        "car": [{"vin": VIN, "name": "Model 3", "departure": "07:00", **car}]})


def rig(**car):
    device = Device("replay", 1, 32, 20)
    clock = BusClock(device.bus, EVENING)
    site = SiteLoop(config(**car), None, clock)
    asyncio.run(site.prices.feeds[0].fetch(site.now()))
    device.slaves[0].car.plug()
    device.run(15_000, site.link, clock)  # the master links the slave; its state comes
    return device, clock, site


def host_turns(device, clock, site, ms: int) -> None:
    """The host turns every 5 s, and the device runs between."""
    for _ in range(ms // 5000):
        site.turn()
        device.run(5000, site.link, clock)


def alone(device, clock, ms: int) -> None:
    """The device on its own: the bus, and its bus loop's lease/schedule pass every 200 ms
    (as the ESP32's does), with no host sending or reading anything."""
    for _ in range(ms // PASS_MS):
        device.bus.advance(PASS_MS)
        device.hub.bus_tick(device.bus.master_now, int(clock.time()))


def jump_to(clock, t: float) -> None:
    """The wall clock moves on to `t` (the hours between need no bus simulated)."""
    clock.start_unix += t - clock.time()


def test_the_plan_is_leased_while_the_host_runs():
    device, clock, site = rig(target_kwh=10.0)
    host_turns(device, clock, site, 10_000)
    (p,) = site.status()["plans"]
    assert p["twc"] is not None and p["plan"]["slots"][0]["start"] == night(1)
    assert p["plan"]["reason"].startswith("Model 3: cheapest 1.4 h from 01:00 at 0.11 EUR/kWh"
                                          " to reach 10 kWh by 07:00")
    assert site.decision.set_by.source == "default" and device.master.slots[0].offer == 0
    jump_to(clock, night(1, 5))
    host_turns(device, clock, site, 20_000)
    assert site.decision.set_by.source == "plan" and site.sent == 32
    assert device.hub.leases.source == "lease" and device.slaves[0].car.amps > 20
    prices = site.status()["prices"]
    assert prices["current"]["import"] == 0.11 and prices["source"] == "static"


def test_the_device_follows_the_plan_with_the_host_gone():
    device, clock, site = rig(target_kwh=10.0)
    host_turns(device, clock, site, 10_000)  # the plan is made and its schedule pushed
    assert device.hub.leases.windows >= 1
    # The host is gone from here on: no turns, nothing sent, no state read.
    alone(device, clock, 40_000)  # its last lease (ttl 30 s) runs out
    assert device.hub.leases.source == "fallback" and device.hub.leases.amps == 0
    jump_to(clock, night(1, 5))
    alone(device, clock, 75_000)  # the device looks at its clock at least once a minute
    assert (device.hub.leases.source, device.hub.leases.amps) == ("schedule", 32)
    assert device.master.slots[0].offer == 32 and device.slaves[0].car.amps > 20
    jump_to(clock, night(2, 30))  # the plan ends at 02:22
    alone(device, clock, 75_000)
    assert device.hub.leases.source == "fallback" and device.master.slots[0].offer == 0


def test_a_soc_target_plans_from_the_soc_the_user_sets_and_replans_when_it_changes():
    device, clock, site = rig(target_soc=80.0, battery_kwh=60.0)
    host_turns(device, clock, site, 5000)
    (p,) = site.status()["plans"]
    assert p["plan"] is None and "SoC is not known" in p["why_no_plan"]
    site.set_car_soc(VIN, 50.0)
    (p,) = site.status()["plans"]
    assert p["plan"]["need_kwh"] == 20.0  # 30 % of 60 kWh over 0.9
    site.set_car_soc(VIN, 75.0)
    (p,) = site.status()["plans"]
    assert round(p["plan"]["need_kwh"], 2) == round(5 * 0.6 / 0.9, 2)
    assert p["plan"]["slots"][0]["end"] < night(2)
