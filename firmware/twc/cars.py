# Rules for cars, by the VIN their Wall Connector reports: twcm/<site>/cars/set
# (docs/mqtt.md, docs/cars.md). The device keeps them until it gets new ones
# (and, where its runtime stores them, across a reboot), so that they hold
# without the host: a car's maximum (0 for a car that may not charge), its
# minimum and its priority when the current is short.
#
#     rules = CarRules(len(master.slots))
#     rules.set(parse(payload, wiring_per_twc))   # raises payloads.Bad
#     rules.resolve(master.slots)                 # in Leases.tick, once a second
#     cap = rules.max_of(slot.index)              # ABS_MAX without a rule
#
# The VIN is read only while a car draws current (twc/master.py), and is
# forgotten when it stops drawing. A rule found for a VIN therefore stays
# with its slave for as long as the slave says a car is plugged in (it
# wants current: a car capped at 0 A still does), so that a car stopped by
# its rule is not started again when its VIN is forgotten. A slave that
# joins, or whose car leaves, has no rule until its VIN is read. The share
# (twc/share.py) reads the rule through the slot: slot.cap (set by the
# leases), slot.car_min and slot.priority.
#
# resolve() allocates nothing: it compares the slot's VIN bytes once per
# VIN read, and otherwise only sets ints.
from twc import payloads
from twc.payloads import Bad
from twc.share import ABS_MAX
from twc.slot import FREE

MAX_RULES = 16
PRIORITY_MAX = 100
_VIN_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def parse(payload, wiring_per_twc):
    """The rules of a cars/set payload: a list of (vin bytes, max_amps,
    min_amps, priority), or raise Bad. max_amps 0 is a car that may not
    charge ("allow": false)."""
    data = payloads.parse(payload)
    if not isinstance(data, list):
        raise Bad("cars must be a JSON list of rules {\"vin\": ..., \"max_amps\": ...}")
    if len(data) > MAX_RULES:
        raise Bad("cars has %d rules; at most %d are allowed" % (len(data), MAX_RULES))
    out = []
    for i in range(len(data)):
        r = data[i]
        where = "cars[%d]: " % i
        if not isinstance(r, dict):
            raise Bad(where + "must be an object with a vin")
        vin = r.get("vin")
        if not isinstance(vin, str) or len(vin) != 17 or \
                not all(c in _VIN_CHARS for c in vin):
            raise Bad(where + "vin must be 17 capital letters and digits")
        allow = r.get("allow", True)
        if not isinstance(allow, bool):
            raise Bad(where + "allow must be true or false")
        most = _amps(r, "max_amps", ABS_MAX, ABS_MAX, where)
        least = _amps(r, "min_amps", 0, wiring_per_twc, where)
        if least > most:
            raise Bad(where + "min_amps must not exceed max_amps")
        prio = r.get("priority", 0)
        if isinstance(prio, bool) or not isinstance(prio, int) or \
                not -PRIORITY_MAX <= prio <= PRIORITY_MAX:
            raise Bad(where + "priority must be a whole number from -100 to 100")
        b = vin.encode()
        for k in range(len(out)):
            if out[k][0] == b:
                raise Bad(where + "vin is also in cars[%d]" % k)
        out.append((b, most if allow else 0, least, prio))
    return out


def _amps(r, key, default, most, where):
    v = r.get(key)
    if v is None:
        return default
    if isinstance(v, bool) or not isinstance(v, int):
        raise Bad(where + key + " must be a whole number of amps")
    if not 0 <= v <= most:
        raise Bad("%s%s must be 0 to %d A, not %d" % (where, key, most, v))
    return v


def to_json(rules):
    """The rules as the JSON text parse() reads: what a runtime stores."""
    return "[" + ",".join(
        "{\"vin\":\"%s\",\"max_amps\":%d,\"min_amps\":%d,\"priority\":%d}"
        % (r[0].decode(), r[1], r[2], r[3]) for r in rules) + "]"


class CarRules:
    """The stored rules, and which one applies to each slave now."""

    def __init__(self, n):
        self.rules = []
        self._rule = [-1] * n  # per slot index: the rule in force, -1 for none
        self._id = [0] * n  # the TWC it was found for
        self._looked = [False] * n  # its VIN was looked up since it was read

    def set(self, rules):
        """New rules (from parse()): looked up again for every slave."""
        self.rules = rules
        for i in range(len(self._rule)):
            self._looked[i] = False
            self._rule[i] = -1

    def resolve(self, slots):
        """Find the rule of each slave's car; set its car_min and priority."""
        for s in slots:
            i = s.index
            if s.status == FREE or s.id != self._id[i] or \
                    not (s.wanting or s.vin_known):
                self._rule[i] = -1  # the car (or the TWC) left
                self._looked[i] = False
                self._id[i] = s.id
            if s.vin_known:
                if not self._looked[i]:
                    self._looked[i] = True
                    self._rule[i] = self._find(s.vin)
            else:
                self._looked[i] = False  # the next VIN read is looked up
            k = self._rule[i]
            if k < 0:
                s.car_min = 0
                s.priority = 0
            else:
                r = self.rules[k]
                s.car_min = r[2]
                s.priority = r[3]

    def _find(self, vin):
        rules = self.rules
        for k in range(len(rules)):
            if vin == rules[k][0]:  # bytearray first: compared without allocating
                return k
        return -1

    def max_of(self, index):
        """The most the rule in force lets slot `index` be offered."""
        k = self._rule[index]
        return ABS_MAX if k < 0 else self.rules[k][1]

    def rule_of(self, index):
        """The rule in force for slot `index` (vin, max, min, priority), or None."""
        k = self._rule[index]
        return None if k < 0 else self.rules[k]
