# What decides the site limit: leases from the host, a stored schedule, or
# the fallback. Sans-IO: MQTT payloads and the time go in, the limit in
# force goes to the master, events come out through a callback.
# docs/mqtt.md is the public contract this implements.
#
#     leases = Leases(master, on_event)    # on_event(kind, event_dict)
#     leases.site_lease(payload, now_ms)             # twcm/<site>/limit/set
#     leases.twc_lease("1A2B", payload, now_ms)      # twcm/<site>/twc/1A2B/limit/set
#     leases.schedule(payload, now_ms, utc_s)        # twcm/<site>/schedule/set
#     leases.twc_charging("1A2B", payload, now_ms)   # twcm/<site>/twc/1A2B/charging/set
#     leases.car_rules(payload, now_ms)              # twcm/<site>/cars/set
#     leases.tick(now_ms, utc_s)                     # every loop iteration
#
# A command that is accepted takes effect at the next tick(). Which source
# sets the site limit, first that applies:
#   1. "lease": a live site lease (each one lasts ttl_s from its arrival);
#   2. "schedule": the stored window covering the present UTC time (only
#      while the clock is valid: utc_s not None and after 2024);
#   3. "fallback": limits.fallback (fallback_amps of the configuration).
# Per-TWC leases cap one slave each (slot.cap) while live; the rule of a
# car's VIN (twc/cars.py) caps it too, and lasts until replaced. A start/stop
# command (twc_charging) is handed to the master, which refuses it unless
# the device config enabled it (Master.charging).
#
# Events, each a dict with "event" set to its kind:
#   rejected          topic, reason[, twc]       a command changed nothing
#   lease_expired     [twc]                      a lease ran out
#   fallback_entered  source, previous, amps     the source became fallback
#   fallback_left     source, previous, amps     it was fallback, is no more
#   source_changed    source, previous, amps     lease <-> schedule
#   schedule_not_restored  reason                restore() refused its text
#
# Times: now_ms are wrapping ticks (twc/ticks.py). utc_s is Unix seconds,
# or None while the clock is not set. Above 2**30 it is a heap object on a
# 32-bit port, so windows are kept in seconds since EPOCH (2024-01-01),
# small ints until 2058. tick() does its work at most once a second (and
# at the moment a lease runs out); in between it only compares ticks. It
# allocates nothing, except for an event, and, while it follows a
# schedule, utc_s - EPOCH at a window's start or end and once a minute.
from twc import cars, payloads
from twc.contract import CARS_TOPIC, CHARGING_TOPIC, SCHEDULE_TOPIC, SITE_TOPIC, twc_topic
from twc.payloads import EPOCH, Bad
from twc.master import START_STOP_OFF
from twc.slot import FREE
from twc.ticks import ticks_add, ticks_diff

EVAL_MS = 1000  # tick() re-evaluates at least this often
RESYNC_MS = 60000  # and reads the UTC clock at least this often

FALLBACK = 0
SCHEDULE = 1
LEASE = 2
SOURCES = ("fallback", "schedule", "lease")

_HEX = "0123456789abcdefABCDEF"


def _no_event(kind, event):
    pass


class Leases:
    """The site lease, per-TWC leases and the schedule of one master.

    Commands return True when accepted; otherwise they emit "rejected" and
    change nothing. twc_id_hex and payloads as received (str or bytes for
    payloads, str for the id).
    """

    def __init__(self, master, on_event=None):
        self.master = master
        self.on_event = on_event or _no_event
        self._site_live = False
        self._site_amps = 0
        self._site_until = 0
        self._site_seq = -1  # none; forgotten when the lease runs out
        n = len(master.slots)
        self._cap_live = [False] * n  # per slot index
        self._cap_id = [0] * n  # the TWC the cap was set for
        self._cap_amps = [0] * n
        self._cap_until = [0] * n
        self._cap_seq = [-1] * n
        self.cars = cars.CarRules(n)
        self._windows = []  # sorted, disjoint (start, end, amps) since EPOCH
        self._sched_ok = False  # _sched_amps holds until _sched_due
        self._sched_amps = -1
        self._sched_due = 0
        self._source = FALLBACK
        self._amps = master.limits.site
        self._time_ok = False
        self._now = 0  # the last now_ms seen
        self._due = 0  # next evaluation, unless _force
        self._force = True

    # -- commands ----------------------------------------------------------

    def site_lease(self, payload, now_ms):
        """twcm/<site>/limit/set: the total for all TWCs. True if accepted."""
        try:
            amps, ttl, seq = payloads.lease(payload, self.master.limits.wiring_all,
                                    "for all TWCs", self._site_seq)
        except Bad as e:
            self._reject(SITE_TOPIC, e.args[0])
            return False
        self._site_live = True
        self._site_amps = amps
        self._site_until = ticks_add(now_ms, ttl * 1000)
        if seq >= 0:
            self._site_seq = seq
        self._accepted(now_ms)
        return True

    def twc_lease(self, twc_id_hex, payload, now_ms):
        """twcm/<site>/twc/<id>/limit/set: a cap for one TWC. True if accepted."""
        topic = twc_topic(twc_id_hex)
        try:
            s = self._slot(twc_id_hex)
            i = s.index
            mine = self._cap_live[i] and self._cap_id[i] == s.id
            amps, ttl, seq = payloads.lease(payload, self.master.limits.wiring_per_twc,
                                    "per TWC",
                                    self._cap_seq[i] if mine else -1)
        except Bad as e:
            self._reject(topic, e.args[0], twc_id_hex.upper())
            return False
        self._cap_live[i] = True
        self._cap_id[i] = s.id
        self._cap_amps[i] = amps
        self._cap_until[i] = ticks_add(now_ms, ttl * 1000)
        if seq >= 0 or not mine:
            self._cap_seq[i] = seq
        self._accepted(now_ms)
        return True

    def twc_charging(self, twc_id_hex, payload, now_ms):
        """twcm/<site>/twc/<id>/charging/set: {"charging": true|false} starts
        or stops one TWC's charging (FC B1/B2). True if accepted: the master
        sends it once (events charging_start_sent ... acked)."""
        topic = twc_topic(twc_id_hex, CHARGING_TOPIC)
        try:
            if not self.master.start_stop_enabled:
                raise Bad(START_STOP_OFF)
            d = payloads.parse(payload)
            if not isinstance(d, dict) or not isinstance(d.get("charging"), bool):
                raise Bad("payload must be a JSON object like {\"charging\": false}")
            why = self.master.charging(self._slot(twc_id_hex).id, d["charging"], now_ms)
            if why is not None:
                raise Bad(why)
        except Bad as e:
            self._reject(topic, e.args[0], twc_id_hex.upper())
            return False
        return True

    def car_rules(self, payload, now_ms):
        """twcm/<site>/cars/set: replace the rules for cars by VIN. True if
        accepted."""
        try:
            rules = cars.parse(payload, self.master.limits.wiring_per_twc)
        except Bad as e:
            self._reject(CARS_TOPIC, e.args[0])
            return False
        self.cars.set(rules)
        self._accepted(now_ms)
        return True

    def schedule(self, payload, now_ms, utc_s):
        """twcm/<site>/schedule/set: replace the stored schedule.

        utc_s: Unix seconds now, None while the clock is not set.
        """
        try:
            if utc_s is None or utc_s < EPOCH:
                raise Bad("the device has no valid time yet (no NTP "
                           "answer): schedules are refused until it has")
            self._set_windows(payloads.windows(payloads.parse(payload),
                                       self.master.limits.wiring_all,
                                       int(utc_s) - EPOCH))
        except Bad as e:
            self._reject(SCHEDULE_TOPIC, e.args[0])
            return False
        self._accepted(now_ms)
        return True

    def persist(self):
        """The stored schedule as JSON text to keep in flash."""
        return "[" + ",".join(
            "{\"start\":%d,\"end\":%d,\"amps\":%d}"
            % (w[0] + EPOCH, w[1] + EPOCH, w[2]) for w in self._windows) + "]"

    def restore(self, text):
        """Load what persist() returned, at boot. False if it is not valid.

        Windows are not checked against the clock (it may not be set yet):
        tick() skips those that have ended.
        """
        try:
            self._set_windows(payloads.windows(payloads.parse(text),
                                       self.master.limits.wiring_all, None))
        except Bad as e:
            self._emit({"event": "schedule_not_restored", "reason": e.args[0]})
            return False
        self._force = True
        return True

    def _slot(self, twc_id_hex):
        if len(twc_id_hex) != 4 or \
                not all(c in _HEX for c in twc_id_hex):
            raise Bad("TWC id must be 4 hex digits, as in the state message")
        twc_id = int(twc_id_hex, 16)
        for s in self.master.slots:
            if s.status != FREE and s.id == twc_id:
                return s
        raise Bad("no TWC with id %04X is linked to this master" % twc_id)

    def _set_windows(self, windows):
        self._windows = windows
        self._sched_ok = False

    def _reject(self, topic, reason, twc=None):
        event = {"event": "rejected", "topic": topic, "reason": reason}
        if twc is not None:
            event["twc"] = twc
        self._emit(event)

    def _accepted(self, now_ms):
        self._now = now_ms
        self._force = True

    def _emit(self, event):
        self.on_event(event["event"], event)

    # -- applying ------------------------------------------------------------

    def tick(self, now_ms, utc_s):
        """Apply what is in force: the site limit and the per-TWC caps."""
        self._now = now_ms
        if not self._force and ticks_diff(now_ms, self._due) < 0:
            return
        self._force = False
        due = ticks_add(now_ms, EVAL_MS)
        if self._site_live:
            if ticks_diff(now_ms, self._site_until) >= 0:
                self._site_live = False
                self._site_seq = -1
                self._emit({"event": "lease_expired"})
            elif ticks_diff(self._site_until, due) < 0:
                due = self._site_until
        slots = self.master.slots
        rules = self.cars
        rules.resolve(slots)
        for i in range(len(slots)):
            s = slots[i]
            cap = rules.max_of(i)
            if self._cap_live[i]:
                if s.status == FREE or s.id != self._cap_id[i]:
                    self._end_cap(i)  # released: the slot is reused
                elif ticks_diff(now_ms, self._cap_until[i]) >= 0:
                    self._end_cap(i)
                    self._emit({"event": "lease_expired",
                                "twc": "%04X" % s.id})
                else:
                    if self._cap_amps[i] < cap:
                        cap = self._cap_amps[i]
                    if ticks_diff(self._cap_until[i], due) < 0:
                        due = self._cap_until[i]
            s.cap = cap
        self._due = due
        self._time_ok = utc_s is not None and utc_s >= EPOCH
        if self._site_live:
            source = LEASE
            amps = self._site_amps
            self._sched_ok = False  # its due time may be long past
        else:
            amps = self._schedule_amps(now_ms, utc_s)
            source = SCHEDULE
            if amps < 0:
                source = FALLBACK
                amps = self.master.limits.fallback
        self._amps = self.master.limits.set_site(amps)
        if source != self._source:
            previous = self._source
            self._source = source
            if source == FALLBACK:
                kind = "fallback_entered"
            elif previous == FALLBACK:
                kind = "fallback_left"
            else:
                kind = "source_changed"
            self._emit({"event": kind, "source": SOURCES[source],
                        "previous": SOURCES[previous], "amps": self._amps})

    def _end_cap(self, i):
        self._cap_live[i] = False
        self._cap_seq[i] = -1

    def _schedule_amps(self, now_ms, utc_s):
        """Amps of the window in force, -1 if none.

        Looks at utc_s only at a window's start or end, or after RESYNC_MS
        (the clock may have been corrected): on a 32-bit port, utc_s - EPOCH
        makes a heap int. Ended windows are dropped then.
        """
        w = self._windows
        if not (self._time_ok and w):
            self._sched_ok = False
            return -1
        if self._sched_ok and ticks_diff(now_ms, self._sched_due) < 0:
            return self._sched_amps
        now = int(utc_s) - EPOCH
        while w and w[0][1] <= now:
            w.pop(0)
        amps = -1
        wait_s = RESYNC_MS // 1000
        if w:
            start, end, a = w[0]
            if start <= now:
                amps = a
                left = end - now
            else:
                left = start - now
            if left < wait_s:
                wait_s = left
        self._sched_amps = amps
        self._sched_due = ticks_add(now_ms, wait_s * 1000)
        self._sched_ok = True
        return amps

    # -- for the state message -------------------------------------------------

    @property
    def source(self):
        """"lease", "schedule" or "fallback": what sets the site limit."""
        return SOURCES[self._source]

    @property
    def mode(self):
        """The source, or "stopped" while the limit in force is 0 A."""
        return "stopped" if self._amps == 0 else SOURCES[self._source]

    @property
    def amps(self):
        """The site limit in force (whole amps)."""
        return self._amps

    @property
    def lease_left_s(self):
        """Whole seconds (rounded up) until the site lease ends, or None."""
        if not self._site_live:
            return None
        ms = ticks_diff(self._site_until, self._now)
        return (ms + 999) // 1000 if ms > 0 else 0

    @property
    def windows(self):
        """Number of schedule windows stored (ended ones are dropped)."""
        return len(self._windows)

    @property
    def time_valid(self):
        """Whether the last tick() had a valid UTC time."""
        return self._time_ok

    def cap_of(self, index):
        """The per-TWC lease cap of slot `index` in amps, or None."""
        return self._cap_amps[index] if self._cap_live[index] else None
