# Load sharing: the one place where the current offered to a slave is
# decided. docs/load-sharing.md states the rules; tests/host/test_share_*
# prove the invariants.
#
# Two steps. allocate() decides what each slave should be offered (its
# target) from the site limit, the wiring and the cars that want current.
# next_offer() then moves one slave's offer towards its target at the
# moment a heartbeat is sent to it, so that the offers in force never add
# up to more than the wiring allows: a raise only takes room that the
# other slaves have certainly given back.
#
# Each slot keeps `hi`, the most current it may be applying or drawing:
# a raise counts at once, a reduction only once the slave has answered
# the heartbeat that carried it, and never below what its car draws.
from twc.slot import CHARGING_CA, FREE, LINKED, LOST
from twc.ticks import ticks_diff

ABS_MAX = 80  # the largest gen-2 rating; no offer or limit goes above it


class Limits:
    """The wiring limits and the site limit in force, in whole amps."""

    def __init__(self, wiring_all, wiring_per_twc, fallback, min_amps=0):
        check_limits(wiring_all, wiring_per_twc, fallback, min_amps)
        self.wiring_all = wiring_all
        self.wiring_per_twc = wiring_per_twc
        self.min_amps = min_amps  # the user's minimum; 0 = the protocol's
        self.fallback = fallback
        self.site = fallback  # the site limit in force

    def set_site(self, amps):
        """Set the site limit (amps, >= 0); return what is in force."""
        if amps < 0:
            amps = 0
        amps = int(amps)
        if amps > self.wiring_all:
            amps = self.wiring_all
        self.site = amps
        return amps

    def total(self):
        """The most all slaves together may be offered now."""
        return self.site if self.site < self.wiring_all else self.wiring_all


def check_limits(wiring_all, wiring_per_twc, fallback, min_amps=0):
    """Raise ValueError naming the bad limit and the fix."""
    for name, v in (("wiring_max_amps_all", wiring_all),
                    ("wiring_max_amps_per_twc", wiring_per_twc),
                    ("fallback_amps", fallback), ("min_amps", min_amps)):
        if not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(name + " must be a whole number of amps")
        if v < 0:
            raise ValueError(name + " must not be negative")
    if not 5 <= wiring_per_twc <= ABS_MAX:
        raise ValueError("wiring_max_amps_per_twc must be between 5 and 80 A "
                         "(the rating of the circuit to each TWC, e.g. 80% "
                         "of its breaker)")
    if not 5 <= wiring_all <= 3 * ABS_MAX:
        raise ValueError("wiring_max_amps_all must be between 5 and 240 A "
                         "(the rating of the shared circuit, e.g. 80% of its "
                         "breaker)")
    if fallback > wiring_all:
        raise ValueError("fallback_amps must not exceed wiring_max_amps_all; "
                         "lower it to at most %d" % wiring_all)
    if min_amps > wiring_per_twc:
        raise ValueError("min_amps must not exceed wiring_max_amps_per_twc")


def max_amps(slot, limits):
    """Highest offer for a slave: per-TWC wiring, its rating, its cap."""
    m = slot.max_ca // 100
    if limits.wiring_per_twc < m:
        m = limits.wiring_per_twc
    if slot.cap < m:
        m = slot.cap
    return m if m < ABS_MAX else ABS_MAX


def _first_unconsidered(slots):
    """The wanting slot not yet considered for its minimum that comes first.

    The car of the highest priority (its VIN's rule, twc/cars.py) first;
    among equals, slots that already hold an offer keep it before
    newcomers, so that a car is not stopped for another of the same
    priority; then the longest waiting goes first.
    """
    best = None
    for s in slots:
        if s.status != LINKED or not s.wanting or s.considered:
            continue
        if best is None:
            best = s
        elif s.priority != best.priority:
            if s.priority > best.priority:
                best = s
        elif (s.offer > 0) != (best.offer > 0):
            if s.offer > 0:
                best = s
        elif ticks_diff(s.demand_since, best.demand_since) < 0:
            best = s
    return best


def allocate(slots, limits):
    """Set every linked slot's target: who gets how much of the budget.

    The budget is the site limit (never above the all-TWC wiring) less
    what lost slaves may still draw. Each car that wants current gets its
    minimum while the budget allows (by priority, then holders first, then
    by waiting time); the rest is shared out equally, one amp at a time,
    among the cars that draw current, up to each slave's maximum, those of
    the highest priority first. A car that cannot get its minimum is
    offered 0.
    """
    budget = limits.total()
    for s in slots:
        if s.status == LOST:
            budget -= s.hi
        s.target = 0
        s.considered = False
    if budget < 0:
        budget = 0
    user_min = limits.min_amps
    granted = 0
    while True:
        s = _first_unconsidered(slots)
        if s is None:
            break
        s.considered = True
        lo = s.min_amps(user_min)
        if lo <= budget and lo <= max_amps(s, limits):
            s.target = lo
            budget -= lo
            granted += 1
    # Equal shares among the cars that draw current: raise the lowest
    # targets of the highest priority one amp at a time. A car that waits
    # without drawing (not started yet, or full) keeps its minimum until it
    # draws. With no rules every car has priority 0: plain equal shares.
    while budget > 0 and granted:
        level = -1
        top = 0
        for s in slots:
            if _may_grow(s, limits) and (level < 0 or s.priority > top
                                         or s.priority == top and s.target < level):
                level = s.target
                top = s.priority
        if level < 0:
            break
        for s in slots:
            if budget and s.target == level and s.priority == top \
                    and _may_grow(s, limits):
                s.target += 1
                budget -= 1


def _may_grow(s, limits):
    return s.status == LINKED and s.target and s.actual_ca >= CHARGING_CA \
        and s.target < max_amps(s, limits)


def committed(slots, but):
    """What all slots except `but` may be applying or drawing now."""
    total = 0
    for s in slots:
        if s is not but and s.status != FREE:
            total += s.hi
    return total


def next_offer(slot, slots, limits):
    """The offer to put in the heartbeat now going to `slot`; updates it.

    A reduction goes out at once. A raise is cut to the room the other
    slots leave under the limit in force; if that room is below the
    slave's minimum, the offer stays where it is.
    """
    t = slot.target
    cur = slot.offer
    if t > cur:
        room = limits.total() - committed(slots, slot)
        if t > room:
            t = room
        if t < slot.min_amps(limits.min_amps) or t < cur:
            t = cur
    hi = max_amps(slot, limits)
    if t > hi:  # belt and braces: never above the slave's own maximum
        t = hi
    if t < 0:
        t = 0
    slot.offer = t
    if t > slot.hi:
        slot.hi = t
    return t


def confirm(slot):
    """The slave answered a heartbeat carrying its offer: it applies it.

    From now on it may apply no more than the offer, but its car may still
    draw more while it ramps down, and the slave may report a higher limit
    than we sent (it is then not obeying): hi covers all three.
    """
    hi = slot.offer
    a = slot.actual_ca // 100
    if a > hi:
        hi = a
    e = (slot.limit_ca + 99) // 100
    if e > hi:
        hi = e
    slot.hi = hi
