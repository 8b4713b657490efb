"""Rules for cars by VIN (firmware/twc/cars.py) with the real master, its leases and
simulated slaves whose cars tell their VIN, in random runs.

At every 5 ms step, with rules present: the wiring limits hold (per TWC and all TWCs),
and no slave applies more than the cap in force (a rule's max_amps, 0 for a denied car)
at some moment of the last SETTLE_MS. Once settled: a denied car gets 0 A, a car with
max_amps at most that, a car's minimum is 0 or at least its min_amps, and a car of
higher priority is below its maximum only while the cars of lower priority are at their
minimum.
"""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from twc.leases import Leases
from twc.master import Master
from twc.share import ABS_MAX, Limits
from twc.slot import FREE
from twcm.sim.bus import Bus
from twcm.sim.car import Car

STEP = 5
SETTLE_MS = 2500
VINS = ("1M8GDM9AXKP042788", "5YJYGDEE2LF000002", "LRW3E7EK9NC000003")

rule = st.fixed_dictionaries({}, optional={
    "allow": st.booleans(), "max_amps": st.integers(0, 40), "min_amps": st.integers(0, 16),
    "priority": st.integers(-2, 2)}).filter(
        lambda r: r.get("min_amps", 0) <= r.get("max_amps", ABS_MAX))
rule_sets = st.lists(st.one_of(st.none(), rule), min_size=3, max_size=3)

actions = st.lists(st.one_of(
    st.tuples(st.just("plug"), st.integers(0, 2)),
    st.tuples(st.just("unplug"), st.integers(0, 2)),
    st.tuples(st.just("silence"), st.integers(0, 2), st.integers(500, 30_000)),
    st.tuples(st.just("site"), st.integers(0, 120)),
    st.tuples(st.just("rules"), rule_sets),
    st.tuples(st.just("wait"), st.integers(10, 15_000)),
), min_size=1, max_size=10)


def _payload(rules: list[dict | None]) -> str:
    return json.dumps([{"vin": v, **r} for v, r in zip(VINS, rules) if r is not None])


class World:
    def __init__(self, wiring_all: int, per_twc: int, n: int, seed: int) -> None:
        self.wiring_all, self.per_twc = wiring_all, per_twc
        self.bus = Bus(step_ms=STEP, start_ms=(1 << 30) - 20_000)
        self.limits = Limits(wiring_all, per_twc, wiring_all)
        self.master = Master(self.bus.master_send, self.limits, now=self.bus.master_now)
        self.leases = Leases(self.master)
        self.bus.attach_master(self.master)
        for i in range(n):
            s = self.bus.add_slave(seed=seed * 7 + i, protocol=2, max_amps=32,
                                   car=Car(max_amps=48, soc=0.3, vin=VINS[i]))
            s.car.plug()
        self.rules: list[dict | None] = [None] * 3
        self.history: list[list[tuple[int, int]]] = [[(self.bus.now, ABS_MAX)]
                                                     for _ in self.bus.slaves]
        self.bus.hooks.append(self.tick)

    def slot(self, twc_id: int):
        return next((s for s in self.master.slots if s.status != FREE and s.id == twc_id),
                    None)

    def tick(self, now: int) -> None:
        self.leases.tick(self.bus.master_now, None)
        applied = [s.applied_amps for s in self.bus.slaves]
        assert sum(applied) <= self.wiring_all, (now, applied)
        for i, s in enumerate(self.bus.slaves):
            slot = self.slot(s.id)
            hist = self.history[i]
            if slot is not None and slot.cap != hist[-1][1]:
                hist.append((now, slot.cap))
            allowed = max(c for j, (since, c) in enumerate(hist)
                          if j + 1 == len(hist) or hist[j + 1][0] >= now - SETTLE_MS)
            assert applied[i] <= min(allowed, self.per_twc, s.max_amps), (now, i, applied, hist)
            assert applied[i] == int(applied[i]) and (applied[i] == 0 or applied[i] >= 6)

    def set_rules(self, rules: list[dict | None]) -> None:
        assert self.leases.car_rules(_payload(rules), self.bus.master_now)
        self.rules = rules

    def act(self, action: tuple) -> None:
        kind, slaves = action[0], self.bus.slaves
        if kind == "wait":
            self.bus.advance(action[1])
        elif kind == "site":
            self.limits.set_site(action[1])
        elif kind == "rules":
            self.set_rules(action[1])
        else:
            s = slaves[action[1] % len(slaves)]
            if kind == "plug":
                s.car.plug()
            elif kind == "unplug":
                s.car.unplug()
            elif kind == "silence":
                s.silence(self.bus.now, action[2])
        self.bus.advance(200)


def _most(r: dict) -> int:
    return 0 if r.get("allow") is False else r.get("max_amps", ABS_MAX)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(12, 64), st.integers(1, 3), rule_sets, actions, st.integers(0, 1000))
def test_rules_hold_at_every_instant_and_once_settled(wiring_all, n, rules, acts, seed):
    w = World(wiring_all, 32, n, seed)
    w.set_rules(rules)
    w.bus.advance(3000)
    for a in acts:
        w.act(a)
    for s in w.bus.slaves:
        s.heal(w.bus.now)
    w.bus.advance(95_000)  # lost slaves come back, VINs are read, cars ramp
    got = {}
    for i, s in enumerate(w.bus.slaves):
        r = w.rules[i]
        slot = w.slot(s.id)
        if r is None or slot is None or not s.car.plugged or s.car.full:
            continue
        if r:  # an empty rule changes nothing: the device may keep none for it
            assert w.leases.cars.rule_of(slot.index) is not None, (i, r)
        assert s.applied_amps <= _most(r), (i, r, s.applied_amps)
        assert s.applied_amps == 0 or s.applied_amps >= r.get("min_amps", 0), (i, r)
        got[i] = (r.get("priority", 0), s.applied_amps, min(_most(r), 32),
                  max(6, r.get("min_amps", 0)))
    for hi_prio, hi_amps, hi_max, _ in got.values():
        for lo_prio, lo_amps, _, lo_min in got.values():
            if hi_prio > lo_prio and 0 < hi_amps < hi_max:
                assert lo_amps <= lo_min, got


def test_denied_and_capped_cars_with_a_car_without_rule():
    w = World(40, 32, 3, 1)
    w.set_rules([{"allow": False}, {"max_amps": 10}, None])
    w.bus.advance(40_000)
    a, b, c = w.bus.slaves
    assert (a.applied_amps, b.applied_amps, c.applied_amps) == (0, 10, 30)
    assert a.car.amps == 0
