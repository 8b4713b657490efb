# Checking the payloads of the MQTT commands (docs/mqtt.md): each parser
# returns the values of a valid payload or raises Bad with a reason a
# person understands. Nothing is changed until a payload has passed.
import json

EPOCH = 1704067200  # 2024-01-01T00:00:00Z: a clock before it is not set
TTL_MIN = 5
TTL_MAX = 3600
HORIZON_S = 48 * 3600  # no window may end later than this after now
MAX_WINDOWS = 48
MAX_PAYLOAD = 4096  # bytes; longer payloads are refused unparsed

_REL_MAX = (1 << 30) - 1  # the largest small int on a 32-bit port


class Bad(Exception):
    """A command is refused; the argument is the reason for the user."""


def parse(payload):
    if len(payload) > MAX_PAYLOAD:
        raise Bad("payload is larger than %d bytes" % MAX_PAYLOAD)
    try:
        return json.loads(payload)
    except (ValueError, RuntimeError):  # RuntimeError: CPython's nesting limit
        raise Bad("payload is not valid JSON")


def number(d, key, where=""):
    if key not in d:
        raise Bad(where + key + " is missing")
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v:
        raise Bad(where + key + " must be a number")
    return v


def whole(d, key, where=""):
    if key not in d:
        raise Bad(where + key + " is missing")
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise Bad(where + key + " must be a whole number")
    return v


def amps_field(d, most, what, where=""):
    """The amps field, floored to whole amps, within 0..most."""
    v = number(d, "amps", where)
    if v < 0:
        raise Bad(where + "amps must not be negative")
    if v > most:
        raise Bad("%samps %s is above the wiring limit %s (%d A)"
                   % (where, v, what, most))
    return int(v)


def lease(payload, most, what, last_seq):
    """(amps, ttl_s, seq) of a lease payload, or raise Bad.

    seq is -1 when the payload has none; last_seq -1 when none is known.
    """
    d = parse(payload)
    if not isinstance(d, dict):
        raise Bad("payload must be a JSON object like "
                   "{\"amps\": 16, \"ttl_s\": 60}")
    amps = amps_field(d, most, what)
    ttl = whole(d, "ttl_s")
    if not TTL_MIN <= ttl <= TTL_MAX:
        raise Bad("ttl_s must be between %d and %d seconds, not %d"
                   % (TTL_MIN, TTL_MAX, ttl))
    seq = -1
    if d.get("seq") is not None:
        seq = whole(d, "seq")
        if seq < 0:
            raise Bad("seq must not be negative")
        if seq < last_seq:
            raise Bad("seq %d is lower than the last accepted seq %d"
                       % (seq, last_seq))
    return amps, ttl, seq


def windows(data, most, now):
    """Sorted (start, end, amps) tuples, in seconds since EPOCH.

    now: the present in seconds since EPOCH, or None when restoring at boot
    (then windows are not checked against the clock). With now, a window
    that has begun starts at now.
    """
    if not isinstance(data, list):
        raise Bad("schedule must be a JSON list of windows "
                   "{\"start\": ..., \"end\": ..., \"amps\": ...}")
    if len(data) > MAX_WINDOWS:
        raise Bad("schedule has %d windows; at most %d are allowed"
                   % (len(data), MAX_WINDOWS))
    out = []
    for i in range(len(data)):
        w = data[i]
        where = "windows[%d]: " % i
        if not isinstance(w, dict):
            raise Bad(where + "must be an object with start, end and amps")
        start = whole(w, "start", where)
        end = whole(w, "end", where)
        amps = amps_field(w, most, "for all TWCs", where)
        if end <= start:
            raise Bad(where + "end must be after start")
        start -= EPOCH
        end -= EPOCH
        if now is not None:
            if end <= now:
                raise Bad(where + "has already ended")
            if end > now + HORIZON_S:
                raise Bad(where + "ends more than 48 h from now")
            if start < now:
                start = now
        if start < 0 or end > _REL_MAX:
            raise Bad(where + "start and end must be Unix seconds "
                       "from 2024 to 2057")
        out.append((start, end, amps, i))
    out.sort()
    for k in range(1, len(out)):
        if out[k][0] < out[k - 1][1]:
            raise Bad("windows[%d] overlaps windows[%d]"
                       % (out[k - 1][3], out[k][3]))
    return [(w[0], w[1], w[2]) for w in out]
