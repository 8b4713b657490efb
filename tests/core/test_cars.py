# Rules for cars by VIN (twc/cars.py): the payload's checks, which rule a
# slave's car gets, and what the sharing makes of it (twc/share.py).
import json

from twc import cars, leases, proto, share, state
from twc.health import Health
from twc.payloads import Bad
from twc.slot import LINKED, Slot
from fakebus import FakeSlave, Harness

A, B = 0x1A2B, 0x2C3D
VIN_A = b"1M8GDM9AXKP042788"
VIN_B = b"5YJYGDEE2LF000002"


def _reason(payload, per_twc=32):
    try:
        cars.parse(payload, per_twc)
    except Bad as e:
        return e.args[0]
    assert False, payload


def test_rules_are_parsed_with_their_defaults():
    rules = cars.parse(b'[{"vin": "1M8GDM9AXKP042788", "allow": false},'
                       b' {"vin": "5YJYGDEE2LF000002", "max_amps": 10, "min_amps": 8,'
                       b' "priority": 5}, {"vin": "LRW3E7EK9NC000003"}]', 32)
    assert rules == [(VIN_A, 0, 0, 0), (VIN_B, 10, 8, 5),
                     (b"LRW3E7EK9NC000003", share.ABS_MAX, 0, 0)]
    assert cars.parse(cars.to_json(rules), 32) == rules
    assert cars.parse(b"[]", 32) == []


def test_bad_rules_are_refused_with_the_reason():
    assert "JSON list" in _reason(b'{"vin": "1M8GDM9AXKP042788"}')
    assert "at most 16" in _reason(("[" + ",".join(['{"vin": "1M8GDM9AXKP0427%02d"}' % i
                                                    for i in range(17)]) + "]").encode())
    assert _reason(b'[{"vin": "1m8gdm9axkp042788"}]') == \
        "cars[0]: vin must be 17 capital letters and digits"
    assert _reason(b'[{"vin": "1M8GDM9AXKP042788", "allow": 0}]') == \
        "cars[0]: allow must be true or false"
    assert _reason(b'[{"vin": "1M8GDM9AXKP042788", "max_amps": 81}]') == \
        "cars[0]: max_amps must be 0 to 80 A, not 81"
    assert _reason(b'[{"vin": "1M8GDM9AXKP042788", "min_amps": 33}]') == \
        "cars[0]: min_amps must be 0 to 32 A, not 33"
    assert _reason(b'[{"vin": "1M8GDM9AXKP042788", "max_amps": 10.5}]') == \
        "cars[0]: max_amps must be a whole number of amps"
    assert _reason(b'[{"vin": "1M8GDM9AXKP042788", "min_amps": 12, "max_amps": 10}]') == \
        "cars[0]: min_amps must not exceed max_amps"
    assert "priority" in _reason(b'[{"vin": "1M8GDM9AXKP042788", "priority": 101}]')
    assert _reason(b'[{"vin": "1M8GDM9AXKP042788"}, {"vin": "1M8GDM9AXKP042788"}]') == \
        "cars[1]: vin is also in cars[0]"


def _slots(n, actual_ca=1000):
    out = []
    for i in range(n):
        s = Slot(i)
        s.status = LINKED
        s.id = 0x100 + i
        s.protocol = 2
        s.max_ca = 3200
        s.wanting = True
        s.demand_since = i
        s.actual_ca = actual_ca
        out.append(s)
    return out


def test_priority_gets_the_minimum_first_when_current_is_short():
    lim = share.Limits(40, 32, 10)
    slots = _slots(2)
    slots[0].offer = slots[0].hi = 6  # a holder keeps its offer among equals ...
    share.allocate(slots, lim)
    assert [s.target for s in slots] == [10, 0]
    slots[1].priority = 1  # ... but not against a car of higher priority
    share.allocate(slots, lim)
    assert [s.target for s in slots] == [0, 10]


def test_priority_fills_up_first_then_the_rest_is_shared():
    lim = share.Limits(60, 32, 40)
    slots = _slots(3)
    slots[2].priority = 2
    share.allocate(slots, lim)
    assert [s.target for s in slots] == [6, 6, 28]
    slots[2].cap = 16  # its maximum: what it cannot take goes to the others
    share.allocate(slots, lim)
    assert [s.target for s in slots] == [12, 12, 16]
    lim.set_site(60)
    share.allocate(slots, lim)
    assert [s.target for s in slots] == [22, 22, 16]


def test_a_cars_minimum_is_its_least_offer():
    lim = share.Limits(40, 32, 12)
    slots = _slots(2)
    slots[0].car_min = 10
    share.allocate(slots, lim)
    assert [s.target for s in slots] == [12, 0]  # 10 + 6 does not fit into 12
    lim.set_site(16)
    share.allocate(slots, lim)
    assert [s.target for s in slots] == [10, 6]


class Site:
    """A master on a fake bus with its leases, ticked together."""

    def __init__(self, fallback=40):
        self.h = Harness(wiring_all=40, per_twc=32, fallback=fallback)
        self.events = []
        self.lv = leases.Leases(self.h.m, lambda kind, e: self.events.append(e))

    def run(self, ms):
        for _ in range(ms // 100):
            self.h.run(100)
            self.lv.tick(self.h.now(), None)

    def plug(self, twc_id, vin):
        s = FakeSlave(twc_id)
        s.vin = vin
        self.h.linkready(s)
        self.run(2000)
        s.state = proto.STATE_CHARGING
        s.actual_ca = 1500
        return s


def test_rules_cap_by_vin_and_hold_without_leases():
    site = Site()
    assert site.lv.car_rules(b'[{"vin": "1M8GDM9AXKP042788", "max_amps": 10},'
                             b' {"vin": "5YJYGDEE2LF000002", "allow": false}]', 0)
    a = site.plug(A, VIN_A)
    b = site.plug(B, VIN_B)
    site.run(6000)  # the VINs are read, the rules apply within a second
    slots = site.h.m.slots
    assert [s.vin_known for s in slots[:2]] == [True, True]
    assert (slots[0].cap, slots[1].cap) == (10, 0)
    assert (a.applied, b.applied) == (10, 0)
    # The denied car stops drawing: its VIN is forgotten when the session
    # ends, but its rule stays while it is plugged in.
    b.actual_ca = 20
    b.state = proto.STATE_PLUGGED
    site.run(20000)
    assert not slots[1].vin_known and slots[1].cap == 0 and b.applied == 0
    assert a.applied == 10
    # Unplugged: the rule leaves with the car; the next car gets its own.
    b.state = proto.STATE_READY
    site.run(2000)
    assert slots[1].cap == share.ABS_MAX and site.lv.cars.rule_of(1) is None


def test_a_car_without_a_rule_and_new_rules():
    site = Site()
    a = site.plug(A, VIN_A)
    site.run(6000)
    assert a.applied == 32 and site.h.m.slots[0].cap == share.ABS_MAX
    assert site.lv.car_rules(b'[{"vin": "1M8GDM9AXKP042788", "max_amps": 12}]', 0)
    site.run(2000)
    assert a.applied == 12
    assert site.lv.car_rules(b'[]', 0)
    site.run(2000)
    assert a.applied == 32


def test_a_lease_cap_and_a_rule_the_lower_wins():
    site = Site()
    site.lv.car_rules(b'[{"vin": "1M8GDM9AXKP042788", "max_amps": 12}]', 0)
    a = site.plug(A, VIN_A)
    site.run(6000)
    site.lv.twc_lease("1A2B", b'{"amps": 8, "ttl_s": 5}', site.h.now())
    site.run(2000)
    assert a.applied == 8
    site.run(5000)  # the lease cap runs out, the rule stays
    assert a.applied == 12 and site.lv.cap_of(0) is None


def test_a_bad_rule_list_changes_nothing():
    site = Site()
    site.lv.car_rules(b'[{"vin": "1M8GDM9AXKP042788", "max_amps": 12}]', 0)
    assert not site.lv.car_rules(b'[{"vin": "x"}]', 0)
    assert site.events[-1] == {"event": "rejected", "topic": "cars/set",
                               "reason": "cars[0]: vin must be 17 capital letters and digits"}
    assert len(site.lv.cars.rules) == 1


def test_the_state_shows_the_rule_and_the_phase_currents():
    site = Site()
    site.lv.car_rules(b'[{"vin": "1M8GDM9AXKP042788", "max_amps": 10, "priority": 3}]', 0)
    site.plug(A, VIN_A)
    site.run(8000)  # the VIN, and a meter reading soon after the car started
    d = json.loads(state.state_json(site.h.m, site.lv, 1, "x", None, None, Health(), 0))
    assert d["car_rules"] == 1
    slave = d["slaves"][0]
    assert slave["car_rule"] == {"vin": "1M8GDM9AXKP042788", "max_amps": 10, "min_amps": 0,
                                 "priority": 3}
    assert slave["phase_amps"] == [1, 2, 3]  # the fake slave's (2, 4, 6) half amps
