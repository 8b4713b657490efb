"""The simulated car: draw under the offer, ramps, a battery that fills."""
import pytest

from twcm.sim.car import Car, draw_for


def run(car, offer, t0, t1, volts=230, phases=1, step=100):
    """Advance car from t0 to t1 ms under a constant offer; return the Wh drawn."""
    wh = 0.0
    for t in range(t0, t1 + 1, step):
        wh += car.advance(t, offer, volts, phases)
    return wh


def test_draws_a_little_under_the_offer():
    assert draw_for(5, 32) == pytest.approx(4.2, abs=0.1)
    assert draw_for(40, 48) == pytest.approx(38.8, abs=0.1)
    assert draw_for(40, 32) == draw_for(32, 32)  # its own charger caps it
    assert draw_for(0.5, 32) == 0.0  # below 1 A means "don't charge"


def test_ramps_up_about_2_amps_a_second_and_settles():
    car = Car(max_amps=32)
    car.plug()
    run(car, 32, 0, 5000)
    assert 9 <= car.amps <= 11
    assert car.starting
    run(car, 32, 5100, 20_000)
    assert car.amps == pytest.approx(draw_for(32, 32))
    assert not car.starting


def test_follows_a_reduction_within_a_couple_of_seconds():
    car = Car(max_amps=32)
    car.plug()
    run(car, 32, 0, 20_000)
    run(car, 6, 20_100, 22_500)
    assert car.amps == pytest.approx(draw_for(6, 32))
    run(car, 0, 22_600, 23_000)
    assert car.amps == 0


def test_counts_energy_and_stops_when_full():
    car = Car(max_amps=32, battery_kwh=1.0, soc=0.9)  # 100 Wh to go
    car.plug()
    wh = run(car, 16, 0, 30_000, volts=230, phases=3)
    # ~15 A x 230 V x 3 phases for ~22 s of a 30 s run (ramp first).
    assert 60 < wh <= 100
    assert not car.full
    run(car, 16, 30_100, 60_000, volts=230, phases=3)
    assert car.full and car.soc == 1.0
    assert car.amps == 0
    run(car, 16, 60_100, 61_000)
    assert car.amps == 0  # a full car draws nothing


def test_real_time_by_default_and_speed_fills_the_battery_faster():
    """At speed 1 the battery gets what the draw gives in the time passed in; at speed
    60 sixty times that, with the same draw, and it still stops when full."""
    real, fast = Car(soc=0.5), Car(soc=0.5, speed=60)
    real.plug()
    fast.plug()
    real_wh = run(real, 16, 0, 60_000)
    fast_wh = run(fast, 16, 0, 60_000)
    assert real.amps == fast.amps == pytest.approx(draw_for(16, 32))
    # ~14.1 A x 230 V for ~53 s of a minute (ramp first): ~48 Wh, 2.9 kWh at x60.
    assert 40 < real_wh < 55
    assert fast_wh == pytest.approx(60 * real_wh)
    assert real.stored_wh == pytest.approx(37_500 + real_wh)
    assert fast.stored_wh == pytest.approx(37_500 + fast_wh)
    # 16 more minutes: 16 h at x60, enough at 3.2 kW for the 37.5 kWh left.
    run(real, 16, 60_100, 1_020_000)
    run(fast, 16, 60_100, 1_020_000)
    assert fast.full and fast.amps == 0
    assert not real.full and real.amps > 0


def test_unplug_and_cut_drop_the_draw_at_once():
    car = Car()
    car.plug()
    run(car, 20, 0, 15_000)
    assert car.amps > 15
    car.cut()
    assert car.amps == 0
    run(car, 20, 15_100, 16_000)
    assert 0 < car.amps < 3  # ramps again
    car.unplug()
    assert car.amps == 0
    run(car, 20, 16_100, 20_000)
    assert car.amps == 0


def test_is_deterministic():
    a, b = Car(), Car()
    for c in (a, b):
        c.plug()
        run(c, 13, 0, 9000, step=7)
    assert a.amps == b.amps and a.stored_wh == b.stored_wh


def test_rejects_bad_options():
    with pytest.raises(ValueError):
        Car(soc=1.5)
    with pytest.raises(ValueError):
        Car(vin="SHORT")
    with pytest.raises(ValueError):
        Car(speed=0)
