"""Weekly windows (weekday selection, across midnight) and Charge Now."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from twcm.service.policy import ChargeNow, Window, schedule_claim

MON, TUE, WED, FRI, SAT, SUN = 0, 1, 2, 4, 5, 6
TZ = ZoneInfo("Europe/Amsterdam")


def at(day, hh, mm=0):
    """A time in the week of Monday 2026-06-01."""
    return datetime(2026, 6, 1 + day, hh, mm, tzinfo=TZ)


def test_same_day_window_and_weekday_selection():
    w = Window((MON, WED), time(9), time(17), 16)
    assert w.active(at(MON, 9)) and w.active(at(WED, 16, 59))
    assert not w.active(at(MON, 17))  # end is exclusive
    assert not w.active(at(MON, 8, 59))
    assert not w.active(at(TUE, 12))


def test_window_across_midnight_belongs_to_its_start_day():
    w = Window((FRI,), time(22), time(6), 24)
    assert w.active(at(FRI, 22)) and w.active(at(FRI, 23, 59))
    assert w.active(at(SAT, 0)) and w.active(at(SAT, 5, 59))
    assert not w.active(at(SAT, 6))
    assert not w.active(at(SAT, 22))  # Saturday evening is not in it
    assert not w.active(at(FRI, 3))  # the morning after Thursday is not either


def test_sunday_night_runs_into_monday():
    w = Window((SUN,), time(23), time(1), 10)
    assert w.active(at(SUN, 23, 30))
    assert w.active(at(MON, 0, 30))  # weekly: every Monday follows a Sunday
    assert not w.active(at(MON, 1))
    assert not w.active(at(TUE, 0, 30))


def test_equal_start_and_end_is_a_whole_day():
    w = Window((TUE,), time(7), time(7), 8)
    assert w.active(at(TUE, 7)) and w.active(at(WED, 6, 59))
    assert not w.active(at(WED, 7))


def test_schedule_claim_picks_the_active_window_with_most_amps():
    windows = (Window((MON,), time(0), time(6), 10), Window((MON,), time(5), time(7), 20))
    assert schedule_claim(windows, at(MON, 1)).amps == 10
    claim = schedule_claim(windows, at(MON, 5, 30))
    assert (claim.source, claim.amps) == ("schedule", 20)
    assert claim.reason == "scheduled window Mon 05:00-07:00: 20 A"
    assert schedule_claim(windows, at(MON, 8)) is None
    assert schedule_claim((), at(MON, 1)) is None


@pytest.mark.parametrize("kw, field", [
    ({"days": ()}, "days"), ({"days": (7,)}, "days"), ({"amps": -1}, "amps"),
    ({"amps": 1.5}, "amps"),
])
def test_window_validation(kw, field):
    args = {"days": (MON,), "start": time(1), "end": time(2), "amps": 6, **kw}
    with pytest.raises(ValueError, match=f"^{field}:"):
        Window(**args)


def test_charge_now_until_expiry():
    now = at(MON, 14)
    req = ChargeNow.starting(now, 32, timedelta(hours=2))
    assert req.until == at(MON, 16)
    claim = req.claim(at(MON, 15, 59))
    assert (claim.source, claim.amps, claim.reason) == ("manual", 32,
                                                        "charge now 32 A until Mon 16:00")
    assert req.claim(at(MON, 16)) is None


def test_charge_now_validation():
    with pytest.raises(ValueError, match="^duration:"):
        ChargeNow.starting(at(MON, 1), 16, timedelta(0))
    with pytest.raises(ValueError, match="^amps:"):
        ChargeNow(-2, at(MON, 1))
