"""The load-sharing invariants, checked at every instant of random runs.

The real master and simulated slaves with cars run on the simulated bus
while hypothesis draws the wiring, the slaves, and a sequence of events:
cars plugged and unplugged, slaves falling silent, garbage and bad frames
on the line, site-limit changes. After every 5 ms step:

- no slave applies more than min(per-TWC wiring, its own rating);
- the limits the slaves apply add up to no more than the all-TWC wiring;
- every applied limit is 0 or at least the slave's minimum, in whole amps.

Then, once things have settled: every car that wants current has its
minimum when the budget allows, and the budget is shared out in full and
fairly among the cars that draw.
"""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings, strategies as st

from twc.master import Master
from twc.share import Limits
from twcm.sim.bus import Bus
from twcm.sim.car import Car

STEP = 5
SITE_SETTLE_MS = 2500


@st.composite
def wiring(draw: st.DrawFn) -> tuple[int, int, int, int]:
    per_twc = draw(st.integers(6, 80))
    # Mostly less than three TWCs could take: that is where sharing matters.
    wiring_all = draw(st.integers(6, min(240, 3 * per_twc)))
    fallback = draw(st.integers(0, wiring_all))
    min_amps = draw(st.sampled_from([0, 0, 0, 8, 12]))
    if min_amps > per_twc:
        min_amps = 0
    return wiring_all, per_twc, fallback, min_amps


# (protocol, rating, car's own maximum, plugged in at start)
slave_specs = st.lists(
    st.tuples(st.sampled_from([1, 2]), st.sampled_from([32, 80]),
              st.sampled_from([16, 32, 48]), st.booleans()),
    min_size=1, max_size=3)

actions = st.lists(st.one_of(
    st.tuples(st.just("plug"), st.integers(0, 2)),
    st.tuples(st.just("unplug"), st.integers(0, 2)),
    st.tuples(st.just("silence"), st.integers(0, 2), st.integers(500, 40_000)),
    st.tuples(st.just("garbage"), st.integers(0, 2), st.integers(1, 40)),
    st.tuples(st.just("corrupt"), st.integers(0, 2), st.integers(1, 5)),
    st.tuples(st.just("site"), st.integers(0, 200)),
    st.tuples(st.just("wait"), st.integers(10, 15_000)),
), min_size=1, max_size=12)


def minimum(protocol: int, min_amps: int) -> int:
    return max(5 if protocol == 1 else 6, min_amps)


class World:
    def __init__(self, limits: tuple[int, int, int, int], specs, seed: int) -> None:
        self.wiring_all, self.per_twc, fallback, self.min_amps = limits
        self.bus = Bus(step_ms=STEP, start_ms=(1 << 30) - 20_000)
        self.limits = Limits(self.wiring_all, self.per_twc, fallback, self.min_amps)
        self.master = Master(self.bus.master_send, self.limits, now=self.bus.master_now)
        self.bus.attach_master(self.master)
        for i, (protocol, rating, car_max, plugged) in enumerate(specs):
            s = self.bus.add_slave(seed=seed * 7 + i, protocol=protocol, max_amps=rating,
                                   car=Car(max_amps=car_max, soc=0.3))
            if plugged:
                s.car.plug()
        # The site limits in force lately: (since, total).
        self.site_history = [(self.bus.now, self.limits.total())]
        self.bus.hooks.append(self.check)

    def cap(self, s) -> int:
        return min(self.per_twc, s.max_amps)

    def check(self, now: int) -> None:
        applied = [s.applied_amps for s in self.bus.slaves]
        assert sum(applied) <= self.wiring_all, (now, applied)
        # A lower site limit reaches every slave within its next heartbeat
        # or two (lower first, then raise).
        recent = [t for (since, t) in self.site_history if since >= now - SITE_SETTLE_MS]
        allowed = max(recent + [self.site_history[-1][1]])
        assert sum(applied) <= allowed, (now, applied, self.site_history[-3:])
        for s, a in zip(self.bus.slaves, applied):
            assert a == int(a), (now, applied)
            assert a <= self.cap(s), (now, applied)
            assert a == 0 or a >= minimum(s.protocol, self.min_amps), (now, applied)

    def act(self, action: tuple) -> None:
        slaves = self.bus.slaves
        kind = action[0]
        if kind == "wait":
            self.bus.advance(action[1])
        elif kind == "site":
            self.site_history.append((self.bus.now, self.limits.total()))
            self.limits.set_site(action[1])
            self.site_history.append((self.bus.now, self.limits.total()))
        else:
            s = slaves[action[1] % len(slaves)]
            if kind == "plug":
                s.car.plug()
            elif kind == "unplug":
                s.car.unplug()
            elif kind == "silence":
                s.silence(self.bus.now, action[2])
            elif kind == "garbage":
                s.send_garbage(action[2])
            elif kind == "corrupt":
                s.corrupt_next(action[2])
        self.bus.advance(200)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wiring(), slave_specs, actions, st.integers(0, 1000))
def test_offers_stay_within_the_wiring_at_every_instant(limits, specs, acts, seed):
    w = World(limits, specs, seed)
    w.bus.advance(3000)
    for a in acts:
        w.act(a)
    # Settle: faults end, silent slaves come back, lost ones are released
    # and linked again, cars ramp.
    for s in w.bus.slaves:
        s.heal(w.bus.now)
    w.bus.advance(95_000)

    budget = w.limits.total()
    slaves = w.bus.slaves
    assert all(s.mastered for s in slaves)
    wanting = [s for s in slaves if s.car.plugged and not s.car.full]
    mins = sum(minimum(s.protocol, w.min_amps) for s in wanting
               if minimum(s.protocol, w.min_amps) <= w.cap(s))
    if mins <= budget:
        for s in wanting:
            if minimum(s.protocol, w.min_amps) <= w.cap(s):
                assert s.applied_amps >= minimum(s.protocol, w.min_amps), (budget, s.applied_amps)
    for s in slaves:
        if not s.car.plugged:
            assert s.applied_amps == 0
    drawing = [s for s in slaves if s.car.amps >= 1]
    growable = [s for s in drawing if s.applied_amps < w.cap(s)]
    if growable:
        # The budget is used in full, and shared equally (whole amps).
        total = sum(s.applied_amps for s in slaves)
        assert total == budget, (budget, [s.applied_amps for s in slaves])
        shares = [s.applied_amps for s in growable]
        assert max(shares) - min(shares) <= 1, [s.applied_amps for s in drawing]
