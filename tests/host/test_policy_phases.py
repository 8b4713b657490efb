"""The phases a car really draws on (policy/phases.py) in the inputs, green tracking and
the main fuse: a 1-phase car on a 3-phase Wall Connector, and a 3-phase car on it."""
from datetime import datetime, timezone

from twcm.service.devicelink import parse_state
from twcm.service.policy import GreenSettings, Inputs, NonScheduled, Policy, Settings, site_inputs
from twcm.service.policy.phases import CarPhases, measured_phases

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
V3 = (230, 230, 230)


def slave(id="1A2B", amps=16.0, phase_amps=(16, 0, 0), volts=V3, wanting=True, link="linked"):
    return {"id": id, "link": link, "offered_amps": 16, "actual_amps": amps,
            "state": "charging", "volts": list(volts), "wanting": wanting,
            "phase_amps": None if phase_amps is None else list(phase_amps)}


def state(*slaves):
    return parse_state({"mode": "lease", "source": "lease", "limit_amps": 16,
                        "wiring_max_amps_all": 40, "wiring_max_amps_per_twc": 32,
                        "slaves": list(slaves)})


def test_phases_are_measured_while_the_car_draws():
    one, three = state(slave()).slaves[0], state(slave(phase_amps=(15.5, 16, 15.5))).slaves[0]
    assert (measured_phases(one), measured_phases(three)) == (1, 3)
    assert measured_phases(state(slave(phase_amps=None)).slaves[0]) is None  # older firmware
    assert measured_phases(state(slave(phase_amps=(0, 0, 0))).slaves[0]) is None  # read before
    assert measured_phases(state(slave(amps=0.25)).slaves[0]) is None  # not drawing


def test_the_inputs_give_each_car_its_phases_or_the_wiring():
    i = site_inputs(None, state(slave(), slave("2C3D", amps=0, phase_amps=(0, 0, 0))), 0)
    assert i.phases == 3 and i.cars == ((16.0, 1), (0.0, 3))  # unknown yet: the wiring
    assert site_inputs(None, state(slave(wanting=False, amps=0.25)), 0).cars == ()


def test_car_phases_are_remembered_while_the_car_stays_plugged_in():
    phases = CarPhases()
    assert phases.update(state(slave())) == {"1A2B": 1}
    paused = state(slave(amps=0, phase_amps=(0, 0, 0)))  # waits for the sun
    assert phases.update(paused) == {"1A2B": 1}
    assert site_inputs(None, paused, 0, phases.update(paused)).cars == ((0.0, 1),)
    assert phases.update(state(slave(amps=0.25, wanting=False))) == {}  # unplugged
    assert phases.update(None) == {}


def green(**kw):
    return Policy(Settings(max_amps=32, phases=3, green=GreenSettings(start_delay_s=0, **kw)))


def test_a_one_phase_car_on_a_three_phase_twc_gets_the_whole_surplus():
    # 4600 W of surplus: 20 A on the car's one phase, not 6.7 A spread over three.
    one = Inputs(generation_w=4600, consumption_w=0, volts=230, phases=3, cars=((0.0, 1),))
    three = Inputs(generation_w=4600, consumption_w=0, volts=230, phases=3, cars=((0.0, 3),))
    d1, d3 = green().decide(T0, one), green().decide(T0, three)
    assert (d1.amps, d3.amps) == (19, 6)  # started with the 1 A deadband
    assert "÷ 230 V" in d1.reason and "÷ 690 V" in d3.reason
    # The same wired TWC without the measurement: the three wired phases.
    assert green().decide(T0, Inputs(generation_w=4600, consumption_w=0, volts=230,
                                     phases=3)).amps == 6


def test_the_chargers_own_load_counts_on_the_phases_it_draws_on():
    # The consumption meter includes the car: 16 A on one phase is 3680 W, not 11 kW.
    p = green(subtract_charger_load=True)
    i = Inputs(generation_w=4600, consumption_w=3680 + 500, volts=230, phases=3,
               charger_amps=16.0, cars=((16.0, 1),))
    d = p.decide(T0, i)
    assert "surplus 4100 W ÷ 230 V" in d.reason  # counted on 3 phases: 11460 W


def fused(**kw):
    return Policy(Settings(max_amps=32, phases=3, main_fuse_amps=25,
                           non_scheduled=NonScheduled.FIXED, non_scheduled_amps=32, **kw))


def test_the_main_fuse_takes_off_the_cars_real_load():
    # House 2300 W on three phases (3.3 A each) besides a 1-phase car drawing 16 A.
    cons = 2300 + 16 * 230
    i = Inputs(consumption_w=cons, volts=230, phases=3, charger_amps=16.0, cars=((16.0, 1),))
    d = fused(green=GreenSettings(subtract_charger_load=True)).decide(T0, i)
    assert d.amps == 21 and "house load 2300 W" in d.reason
    # Counted as a 3-phase load the car would hide 7360 W of house load: the fuse's room
    # would be overstated. (Before real phases it was: 25 A, "house load 0 W".)


def test_the_main_fuse_per_phase_counts_only_current_surely_on_the_busiest_phase():
    # Two cars: a 3-phase one at 10 A and a 1-phase one at 10 A (on a phase we cannot name).
    cars = ((10.0, 3), (10.0, 1))
    i = Inputs(grid_import_w=0, grid_phase_amps=(20.0, 10.0, 12.0), volts=230, phases=3,
               charger_amps=20.0, cars=cars)
    d = fused().decide(T0, i)
    assert d.capped_by is not None and d.amps == 15  # 25 - (20 - 10): only the 3-phase car's
    assert "(10.0 A of it the cars')" in d.capped_by.reason
    # One car, on however many phases: its whole current (whichever phase it is on).
    one = Inputs(grid_import_w=0, grid_phase_amps=(26.0, 3.0, 3.0), volts=230, phases=3,
                 charger_amps=16.0, cars=((16.0, 1),))
    assert fused().decide(T0, one).amps == 15  # 25 - (26 - 16)
