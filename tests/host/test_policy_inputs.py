"""site_inputs: the policy's inputs from a meter reading and the device's state message."""
import pytest

from twcm.service.devicelink import parse_state
from twcm.service.policy import site_inputs
from twcm.service.sources import Reading


def slave(link="linked", volts=(231, 229, 230), amps=9.5, wanting=True, **kw):
    return {"id": "1A2B", "link": link, "offered_amps": 10, "actual_amps": amps,
            "state": "charging", "volts": list(volts), "wanting": wanting, **kw}


def state(*slaves):
    return parse_state({"mode": "lease", "source": "lease", "limit_amps": 16,
                        "wiring_max_amps_all": 40, "wiring_max_amps_per_twc": 32,
                        "slaves": list(slaves)})


def test_the_device_gives_the_cars_draw_volts_phases_and_wanting():
    i = site_inputs(None, state(slave(), slave(volts=(0, 0, 0), amps=0, wanting=False)), 0)
    assert (i.charger_amps, i.phases, i.wanting) == (9.5, 3, True)
    assert i.volts == pytest.approx(230)
    assert (i.generation_w, i.meter_age_s) == (None, 0.0)


def test_lost_slaves_count_for_nothing():
    """A lost slave's figures are its last word, up to 26 s old."""
    i = site_inputs(None, state(slave(link="lost", wanting=False)), 0)
    assert (i.charger_amps, i.volts, i.phases, i.wanting) == (0, None, None, False)


def test_wanting_is_unknown_without_a_state_or_from_firmware_that_does_not_say():
    assert site_inputs(None, None, 0).wanting is None
    old = {k: v for k, v in slave(wanting=False).items() if k != "wanting"}
    assert site_inputs(None, state(old), 0).wanting is None
    assert site_inputs(None, state(old, slave()), 0).wanting is True  # one says yes
    assert site_inputs(None, state(), 0).wanting is False  # no slave: no car


def test_the_meter_gives_its_readings_their_age_and_volts_when_the_twcs_have_none():
    r = Reading(generation_w=4200, consumption_w=900, grid_import_w=-3300, battery_soc=55,
                phase_amps=(-14.3,), volts=238, grid_connected=True, at=0)
    i = site_inputs(r, state(slave(volts=(0, 0, 0))), 3.5)
    assert (i.generation_w, i.consumption_w, i.grid_import_w, i.battery_soc) == \
        (4200, 900, -3300, 55)
    assert (i.grid_phase_amps, i.grid_connected, i.meter_age_s) == ((-14.3,), True, 3.5)
    assert i.volts == 238
    assert site_inputs(r, state(slave()), 0).volts == pytest.approx(230)  # the TWCs' first
    assert site_inputs(Reading(volts=400), None, 0).volts is None  # line to line: not used
    assert site_inputs(r, None, -2).meter_age_s == 0  # a meter clock a little ahead
