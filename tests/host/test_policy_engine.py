"""Policy.decide: claims together, Charge Now, non-scheduled action, main fuse, battery gate."""
from datetime import datetime, time, timedelta, timezone

import pytest

from twcm.service.policy import GreenSettings, Inputs, NonScheduled, Policy, Settings, Window

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)  # a Monday
QUICK = GreenSettings(start_delay_s=0)


def policy(**kw):
    kw.setdefault("green", QUICK)
    return Policy(Settings(**kw))


def sun(gen, cons=0.0, **kw):
    return Inputs(generation_w=gen, consumption_w=cons, wanting=True, **kw)


def test_priority_manual_over_schedule_over_green():
    p = policy(windows=(Window((0,), time(11), time(13), 20),))
    p.charge_now(32, timedelta(minutes=30), T0)
    d = p.decide(T0, sun(2300))
    assert (d.amps, d.set_by.source) == (32, "manual")
    assert [c.source for c in d.claims] == ["safety", "manual", "schedule", "green", "default"]
    assert d.reason == "manual: charge now 32 A until Mon 12:30"
    d = p.decide(T0 + timedelta(minutes=30), sun(2300))  # Charge Now has run out
    assert (d.amps, d.set_by.source) == (20, "schedule")
    assert p.charge_now_request is None
    d = p.decide(T0 + timedelta(hours=1), sun(2300))  # the window has ended
    assert (d.amps, d.set_by.source) == (9, "green")


def test_cancel_charge_now():
    p = policy(non_scheduled=NonScheduled.DO_NOT_CHARGE)
    p.charge_now(16, timedelta(hours=1), T0)
    assert p.decide(T0, Inputs()).amps == 16
    p.cancel_charge_now()
    d = p.decide(T0, Inputs(wanting=True))
    assert (d.amps, d.reason) == (0, "default: not scheduled: do not charge")


def test_non_scheduled_fixed_and_no_car_note():
    p = policy(non_scheduled=NonScheduled.FIXED, non_scheduled_amps=10)
    d = p.decide(T0, Inputs(wanting=False))
    assert (d.amps, d.lease) == (10, True)
    assert d.reason == "default: not scheduled: fixed 10 A (no car wants current now)"
    # A device that does not say whether a car wants current gets no note.
    assert p.decide(T0, Inputs()).reason == "default: not scheduled: fixed 10 A"


def test_track_green_without_readings_sends_no_lease():
    d = policy().decide(T0, Inputs(wanting=True))
    assert (d.amps, d.lease, d.reason) == (0, False, "default: tracking green energy: "
                                           "no surplus reading")
    d = policy().decide(T0, sun(9000, meter_age_s=121))
    assert (d.amps, d.lease, d.reason) == (0, False, "default: tracking green energy: "
                                           "meter readings too old")
    # Charge Now and windows need no readings: they are leased.
    p = policy()
    p.charge_now(16, timedelta(hours=1), T0)
    assert (p.decide(T0, Inputs()).amps, p.decide(T0, Inputs()).lease) == (16, True)
    q = policy(windows=(Window((0,), time(11), time(13), 20),))
    assert q.decide(T0, Inputs()).lease


def test_with_a_surplus_reading_green_is_leased_and_the_default_says_why_not_more():
    d = policy().decide(T0, sun(900))  # 3.9 A: below the 6 A minimum
    default = d.claims[-1]
    assert (d.amps, d.lease, d.set_by.source) == (0, True, "green")
    assert default.reason == "tracking green energy: surplus below the car's minimum"
    d = policy().decide(T0, sun(2300))
    assert (d.amps, d.lease) == (9, True)
    assert d.claims[-1].reason == "tracking green energy: surplus enough for the car's minimum"


def test_green_uses_measured_volts_and_phases():
    # 3 phases at 240 V: 7200 W is 10 A per phase.
    d = policy().decide(T0, sun(7200, volts=240, phases=3))
    assert d.amps == 9
    # Implausible measurements fall back to the settings (230 V, 1 phase).
    d = policy().decide(T0, sun(2300 * 2, volts=3, phases=0))
    assert d.amps == 19


def test_main_fuse_caps_every_wish():
    p = policy(main_fuse_amps=25, non_scheduled=NonScheduled.FIXED, non_scheduled_amps=32)
    d = p.decide(T0, Inputs(consumption_w=230 * 15, wanting=False))
    assert (d.amps, d.set_by.source, d.capped_by.source) == (10, "default", "safety")
    assert d.reason == ("default: not scheduled: fixed 32 A; capped by main fuse 25 A "
                        "with house load 3450 W: 10 A left (no car wants current now)")
    # Too little room for the minimum: 0, and the reason says so.
    d = p.decide(T0, Inputs(consumption_w=230 * 21))
    assert d.amps == 0 and "below the 6 A minimum" in d.reason


def test_main_fuse_house_load_sources():
    fused = dict(main_fuse_amps=20, non_scheduled=NonScheduled.FIXED, non_scheduled_amps=32)
    # The consumption meter includes the charger's 8 A: the house itself uses 4 A.
    p = policy(**fused, green=GreenSettings(subtract_charger_load=True))
    assert p.decide(T0, Inputs(consumption_w=230 * 12, charger_amps=8)).amps == 16
    # Only a grid meter: importing 12 A of which the charger's 8 A.
    assert policy(**fused).decide(T0, Inputs(grid_import_w=230 * 12, charger_amps=8)).amps == 16
    # No house reading at all: fail safe.
    d = policy(**fused).decide(T0, Inputs(meter_age_s=999, consumption_w=0))
    assert d.amps == 0 and "main fuse 20 A: house load unknown" in d.reason


def test_site_maximum_caps():
    p = policy(max_amps=24)
    p.charge_now(40, timedelta(hours=1), T0)
    d = p.decide(T0, Inputs(wanting=True))
    assert d.amps == 24 and d.reason.endswith("capped by site maximum 24 A")


def test_battery_gate_keeps_the_battery_share():
    p = policy(battery_min_soc=50, battery_charge_w=2300)
    # At 40 % the battery takes 2300 W of the 4600 W surplus first: 10 A left.
    d = p.decide(T0, sun(4600, battery_soc=40))
    assert d.amps == 9 and "home battery 40 % < 50 %: 2300 W kept for it" in d.reason
    q = policy(battery_min_soc=50, battery_charge_w=2300)
    assert q.decide(T0, sun(4600, battery_soc=80)).amps == 19
    # Unknown SoC counts as low.
    r = policy(battery_min_soc=50, battery_charge_w=2300)
    assert r.decide(T0, sun(4600)).amps == 9


def test_battery_gate_does_not_limit_charge_now():
    p = policy(battery_min_soc=50)
    p.charge_now(16, timedelta(hours=1), T0)
    assert p.decide(T0, sun(0, battery_soc=5)).amps == 16


def test_main_fuse_also_heeds_the_busiest_measured_phase():
    """Three phases, 4600 W of house load all on L1: spread over the phases it looks like
    6.7 A each, but L1 carries 20 A besides the cars' 6 A."""
    p = policy(main_fuse_amps=32, non_scheduled=NonScheduled.FIXED, non_scheduled_amps=32,
               green=GreenSettings(subtract_charger_load=True))
    three = dict(volts=230, phases=3, charger_amps=6)
    d = p.decide(T0, Inputs(consumption_w=4600 + 6 * 690, **three))
    assert d.amps == 25  # 32 - 6.7, from the house load alone
    d = p.decide(T0, Inputs(consumption_w=4600 + 6 * 690, grid_phase_amps=(26, 6, 6), **three))
    assert (d.amps, d.capped_by.reason) == (12, "main fuse 32 A with 26.0 A on the busiest "
                                            "phase (6.0 A of it the cars'): 12 A left")
    # The measured current is net of the sun: it never raises the ceiling.
    d = p.decide(T0, Inputs(consumption_w=4600 + 6 * 690, grid_phase_amps=(-9, -9, -9),
                            **three))
    assert d.amps == 25
    # A phase the meter cannot tell, or readings too old: the house load alone.
    d = p.decide(T0, Inputs(consumption_w=4600 + 6 * 690, grid_phase_amps=(26, float("nan"),
                                                                            6), **three))
    assert d.amps == 25
    d = p.decide(T0, Inputs(consumption_w=0, grid_phase_amps=(26, 6, 6), meter_age_s=999))
    assert d.amps == 0 and "house load unknown" in d.reason


@pytest.mark.parametrize("kw, field", [
    ({"max_amps": 0}, "max_amps"), ({"min_amps": 40}, "min_amps"),
    ({"volts": 12}, "volts"), ({"phases": 4}, "phases"),
    ({"non_scheduled": "green"}, "non_scheduled"), ({"non_scheduled_amps": 99}, "non_scheduled_amps"),
    ({"windows": ("22-06",)}, "windows"), ({"main_fuse_amps": 0}, "main_fuse_amps"),
    ({"battery_min_soc": 120}, "battery_min_soc"), ({"battery_charge_w": -1}, "battery_charge_w"),
    ({"max_reading_age_s": 0}, "max_reading_age_s"),
])
def test_settings_validation_names_the_field(kw, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        Settings(**kw)


def test_non_finite_readings_count_as_unknown():
    nan = float("nan")
    d = policy().decide(T0, sun(nan, charger_amps=nan))
    assert (d.amps, d.reason) == (0, "default: tracking green energy: no surplus reading")
    d = policy(main_fuse_amps=20).decide(T0, sun(4600, float("inf")))
    fuse = d.claims[1]
    assert (d.amps, fuse.amps, fuse.reason) == (0, 0, "main fuse 20 A: house load unknown")


def test_off_grid_stops_every_wish_unless_allowed():
    p = policy()
    p.charge_now(16, timedelta(hours=1), T0)
    d = p.decide(T0, sun(9000, grid_connected=False))
    assert d.amps == 0 and d.capped_by is not None and "off grid" in d.capped_by.reason
    assert p.decide(T0, sun(9000, grid_connected=True)).amps == 16
    q = policy(charge_off_grid=True)
    q.charge_now(16, timedelta(hours=1), T0)
    assert q.decide(T0, sun(9000, grid_connected=False)).amps == 16
