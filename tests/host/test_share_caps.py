"""Per-TWC caps never let the sharing go past them, nor past the wiring, checked at every
instant of random runs (as test_share_properties.py does for the site limit).

The real master and its Leases (twc.leases: the per-TWC lease of docs/mqtt.md) run with
simulated slaves and cars on the simulated bus, while hypothesis draws the wiring, the
slaves, and a sequence of events: caps set, removed (a short lease at the wiring, as the
host's SiteLink removes one) or left to run out, cars plugged and unplugged, slaves falling
silent, site-limit changes. Every 5 ms:

- every heartbeat the master sends offers at most the cap in force for its slave, its
  rating and the per-TWC wiring;
- no slave applies more than the highest cap in force in the last moments (a lowered cap
  reaches it with its next heartbeat), nor more than min(per-TWC wiring, its rating);
- the limits the slaves apply add up to no more than the all-TWC wiring.

Then, once things have settled and the caps are sent again (as the host does when a TWC
comes back): every capped slave applies no more than its cap.
"""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings, strategies as st

from twc import proto
from twc.frame import Reader
from twc.leases import Leases
from twc.master import Master
from twc.share import ABS_MAX, Limits
from twc.slot import FREE
from twcm.sim.bus import Bus
from twcm.sim.car import Car

STEP = 5
SETTLE_MS = 2500  # a lowered cap reaches the slave within its next heartbeat or two


@st.composite
def wiring(draw: st.DrawFn) -> tuple[int, int, int]:
    per_twc = draw(st.integers(6, 48))
    wiring_all = draw(st.integers(6, min(240, 3 * per_twc)))
    return wiring_all, per_twc, draw(st.integers(0, wiring_all))


slave_specs = st.lists(st.tuples(st.sampled_from([1, 2]), st.sampled_from([16, 32, 80]),
                                 st.booleans()), min_size=1, max_size=3)

actions = st.lists(st.one_of(
    st.tuples(st.just("cap"), st.integers(0, 2), st.integers(0, 48),
              st.sampled_from([5, 20, 3600])),
    st.tuples(st.just("uncap"), st.integers(0, 2)),
    st.tuples(st.just("plug"), st.integers(0, 2)),
    st.tuples(st.just("unplug"), st.integers(0, 2)),
    st.tuples(st.just("silence"), st.integers(0, 2), st.integers(500, 40_000)),
    st.tuples(st.just("site"), st.integers(0, 200)),
    st.tuples(st.just("wait"), st.integers(10, 15_000)),
), min_size=1, max_size=14)


class World:
    def __init__(self, limits: tuple[int, int, int], specs, seed: int) -> None:
        self.wiring_all, self.per_twc, fallback = limits
        self.bus = Bus(step_ms=STEP, start_ms=(1 << 30) - 20_000)
        self.limits = Limits(self.wiring_all, self.per_twc, fallback)
        self.master = Master(self._send, self.limits, now=self.bus.master_now)
        self.leases = Leases(self.master)
        self.bus.attach_master(self.master)
        for i, (protocol, rating, plugged) in enumerate(specs):
            s = self.bus.add_slave(seed=seed * 7 + i, protocol=protocol, max_amps=rating,
                                   car=Car(max_amps=48, soc=0.3))
            if plugged:
                s.car.plug()
        self.wanted: dict[int, int] = {}  # slave index -> the cap the "host" wants
        self.history: list[list[tuple[int, int]]] = [[(self.bus.now, ABS_MAX)]
                                                     for _ in self.bus.slaves]
        self.heartbeats = 0
        self.bus.hooks.append(self.tick)

    def _send(self, view: memoryview) -> None:
        """Every heartbeat: its offer is within the cap in force now."""
        r = Reader()
        for b in bytes(view):
            n = r.push(b)
            if n and proto.code(r.buf) == proto.MASTER_HEARTBEAT:
                slot = self.slot(proto.receiver(r.buf))
                assert slot is not None
                offer = proto.hb_limit_ca(r.buf) / 100
                assert offer <= min(slot.cap, self.per_twc, slot.max_ca // 100), (
                    offer, slot.cap, self.per_twc, slot.max_ca)
                self.heartbeats += 1
        self.bus.master_send(view)

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
            # The caps in force at some moment of the last SETTLE_MS: each from its
            # change to the next one.
            allowed = max(c for j, (since, c) in enumerate(hist)
                          if j + 1 == len(hist) or hist[j + 1][0] >= now - SETTLE_MS)
            assert applied[i] <= min(allowed, self.per_twc, s.max_amps), (now, i, applied, hist)

    def cap(self, i: int, amps: int, ttl_s: int) -> bool:
        s = self.bus.slaves[i]
        payload = json.dumps({"amps": amps, "ttl_s": ttl_s})
        return self.leases.twc_lease("%04X" % s.id, payload, self.bus.master_now)

    def act(self, action: tuple) -> None:
        kind, slaves = action[0], self.bus.slaves
        if kind == "wait":
            self.bus.advance(action[1])
        elif kind == "site":
            self.limits.set_site(action[1])
        else:
            i = action[1] % len(slaves)
            s = slaves[i]
            if kind == "cap":
                amps = min(action[2], self.per_twc)
                if self.cap(i, amps, action[3]) and action[3] == 3600:
                    self.wanted[i] = amps
            elif kind == "uncap":
                self.wanted.pop(i, None)
                self.cap(i, self.per_twc, 5)
            elif kind == "plug":
                s.car.plug()
            elif kind == "unplug":
                s.car.unplug()
            elif kind == "silence":
                s.silence(self.bus.now, action[2])
        self.bus.advance(200)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wiring(), slave_specs, actions, st.integers(0, 1000))
def test_caps_hold_at_every_instant_and_the_wiring_too(limits, specs, acts, seed):
    w = World(limits, specs, seed)
    w.bus.advance(3000)
    for a in acts:
        w.act(a)
    for s in w.bus.slaves:
        s.heal(w.bus.now)
    w.bus.advance(95_000)  # lost slaves are released (their caps with them) and come back
    for i, amps in w.wanted.items():
        assert w.cap(i, amps, 3600)
    w.bus.advance(5000)
    assert w.heartbeats > 0
    for i, amps in w.wanted.items():
        s = w.bus.slaves[i]
        slot = w.slot(s.id)
        assert slot is not None and slot.cap == amps
        assert s.applied_amps <= amps, (i, amps, s.applied_amps)


def test_a_capped_car_leaves_the_rest_to_the_other():
    w = World((40, 32, 40), [(2, 32, True), (2, 32, True)], 1)
    w.bus.advance(30_000)
    a, b = w.bus.slaves
    assert (a.applied_amps, b.applied_amps) == (20, 20)
    assert w.cap(0, 8, 3600)
    w.bus.advance(30_000)
    assert (a.applied_amps, b.applied_amps) == (8, 32)  # the per-TWC wiring caps b
    assert w.cap(0, 32, 5)  # removed as SiteLink removes it: runs out in 5 s
    w.bus.advance(40_000)
    assert (a.applied_amps, b.applied_amps) == (20, 20)
