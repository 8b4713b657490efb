"""Track Green Energy: surplus maths, delays, deadband, flex, stale readings,
energy balance and the grid allowance."""
import pytest

from twcm.service.policy import GreenSettings, GreenTracker, surplus_w

VP = 230.0  # one phase at 230 V: 1 A = 230 W


def tracker(**kw):
    return GreenTracker(GreenSettings(**kw), min_amps=6, max_amps=32)


# Without the energy balance: every import is followed at once, every raise
# waits only for change_interval_s, the allowance never runs out, and a
# change goes to the surplus less 1 A, rounded down. The tests of the
# delays, the flex and the limits use it, so that their figures stay simple.
STEP = dict(lower_wh=0, raise_wh=0, grid_share=0, grid_allowance_wh=1e9)


def stepper(**kw):
    return tracker(**{**STEP, **kw})


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
    tr = stepper(start_delay_s=60, deadband_amps=1)
    assert run(tr, [(0, 10), (30, 10), (59, 10)]) == [0, 0, 0]
    claim = tr.update(60, w(10), VP)
    assert claim.amps == 9  # 10 A surplus, 1 A kept in reserve
    assert claim.reason == "surplus 2300 W ÷ 230 V (volts × phases) = 10.0 A, started at 9 A"


def test_start_delay_restarts_when_surplus_dips():
    tr = stepper(start_delay_s=60)
    amps = run(tr, [(0, 10), (50, 3), (60, 10), (110, 10), (120, 10)])
    assert amps == [0, 0, 0, 0, 9]


def test_idle_reasons():
    tr = tracker(start_delay_s=60)
    assert "below the start threshold 1380 W" in tr.update(0, w(2), VP).reason
    assert "above 1380 W for 0 s, starts after 60 s" in tr.update(10, w(8), VP).reason


def test_stop_only_after_the_stop_delay():
    tr = stepper(start_delay_s=0, stop_delay_s=300)
    run(tr, [(0, 12)])
    assert run(tr, [(10, 2), (100, 2)]) == [6, 6]  # dropped to the minimum at once
    claim = tr.update(250, w(2), VP)
    assert claim.amps == 6
    assert claim.reason.startswith("surplus 460 W ÷ 230 V (volts × phases) = 2.0 A, "
                                   "charging 6 A, importing: grid allowance ")
    assert claim.reason.endswith(" Wh left, below 1380 W: stops in 60 s unless it recovers")
    assert run(tr, [(309, 2)]) == [6]
    claim = tr.update(310, w(2), VP)
    assert claim.amps == 0
    assert claim.reason == ("surplus 460 W ÷ 230 V (volts × phases) = 2.0 A: below 1380 W "
                            "for 300 s, stopped")


def test_cloud_shorter_than_stop_delay_does_not_stop():
    tr = stepper(start_delay_s=0, stop_delay_s=300, change_interval_s=30)
    run(tr, [(0, 17)])
    amps = run(tr, [(t, 0) for t in range(10, 300, 10)] + [(300, 17), (330, 17)])
    assert min(amps) == 6  # held at the minimum through the cloud
    assert amps[-1] == 17  # back up to the sun after it
    # A second cloud starts a fresh stop delay.
    amps = run(tr, [(t, 0) for t in range(340, 640, 10)])
    assert min(amps) == 6


def test_deadband_at_the_start_and_interval_limit_raises():
    tr = stepper(start_delay_s=0, change_interval_s=30)
    run(tr, [(0, 11)])
    assert tr.amps == 10  # deadband_amps: 1 A kept in reserve at the start
    # A raise waits for the interval since the last change.
    tr = stepper(start_delay_s=0, change_interval_s=30)
    run(tr, [(0, 11)])
    assert run(tr, [(10, 20), (29, 20), (30, 20)]) == [10, 10, 20]


def test_import_within_flex_is_not_taken_from_the_allowance():
    tr = charging_at(16, flex_w=w(2))
    # 1.5 A of import is within the 2 A flex: the balance still comes down
    # to the sun after lower_wh (10 Wh at 345 W: 104 s), the allowance is kept.
    amps = run(tr, [(t, 14.5) for t in range(5, 200, 5)])
    assert amps[19] == 16 and amps[-1] == 14 and 100 <= 5 * (amps.index(14) + 1) <= 110
    assert tr.allowance_wh == 150
    # Allowance spent: an import beyond the flex is followed at once.
    tr.allowance_wh = 0.0
    assert run(tr, [(205, 14), (210, 10)]) == [14, 10]


def test_flex_holds_the_minimum():
    tr = stepper(start_delay_s=0, stop_delay_s=300, flex_w=w(2))
    run(tr, [(0, 10)])
    # 4.5 A of sun + 2 A of flex is enough for the 6 A minimum: no stop timer.
    amps = run(tr, [(t, 4.5) for t in range(10, 1000, 10)])
    assert set(amps) == {6}
    # 3 A of sun is not: stop after the delay.
    amps = run(tr, [(t, 3) for t in range(1000, 1400, 10)])
    assert amps[0] == 6 and amps[-1] == 0


def test_flex_lowers_the_start_threshold():
    tr = stepper(start_delay_s=0, flex_w=w(2))
    assert run(tr, [(0, 4.5)]) == [6]
    assert run(stepper(start_delay_s=0), [(0, 4.5)]) == [0]


def test_never_above_max():
    tr = tracker(start_delay_s=0)
    assert run(tr, [(0, 100), (100, 200)]) == [32, 32]


def test_unknown_reading_gives_no_claim_and_resets():
    tr = stepper(start_delay_s=60)
    run(tr, [(0, 10), (60, 10)])
    assert tr.amps == 9
    assert tr.update(70, None, VP) is None
    assert tr.amps == 0
    # Back: the start delay counts again.
    assert run(tr, [(80, 10), (139, 10), (140, 10)]) == [0, 0, 9]


@pytest.mark.parametrize("field", ["flex_w", "start_delay_s", "stop_delay_s",
                                   "change_interval_s", "deadband_amps", "lower_wh",
                                   "raise_wh", "grid_share", "grid_allowance_wh"])
def test_settings_reject_negative(field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        GreenSettings(**{field: -1})
    with pytest.raises(ValueError, match=f"^{field}:"):
        GreenSettings(**{field: float("nan")})


def test_grid_share_is_a_fraction():
    with pytest.raises(ValueError, match="^grid_share:"):
        GreenSettings(grid_share=1.5)


def test_settings_reject_nan_offset():
    with pytest.raises(ValueError, match="^offset_w:"):
        GreenSettings(offset_w=float("nan"))


def test_the_cars_shortfall_is_made_up_within_a_cap():
    # Offered 10 A, the car draws 8.9 A: 1.1 A of sun would go unused.
    tr = stepper(start_delay_s=0, change_interval_s=0, deadband_amps=0)
    run(tr, [(0, 10.2)])
    assert tr.amps == 10
    claim = tr.update(5, w(10.2), VP, drawn_amps=8.9)
    assert claim.amps == 11
    assert claim.reason == ("surplus 2346 W ÷ 230 V (volts × phases) = 10.2 A + 1.1 A the cars "
                            "draw below their offer = 11.3 A, charging 11 A")
    # Unknown draw: nothing is made up.
    tr2 = stepper(start_delay_s=0, change_interval_s=0, deadband_amps=0)
    run(tr2, [(0, 10.2)])
    claim = tr2.update(5, 3 * w(10.2), 3 * VP, drawn_amps=None)  # on three phases
    assert claim.amps == 10
    assert claim.reason.startswith("surplus 7038 W ÷ 690 V (volts × phases) = 10.2 A, ")
    # A car that takes far less (full, or its own limit): at most 1.5 A more.
    tr3 = stepper(start_delay_s=0, change_interval_s=0, deadband_amps=0)
    run(tr3, [(0, 10.2)])
    assert tr3.update(5, w(10.2), VP, drawn_amps=2.0).amps == 11  # 11.7 A
    assert tr3.update(10, w(10.2), VP, drawn_amps=2.0).amps == 11


# The energy balance with the defaults: lower_wh 10, raise_wh 40,
# grid_share 1.5 %, grid_allowance_wh 150.

def charging_at(amps, **kw):
    tr = tracker(start_delay_s=0, deadband_amps=0, **kw)
    run(tr, [(0, amps)])
    assert tr.amps == amps
    return tr


def test_a_short_dip_does_not_change_the_offer():
    tr = charging_at(16)
    # A kettle: 2 A less sun for 60 s is 7.7 Wh of import, under lower_wh.
    assert set(run(tr, [(t, 14) for t in range(5, 65, 5)])) == {16}
    assert tr.balance_wh == pytest.approx(-2 * VP * 60 / 3600)
    # The 0.5 A of sun left unused after it pays that back.
    assert set(run(tr, [(t, 16.5) for t in range(65, 400, 5)])) == {16}
    assert tr.balance_wh == pytest.approx(-2 * VP * 60 / 3600 + 0.5 * VP * 335 / 3600)
    # A wobble of 1 A either side of the offer moves nothing.
    assert set(run(tr, [(t, 16 + (1 if t % 20 < 10 else -1)) for t in range(400, 4000, 5)])) == {16}


def test_a_sustained_drop_is_followed_within_a_bounded_time():
    for short in (1, 3, 8):
        # From a balance of 0 Wh: lowered once lower_wh is imported; from
        # the most surplus left unused (raise_wh) after that much more.
        for credit in (0.0, 40.0):
            tr = charging_at(20)
            tr.balance_wh = credit
            amps = run(tr, [(t, 20 - short) for t in range(5, 3600, 5)])
            first = amps.index(20 - short)
            took = 5 * (first + 1)
            assert took <= (10 + credit) * 3600 / (short * VP) + 5
            assert took >= (10 + credit) * 3600 / (short * VP) - 5
            assert amps[first:] == [20 - short] * (len(amps) - first)


def test_unused_sun_does_not_pile_up_a_credit_against_lowering():
    # At max_amps, an hour of 8 A of sun left unused: the balance stops at
    # raise_wh, so 4 A short is followed within (40 + 10) Wh / 920 W = 196 s.
    tr = charging_at(32)
    run(tr, [(t, 40) for t in range(5, 3600, 5)])
    assert tr.balance_wh == 40
    amps = run(tr, [(t, 28) for t in range(3600, 4000, 5)])
    assert 190 <= 5 * amps.index(28) <= 200


def test_a_deep_drop_is_followed_within_seconds():
    tr = charging_at(20)
    # 12 A short (2760 W): 10 Wh in 13 s.
    assert run(tr, [(5, 8), (10, 8), (15, 8)]) == [20, 20, 8]


def test_a_rise_waits_for_raise_wh_then_goes_to_the_nearest_amp():
    tr = charging_at(10)
    # 2.4 A more sun: 40 Wh unused after 261 s, then up to 12 A (12.4 rounded).
    amps = run(tr, [(t, 12.4) for t in range(5, 400, 5)])
    assert amps[50] == 10 and amps[-1] == 12
    assert 255 <= 5 * (amps.index(12) + 1) <= 265


def test_the_grid_allowance_is_bounded():
    tr = charging_at(6, grid_allowance_wh=100, stop_delay_s=900)
    # At the minimum with 3 A of sun: held on the allowance, then stopped
    # when it is spent (100 Wh at 690 W: 522 s), before the 900 s stop delay.
    t, imported = 0, 0.0
    while tr.amps:
        t += 5
        tr.update(t, w(3), VP)
        imported += 3 * VP * 5 / 3600
    assert 515 <= t <= 530 and tr.allowance_wh == 0
    assert imported <= 100 + 2 * 3 * VP * 5 / 3600  # within a step or two
    # Spent, the next dip is followed at once: no import is allowed.
    tr2 = charging_at(16, grid_allowance_wh=0)
    assert run(tr2, [(5, 16), (10, 14)]) == [16, 14]
    # It is earned back as 1.5 % of the green energy, up to the cap.
    tr3 = charging_at(14, grid_allowance_wh=50)
    tr3.allowance_wh = 0.0
    tr3.update(3600, w(14), VP)  # after a gap: counts as 60 s at most
    assert tr3.allowance_wh == pytest.approx(0.015 * 14 * VP * 60 / 3600)
    for t in range(3660, 100_000, 60):
        tr3.update(t, w(14), VP)
    assert tr3.allowance_wh == 50


def test_the_grid_allowance_holds_the_minimum_through_a_cloud():
    tr = charging_at(12, stop_delay_s=900)
    # Two minutes of 2 A of sun: 4 A short at the minimum, 31 Wh of import.
    amps = run(tr, [(t, 2) for t in range(5, 125, 5)] + [(t, 12) for t in range(125, 600, 5)])
    assert min(amps) == 6 and amps[-1] == 12
    assert 100 < tr.allowance_wh < 150
