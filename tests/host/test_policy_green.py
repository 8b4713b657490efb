"""Track Green Energy: surplus maths, delays, deadband, flex, stale readings."""
import pytest

from twcm.policy import GreenSettings, GreenTracker, surplus_w

VP = 230.0  # one phase at 230 V: 1 A = 230 W


def tracker(**kw):
    return GreenTracker(GreenSettings(**kw), min_amps=6, max_amps=32)


def w(amps):
    return amps * VP


def run(tr, timeline):
    """Feed (t, surplus amps) pairs; return the amps after each."""
    return [tr.update(t, None if a is None else w(a), VP).amps for t, a in timeline]


def test_surplus_from_generation_and_consumption():
    s = GreenSettings()
    assert surplus_w(s, 5000, 1200, None, 2300, VP) == 3800
    # The meter sees the charger: its load is given back.
    s = GreenSettings(subtract_charger_load=True)
    assert surplus_w(s, 5000, 3500, None, 2300, VP) == 3800
    # Offsets in watts and in amps (converted with volts x phases).
    s = GreenSettings(offset_w=300, offset_amps=2)
    assert surplus_w(s, 5000, 1000, None, 0, 3 * VP) == 4000 - 300 - 2 * 3 * VP
    # A negative offset adds to the surplus.
    assert surplus_w(GreenSettings(offset_w=-500), 1000, 1000, None, 0, VP) == 500


def test_surplus_from_grid_meter_alone_and_unknown():
    s = GreenSettings()
    # Exporting 1 kW while the car draws 2.3 kW: 3.3 kW are green.
    assert surplus_w(s, None, None, -1000, 2300, VP) == 3300
    assert surplus_w(s, 5000, None, None, 0, VP) is None
    assert surplus_w(s, None, None, None, 0, VP) is None


def test_start_waits_for_the_start_delay():
    tr = tracker(start_delay_s=60, deadband_amps=1)
    assert run(tr, [(0, 10), (30, 10), (59, 10)]) == [0, 0, 0]
    claim = tr.update(60, w(10), VP)
    assert claim.amps == 9  # 10 A surplus, 1 A kept in reserve
    assert claim.reason == "surplus 2300 W = 10.0 A, started at 9 A"


def test_start_delay_restarts_when_surplus_dips():
    tr = tracker(start_delay_s=60)
    amps = run(tr, [(0, 10), (50, 3), (60, 10), (110, 10), (120, 10)])
    assert amps == [0, 0, 0, 0, 9]


def test_idle_reasons():
    tr = tracker(start_delay_s=60)
    assert "below the start threshold 1380 W" in tr.update(0, w(2), VP).reason
    assert "above 1380 W for 0 s, starts after 60 s" in tr.update(10, w(8), VP).reason


def test_stop_only_after_the_stop_delay():
    tr = tracker(start_delay_s=0, stop_delay_s=300)
    run(tr, [(0, 12)])
    assert run(tr, [(10, 2), (100, 2)]) == [6, 6]  # dropped to the minimum at once
    claim = tr.update(250, w(2), VP)
    assert (claim.amps, claim.reason) == (6, "surplus 460 W = 2.0 A, charging 6 A, below "
                                             "1380 W: stops in 60 s unless it recovers")
    assert run(tr, [(309, 2)]) == [6]
    claim = tr.update(310, w(2), VP)
    assert claim.amps == 0
    assert claim.reason == "surplus 460 W = 2.0 A: below 1380 W for 300 s, stopped"


def test_cloud_shorter_than_stop_delay_does_not_stop():
    tr = tracker(start_delay_s=0, stop_delay_s=300, change_interval_s=30)
    run(tr, [(0, 17)])
    amps = run(tr, [(t, 0) for t in range(10, 300, 10)] + [(300, 17), (330, 17)])
    assert min(amps) == 6  # held at the minimum through the cloud
    assert amps[-1] == 16  # back up after it
    # A second cloud starts a fresh stop delay.
    amps = run(tr, [(t, 0) for t in range(340, 640, 10)])
    assert min(amps) == 6


def test_deadband_and_interval_limit_changes():
    tr = tracker(start_delay_s=0, change_interval_s=30, deadband_amps=1)
    run(tr, [(0, 11)])
    assert tr.amps == 10
    # A surplus wobbling between 10.0 and 11.9 A moves nothing.
    amps = run(tr, [(t, 10 + (t % 20) / 10.5) for t in range(5, 600, 5)])
    assert set(amps) == {10}
    # A raise waits for the interval since the last change.
    tr = tracker(start_delay_s=0, change_interval_s=30)
    run(tr, [(0, 11)])
    assert run(tr, [(10, 20), (29, 20), (30, 20)]) == [10, 10, 19]


def test_drop_beyond_flex_is_immediate_within_flex_waits():
    tr = tracker(start_delay_s=0, change_interval_s=30, flex_w=w(2))
    run(tr, [(0, 17)])
    assert tr.amps == 16
    # 1.5 A of import is within the 2 A flex: wait for the interval.
    assert run(tr, [(5, 14.5), (29, 14.5), (30, 14.5)]) == [16, 16, 14]
    # 4 A of import is beyond it: at once.
    assert run(tr, [(31, 10)]) == [10]


def test_flex_holds_the_minimum():
    tr = tracker(start_delay_s=0, stop_delay_s=300, flex_w=w(2))
    run(tr, [(0, 10)])
    # 4.5 A of sun + 2 A of flex is enough for the 6 A minimum: no stop timer.
    amps = run(tr, [(t, 4.5) for t in range(10, 1000, 10)])
    assert set(amps) == {6}
    # 3 A of sun is not: stop after the delay.
    amps = run(tr, [(t, 3) for t in range(1000, 1400, 10)])
    assert amps[0] == 6 and amps[-1] == 0


def test_flex_lowers_the_start_threshold():
    tr = tracker(start_delay_s=0, flex_w=w(2))
    assert run(tr, [(0, 4.5)]) == [6]
    assert run(tracker(start_delay_s=0), [(0, 4.5)]) == [0]


def test_never_above_max():
    tr = tracker(start_delay_s=0)
    assert run(tr, [(0, 100), (100, 200)]) == [32, 32]


def test_unknown_reading_gives_no_claim_and_resets():
    tr = tracker(start_delay_s=60)
    run(tr, [(0, 10), (60, 10)])
    assert tr.amps == 9
    assert tr.update(70, None, VP) is None
    assert tr.amps == 0
    # Back: the start delay counts again.
    assert run(tr, [(80, 10), (139, 10), (140, 10)]) == [0, 0, 9]


@pytest.mark.parametrize("field", ["flex_w", "start_delay_s", "stop_delay_s",
                                   "change_interval_s", "deadband_amps"])
def test_settings_reject_negative(field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        GreenSettings(**{field: -1})


def test_settings_reject_nan_offset():
    with pytest.raises(ValueError, match="^offset_w:"):
        GreenSettings(offset_w=float("nan"))


def test_the_cars_shortfall_is_made_up_within_a_cap():
    # Offered 10 A, the car draws 8.9 A: 1.1 A of sun would go unused.
    tr = tracker(start_delay_s=0, change_interval_s=0, deadband_amps=0)
    run(tr, [(0, 10.4)])
    assert tr.amps == 10
    assert tr.update(5, w(10.4), VP, drawn_amps=8.9).amps == 11
    # Unknown draw: nothing is made up.
    tr2 = tracker(start_delay_s=0, change_interval_s=0, deadband_amps=0)
    run(tr2, [(0, 10.4)])
    assert tr2.update(5, w(10.4), VP, drawn_amps=None).amps == 10
    # A car that takes far less (full, or its own limit): at most 1.5 A more.
    tr3 = tracker(start_delay_s=0, change_interval_s=0, deadband_amps=0)
    run(tr3, [(0, 10.4)])
    assert tr3.update(5, w(10.4), VP, drawn_amps=2.0).amps == 11
    assert tr3.update(10, w(10.4), VP, drawn_amps=2.0).amps == 11
