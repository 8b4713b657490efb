# The load-sharing rules (twc/share.py) on hand-made slots.
from twc import proto, share
from twc.slot import LINKED, LOST, Slot


def _slots(*specs):
    """specs: (protocol, max amps, wanting, offer) per slave."""
    out = []
    for i, (p, mx, wanting, offer) in enumerate(specs):
        s = Slot(i)
        s.status = LINKED
        s.id = 0x100 + i
        s.protocol = p
        s.max_ca = mx * 100
        s.wanting = wanting
        s.demand_since = i
        s.offer = s.hi = offer
        s.actual_ca = 1000 if wanting else 0  # the car draws 10 A
        out.append(s)
    return out


def _targets(slots):
    return [s.target for s in slots]


def test_limits_are_checked():
    for args in ((40, 81, 16), (40, 32, 41), (-1, 32, 0), (40, 4, 0),
                 (241, 80, 0), (40, 32, 16.5), (40, 32, 16, 33)):
        try:
            share.Limits(*args)
        except ValueError as e:
            assert "_amps" in str(e)
        else:
            assert False, args
    share.Limits(40, 32, 16)


def test_site_limit_is_clamped_to_the_wiring():
    lim = share.Limits(40, 32, 16)
    assert lim.set_site(100) == 40
    assert lim.set_site(-5) == 0
    assert lim.set_site(12.7) == 12
    assert lim.total() == 12


def test_equal_shares_in_whole_amps():
    lim = share.Limits(40, 32, 40)
    slots = _slots((2, 32, True, 0), (2, 32, True, 0), (2, 32, True, 0))
    share.allocate(slots, lim)
    assert sorted(_targets(slots)) == [13, 13, 14]
    assert sum(_targets(slots)) == 40


def test_caps_per_twc_and_slave_rating():
    lim = share.Limits(100, 25, 100)
    slots = _slots((2, 32, True, 0), (2, 16, True, 0))
    share.allocate(slots, lim)
    assert _targets(slots) == [25, 16]
    slots[0].cap = 10
    share.allocate(slots, lim)
    assert _targets(slots) == [10, 16]


def test_a_car_that_does_not_draw_keeps_only_its_minimum():
    lim = share.Limits(40, 32, 40)
    slots = _slots((2, 32, True, 0), (2, 32, True, 0))
    slots[0].actual_ca = 20  # plugged in, not started (or full)
    share.allocate(slots, lim)
    assert _targets(slots) == [6, 32]


def test_idle_slaves_get_nothing():
    lim = share.Limits(40, 32, 40)
    slots = _slots((2, 32, False, 0), (2, 32, True, 0))
    share.allocate(slots, lim)
    assert _targets(slots) == [0, 32]


def test_below_the_minimum_a_car_gets_zero():
    lim = share.Limits(40, 32, 5)
    slots = _slots((2, 32, True, 0))
    share.allocate(slots, lim)
    assert _targets(slots) == [0]
    slots = _slots((1, 32, True, 0))  # protocol 1 may go down to 5 A
    share.allocate(slots, lim)
    assert _targets(slots) == [5]


def test_user_minimum_raises_the_floor():
    lim = share.Limits(40, 32, 20, min_amps=12)
    slots = _slots((2, 32, True, 0), (2, 32, True, 0))
    share.allocate(slots, lim)
    assert sorted(_targets(slots)) == [0, 20]


def test_holders_keep_their_minimum_before_newcomers():
    lim = share.Limits(40, 32, 11)
    slots = _slots((2, 32, True, 0), (2, 32, True, 10))
    share.allocate(slots, lim)
    assert _targets(slots) == [0, 11]
    lim.set_site(12)  # room for both minimums
    share.allocate(slots, lim)
    assert _targets(slots) == [6, 6]


def test_newcomer_gets_the_minimum_when_the_budget_allows():
    lim = share.Limits(40, 32, 40)
    slots = _slots((2, 32, True, 32), (2, 32, True, 0))
    share.allocate(slots, lim)
    assert _targets(slots) == [20, 20]


def test_lost_slaves_keep_their_current_reserved():
    lim = share.Limits(40, 32, 40)
    slots = _slots((2, 32, True, 0), (2, 32, True, 0))
    slots[1].status = LOST
    slots[1].hi = 30
    share.allocate(slots, lim)
    assert slots[0].target == 10


def test_raise_waits_for_the_other_slave_to_give_back():
    lim = share.Limits(40, 32, 40)
    a, b = _slots((2, 32, True, 32), (2, 32, True, 6))
    slots = [a, b]
    share.allocate(slots, lim)
    assert (a.target, b.target) == (20, 20)
    # B's heartbeat first: it may not rise while A may still apply 32 A.
    assert share.next_offer(b, slots, lim) == 8
    assert a.hi + b.hi <= 40
    assert share.next_offer(a, slots, lim) == 20
    assert a.hi == 32  # not yet confirmed by A
    assert share.next_offer(b, slots, lim) == 8
    share.confirm(a)  # A answered: it applies 20 A now
    assert a.hi == 20
    assert share.next_offer(b, slots, lim) == 20
    assert a.hi + b.hi == 40


def test_confirm_keeps_what_the_car_still_draws():
    lim = share.Limits(40, 32, 40)
    (a,) = _slots((2, 32, True, 32))
    a.target = 10
    share.next_offer(a, [a], lim)
    a.actual_ca = 2870
    a.limit_ca = 1000
    share.confirm(a)
    assert a.hi == 28
    a.limit_ca = 3200  # the slave says it still applies 32 A
    share.confirm(a)
    assert a.hi == 32


def test_a_raise_too_small_for_the_minimum_is_not_made():
    lim = share.Limits(40, 32, 40)
    a, b = _slots((2, 32, True, 35 - 0), (2, 32, True, 0))
    a.hi = 35
    b.target = 20
    assert share.next_offer(b, [a, b], lim) == 0


def test_offers_never_exceed_the_slave_maximum():
    lim = share.Limits(80, 80, 80)
    (a,) = _slots((2, 16, True, 0))
    a.target = 50  # even a target gone wrong is cut
    assert share.next_offer(a, [a], lim) == 16


def test_states_that_want_current():
    s = Slot(0)
    for st in (proto.STATE_CHARGING, proto.STATE_ASKING, proto.STATE_STARTING,
               proto.STATE_PLUGGED):
        s.state = st
        assert s.wants_current()
    s.state = proto.STATE_READY
    s.actual_ca = 25
    assert not s.wants_current()
    s.actual_ca = 150
    assert s.wants_current()
