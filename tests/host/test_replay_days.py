"""The built-in days: deterministic synthetic days, and the measured day pvanalytics ships."""
import pytest

from twcm.replay.days import DAYS, MINUTES, PEAK_W, day, measured_day


@pytest.mark.parametrize("name", ["clear", "cloudy"])
def test_synthetic_days_are_the_same_for_the_same_seed(name):
    assert day(name, 3) == day(name, 3)
    assert day(name, 3).consumption_w != day(name, 4).consumption_w


def test_days_are_whole_days_with_sun_at_noon_only():
    for name in DAYS:
        t = day(name)
        assert len(t.t_s) == MINUTES and t.t_s[1] - t.t_s[0] == 60.0
        assert max(t.generation_w) <= PEAK_W + 1e-6
        assert t.generation_w[0] == 0.0 and t.generation_w[-1] == 0.0
        assert min(t.consumption_w) > 0


def test_cloudy_day_has_less_and_more_variable_sun_than_clear():
    clear, cloudy = day("clear"), day("cloudy")
    assert sum(cloudy.generation_w) < 0.8 * sum(clear.generation_w)
    jumps = sum(abs(b - a) > 500 for a, b in zip(cloudy.generation_w, cloudy.generation_w[1:]))
    assert jumps > 20


def test_measured_day_is_serf_east_scaled_to_a_house_array():
    pytest.importorskip("pvanalytics")
    t = measured_day(peak_w=5000.0)
    assert max(t.generation_w) == pytest.approx(5000.0)
    kwh = sum(t.generation_w) / 60 / 1000
    assert 20 < kwh < 45  # a sunny March day in Colorado: ~7 kWh per peak kW
    assert t.start.date().isoformat() == "2022-03-19"
    noon = t.generation_w[12 * 60]
    assert noon > 0.6 * 5000.0
