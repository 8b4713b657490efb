# The JSON of twcm/<site>/state and twcm/<site>/event (docs/mqtt.md), and
# when the state is worth publishing again.
#
#     watch = StateWatch(master, leases)
#     if watch.due(now_ms):                   # cheap: compares ints
#         publish(state_json(master, leases, uptime_s, VERSION, gc.mem_free(),
#                            loop_max_ms, health, events_dropped))
#         watch.published(now_ms)
#
# The state text is written by hand, not by json.dumps: the key order is
# fixed, and currents are printed from centiamps with two decimals, where
# a float would print as 9.869999999999999.
import json

from twc import proto
from twc.slot import FREE, STATUS_NAMES
from twc.ticks import ticks_diff

MIN_GAP_MS = 1000  # no state more often than this
MAX_GAP_MS = 30000  # and at least this often
ACTUAL_STEP_CA = 100  # a draw that moved less than 1 A is no change
ERROR_MAX = 80  # characters of an error text in the state; the rest is cut

# Master event kinds (twc/master.py) as they are published.
_MASTER_EVENTS = {
    "joined": "slave_joined",
    "lost": "slave_lost",
    "released": "slave_released",
    "vin": "vin_read",
}

# StateWatch's list: _HEAD values, then _PER_SLOT for each slot.
_HEAD = 5
_PER_SLOT = 18
_ACTUAL = 5  # the slot's actual_ca


def _text(v):
    return "null" if v is None else json.dumps(v)


def _num(v):
    return "null" if v is None else "%d" % v


def _error(text):
    return _text(text if text is None or len(text) <= ERROR_MAX else text[:ERROR_MAX])


def _bool(v):
    return "true" if v else "false"


def _centi(ca, whole):
    """Centiamps as amps: "9.87"; whole: "32" when there is no fraction."""
    if whole and ca % 100 == 0:
        return "%d" % (ca // 100)
    return "%d.%02d" % (ca // 100, ca % 100)


def _half(h):
    """0.5 A units as amps: "15.5", "16"."""
    return "%d.5" % (h // 2) if h % 2 else "%d" % (h // 2)


def _rule(r):
    """The car rule in force (twc/cars.py) as JSON, or null."""
    if r is None:
        return "null"
    return ("{\"vin\":\"%s\",\"max_amps\":%d,\"min_amps\":%d,\"priority\":%d}"
            % (r[0].decode(), r[1], r[2], r[3]))


def _slave(s, leases, sep):
    v = s.volts
    h = s.half_amps
    state = proto.STATE_NAMES.get(s.state)
    return (
        "%s{\"id\":\"%04X\",\"link\":\"%s\",\"protocol\":%d,\"max_amps\":%s,"
        "\"offered_amps\":%d,\"actual_amps\":%s,\"state\":\"%s\","
        "\"volts\":[%d,%d,%d],\"phase_amps\":%s,\"lifetime_kwh\":%s,\"vin\":%s,"
        "\"cap_amps\":%s,\"car_rule\":%s,\"wanting\":%s}"
        % (sep, s.id, STATUS_NAMES[s.status], s.protocol, _centi(s.max_ca, True),
           s.offer, _centi(s.actual_ca, False),
           state if state is not None else "0x%02X" % s.state,
           v[0], v[1], v[2],
           # Measured with the voltages (FD EB): none before the first reading.
           "[%s,%s,%s]" % (_half(h[0]), _half(h[1]), _half(h[2])) if s.kwh >= 0 else "null",
           _num(s.kwh if s.kwh >= 0 else None),
           # The master keeps only a VIN whose check digit is right: A-Z, 0-9.
           "\"" + bytes(s.vin).decode() + "\"" if s.vin_known else "null",
           _num(leases.cap_of(s.index)), _rule(leases.cars.rule_of(s.index)),
           _bool(s.wanting)))


def state_json(master, leases, uptime_s, version, free_heap, loop_max_ms, health, dropped):
    """The retained state message (docs/mqtt.md, twcm/<site>/state).

    free_heap, loop_max_ms: ints, or None where the runtime does not
    measure them; health: a twc.health.Health; dropped: the events dropped
    since start (Hub.dropped).
    """
    return "".join(state_parts(master, leases, uptime_s, version, free_heap, loop_max_ms,
                               health, dropped))


def state_parts(master, leases, uptime_s, version, free_heap, loop_max_ms, health, dropped):
    """state_json() as a list of pieces whose concatenation it is: the head,
    the health, one piece per slave (with its comma), the tail. The device
    writes them to the socket one by one, so that no piece is bigger than a
    few hundred bytes: a long-running heap is fragmented, and the whole
    message is more than a kilobyte."""
    lim = master.limits
    h = health
    out = [
        "{\"version\":%s,\"uptime_s\":%d,\"mode\":\"%s\",\"source\":\"%s\","
        "\"limit_amps\":%d,\"lease_left_s\":%s,\"schedule_windows\":%d,"
        "\"time_valid\":%s,\"wiring_max_amps_all\":%d,"
        "\"wiring_max_amps_per_twc\":%d,\"fallback_amps\":%d,\"min_amps\":%d,"
        "\"car_rules\":%d,\"free_heap\":%s,\"loop_max_ms\":%s,"
        % (_text(version), uptime_s, leases.mode, leases.source, lim.site,
           _num(leases.lease_left_s), leases.windows, _bool(leases.time_valid),
           lim.wiring_all, lim.wiring_per_twc, lim.fallback, lim.min_amps,
           len(leases.cars.rules), _num(free_heap), _num(loop_max_ms)),
        "\"network\":{\"up\":%s,\"connects\":%d,\"last_error\":%s},"
        "\"ntp\":{\"synced\":%s,\"last_error\":%s},"
        "\"mqtt\":{\"connects\":%d,\"last_error\":%s},"
        "\"events_dropped\":%d,\"slaves\":["
        % (_bool(h.net_up), h.net_connects, _error(h.net_error), _bool(h.ntp_synced),
           _error(h.ntp_error), h.mqtt_connects, _error(h.mqtt_error), dropped)]
    sep = ""
    for s in master.slots:
        if s.status != FREE:
            out.append(_slave(s, leases, sep))
            sep = ","
    out.append("]}")
    return out


def event_json(event, twc_id=None):
    """The JSON of twcm/<site>/event, "event" first, then sorted keys.

    event: a dict from Leases' on_event, or a master event kind with the
    TWC id it concerns (Master's on_event(kind, twc_id, detail)).
    """
    if not isinstance(event, dict):
        kind = _MASTER_EVENTS.get(event, event)
        event = {"event": kind}
        if twc_id is not None:
            event["twc"] = "%04X" % twc_id
    parts = ["{\"event\":" + json.dumps(event["event"])]
    for k in sorted(event):
        if k != "event":
            parts.append(json.dumps(k) + ":" + json.dumps(event[k]))
    return ",".join(parts) + "}"


class StateWatch:
    """Tells when the state is due: on a meaningful change, or every 30 s.

    It keeps the values the last published state was made of in a list
    made once, and compares them without building anything. Not
    meaningful: uptime, free heap, the lease countdown, a draw that moved
    less than 1 A. Two states are at least MIN_GAP_MS apart.
    """

    def __init__(self, master, leases):
        self.master = master
        self.leases = leases
        n = _HEAD + _PER_SLOT * len(master.slots)
        self._last = [0] * n  # as published
        self._cur = [0] * n  # scratch for due()
        self._at = 0
        self._never = True

    def due(self, now_ms):
        """True if a state should be published now."""
        if self._never:
            return True
        age = ticks_diff(now_ms, self._at)
        if age >= MAX_GAP_MS:
            return True
        if age < MIN_GAP_MS:
            return False
        cur = self._cur
        last = self._last
        self._fill(cur)
        for i in range(len(cur)):
            if cur[i] != last[i]:
                if i >= _HEAD and (i - _HEAD) % _PER_SLOT == _ACTUAL:
                    d = cur[i] - last[i]
                    if -ACTUAL_STEP_CA < d < ACTUAL_STEP_CA:
                        continue
                return True
        return False

    def force(self):
        """Make the next due() true (e.g. after a reconnect: the broker
        may have lost the retained state)."""
        self._never = True

    def published(self, now_ms):
        """Call after publishing the state: its values become the reference."""
        self._fill(self._last)
        self._at = now_ms
        self._never = False

    def _fill(self, out):
        lv = self.leases
        out[0] = lv.source
        out[1] = lv.amps
        out[2] = lv.windows
        out[3] = lv.time_valid
        out[4] = len(lv.cars.rules)
        k = _HEAD
        for s in self.master.slots:
            out[k] = s.status
            out[k + 1] = s.id
            out[k + 2] = s.protocol
            out[k + 3] = s.max_ca
            out[k + 4] = s.offer
            out[k + _ACTUAL] = s.actual_ca
            out[k + 6] = s.state
            out[k + 7] = s.volts[0]
            out[k + 8] = s.volts[1]
            out[k + 9] = s.volts[2]
            out[k + 10] = s.kwh
            out[k + 11] = s.vin_known
            out[k + 12] = lv.cap_of(s.index)
            out[k + 13] = s.wanting
            out[k + 14] = s.half_amps[0]
            out[k + 15] = s.half_amps[1]
            out[k + 16] = s.half_amps[2]
            # The figures of the car's rule, in one small int:
            out[k + 17] = (lv.cars.max_of(s.index) * 128 + s.car_min) * 256 + s.priority + 128
            k += _PER_SLOT
