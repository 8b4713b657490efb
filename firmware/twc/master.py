# The TWC master, sans-IO: bytes and the time go in, frames to send come
# out through a callback. The same object runs on the ESP32, under CPython
# (`twcm master`) and in the tests.
#
#     m = Master(send, Limits(...))
#     m.handle_bytes(data, now_ms)   # whatever the UART delivered
#     m.tick(now_ms)                 # often (every few ms); may call send()
#
# send(view) receives a memoryview of a buffer that is reused for the next
# frame: write it out or copy it before returning. Times are wrapping
# millisecond ticks (twc/ticks.py). Once running, a heartbeat cycle
# allocates no memory (bench/core_alloc.py measures it).
from twc import proto, share
from twc.frame import MAX_LEN, MAX_WIRE, Reader, escape_into
from twc.slot import CHARGING_CA, FREE, LINKED, LOST, Slot
from twc.ticks import ticks_add, ticks_diff

MASTER_ID = 0x7777
MASTER_SIGN = 0x77
MAX_SLAVES = 3

HEARTBEAT_MS = 1000  # each slave hears from the master this often
HURRY_MS = 250  # a new limit goes out this soon after the last heartbeat
REPLY_MS = 150  # after a heartbeat or request, time left for the reply
QUIET_MS = 10  # the bus must have been quiet this long before we send
RX_STALE_MS = 50  # a partial frame with no byte for this long is dead
BURST_MS = 200  # spacing of the linkready burst frames
BURST = 5  # frames of each kind in a burst
LOST_MS = 26000  # a slave silent this long is no longer heartbeated
RELEASE_MS = 60000  # after its last word, a lost slave's car has stopped
METER_FIRST_MS = 5000  # first kWh poll after linking
METER_MS = 60000  # kWh and voltage poll interval
METER_SOON_MS = 5000  # and this soon after a car starts drawing
VIN_RETRY_MS = 60000
VIN_TRIES = 6
VIN_CLEAR_MS = 5000  # draw below 1 A this long ends a charging session
NOTICE_MS = 60000  # repeated warnings (second master, 4th slave) at most this often
START_STOP_MS = 10000  # at most one start/stop command per TWC this often

# Events passed to on_event(kind, twc_id, detail).
JOINED = "joined"
LOST_EVENT = "lost"
RELEASED = "released"
TOO_MANY = "too_many_slaves"
ID_CONFLICT = "id_conflict"
SECOND_MASTER = "second_master"
VIN_READ = "vin"
SESSION_END = "session_end"
START_SENT = "charging_start_sent"  # FC B1 went out (start_stop)
STOP_SENT = "charging_stop_sent"  # FC B2 went out
START_ACKED = "charging_start_acked"  # the slave acknowledged it (FD B1)
STOP_ACKED = "charging_stop_acked"  # (FD B2)

START_STOP_OFF = ("start/stop is off on this device: set twc_start_stop to true in its "
                  "config to allow it (docs/load-sharing.md says what it risks)")


def _no_event(kind, twc_id, detail):
    pass


class Master:
    def __init__(self, send, limits, master_id=MASTER_ID, sign=MASTER_SIGN,
                 on_event=None, now=0, start_stop=False):
        self.send = send
        self.limits = limits
        self.id = master_id
        self.sign = sign
        self.on_event = on_event or _no_event
        self.slots = [Slot(i) for i in range(MAX_SLAVES)]
        self.reader = Reader()
        self._tx = bytearray(MAX_LEN)
        self._wire = bytearray(MAX_WIRE)
        wire = memoryview(self._wire)
        self._views = [wire[:k] for k in range(MAX_WIRE + 1)]
        self.burst = 2 * BURST  # linkready frames still to send
        self.next_burst = now
        self.wait_until = now  # no transmission before this
        self.waiting_for = None  # the slot whose reply we wait for
        self.last_rx = ticks_add(now, -QUIET_MS)
        self.next_query = 0  # slot index to look at first for queries
        self.site_seen = limits.site  # to notice a new site limit
        self.foreign_id = -1  # last second master seen
        self.foreign_at = ticks_add(now, -NOTICE_MS)
        self.refused_at = ticks_add(now, -NOTICE_MS)
        # FC B1/B2 (see charging()): off unless the device config allows it.
        self.start_stop_enabled = start_stop
        self._cmd = [0] * MAX_SLAVES  # per slot: the command to send, 0 for none
        self._cmd_id = [-1] * MAX_SLAVES  # the TWC it is for
        self._cmd_at = [0] * MAX_SLAVES  # when it was asked for

    # -- input -------------------------------------------------------------

    def handle_bytes(self, data, now, n=-1):
        """Feed received bytes (the first n of data, or all)."""
        if n < 0:
            n = len(data)
        r = self.reader
        i = 0
        while i < n:
            k = r.push(data[i])
            if k:
                self.handle_frame(r.buf, k, now)
            i += 1
        if n:
            self.last_rx = now

    def handle_frame(self, buf, n, now):
        """Act on one checked, unescaped frame of n bytes."""
        c = proto.code(buf)
        who = proto.sender(buf)
        if who == self.id:
            if c == proto.SLAVE_LINKREADY:
                # A slave took our ID. The burst makes it pick another.
                self.burst = 2 * BURST
                self.next_burst = now
                self.on_event(ID_CONFLICT, who, None)
            return  # otherwise our own frame echoed by the adapter
        if c == proto.SLAVE_HEARTBEAT:
            if proto.receiver(buf) == self.id:
                s = self._find(who)
                if s is not None and s.status == LINKED:
                    self._slave_heartbeat(s, buf, now)
        elif c == proto.SLAVE_LINKREADY:
            if proto.is_slave_linkready(buf, n):
                self._linkready(who, buf, n, now)
        elif c == proto.METER_REPLY:
            s = self._find(who)
            if s is not None and n == proto.LEN_DATA:
                s.kwh = proto.meter_kwh(buf)
                for p in range(3):
                    s.volts[p] = proto.meter_volts(buf, p)
                    s.half_amps[p] = proto.meter_half_amps(buf, p)
                self._got_reply(s, now)
        elif c == proto.START_ACK or c == proto.STOP_ACK:
            s = self._find(who)
            if s is not None and self._cmd_id[s.index] == who and \
                    ticks_diff(now, self._cmd_at[s.index]) < START_STOP_MS:
                self._got_reply(s, now)
                self.on_event(START_ACKED if c == proto.START_ACK else STOP_ACKED, who, None)
        elif c == proto.MASTER_HEARTBEAT or c == proto.MASTER_LINKREADY1 \
                or c == proto.MASTER_LINKREADY2:
            if who != self.foreign_id or \
                    ticks_diff(now, self.foreign_at) >= NOTICE_MS:
                self.foreign_id = who
                self.foreign_at = now
                self.on_event(SECOND_MASTER, who, None)
        else:
            part = proto.vin_part(c)
            if part >= 0 and n == proto.LEN_DATA:
                s = self._find(who)
                if s is not None:
                    self._vin_reply(s, part, buf, now)

    def _find(self, twc_id):
        for s in self.slots:
            if s.status != FREE and s.id == twc_id:
                return s
        return None

    def _linkready(self, who, buf, n, now):
        s = self._find(who)
        if s is None:
            for f in self.slots:
                if f.status == FREE:
                    s = f
                    break
            if s is None:
                if ticks_diff(now, self.refused_at) >= NOTICE_MS:
                    self.refused_at = now
                    self.on_event(TOO_MANY, who, None)
                return
            s.clear()
            s.id = who
            s.max_ca = proto.linkready_max_ca(buf)
            # What a slave new to us applies is unknown: reserve its all.
            s.hi = share.max_amps(s, self.limits)
        if s.status != LINKED:
            s.status = LINKED
            s.offer = 0
            s.awaiting = False
            s.next_meter = ticks_add(now, METER_FIRST_MS)
            self.on_event(JOINED, who, None)
        s.sign = proto.linkready_sign(buf)
        s.max_ca = proto.linkready_max_ca(buf)
        s.protocol = proto.protocol_of(n)
        s.last_seen = now
        s.next_hb = now  # answer at once

    def _slave_heartbeat(self, s, buf, now):
        s.state = proto.hb_state(buf)
        s.limit_ca = proto.hb_limit_ca(buf)
        s.actual_ca = proto.hb_actual_ca(buf)
        s.last_seen = now
        if s.awaiting:
            s.awaiting = False
            share.confirm(s)
        self._got_reply(s, now)
        wants = s.wants_current()
        if wants and not s.wanting:
            s.demand_since = now
        s.wanting = wants
        if s.actual_ca >= CHARGING_CA:
            s.low_since = -1
            if not s.charging:
                s.charging = True
                # Soon measure the phases it draws on (FD EB), not a minute later.
                if ticks_diff(s.next_meter, ticks_add(now, METER_SOON_MS)) > 0:
                    s.next_meter = ticks_add(now, METER_SOON_MS)
                if s.protocol == 2 and not s.vin_known:
                    s.vin_tries = 0
                    s.vin_part = -1
                    s.vin_next = now
        elif s.charging:
            if s.low_since < 0:
                s.low_since = now
            elif ticks_diff(now, s.low_since) >= VIN_CLEAR_MS:
                s.charging = False
                s.low_since = -1
                s.vin_known = False
                s.vin_part = -1
                for i in range(17):
                    s.vin[i] = 0
                self.on_event(SESSION_END, s.id, None)

    def _got_reply(self, s, now):
        if self.waiting_for is s:
            self.waiting_for = None
            self.wait_until = now

    def _vin_reply(self, s, part, buf, now):
        if part != s.vin_part or not s.vin_asked:
            return
        s.vin_asked = False
        self._got_reply(s, now)
        start = proto.VIN_START[part]
        nonzero = 0
        for i in range(proto.VIN_COUNT[part]):
            b = buf[4 + i]
            s.vin[start + i] = b
            nonzero |= b
        if not nonzero:
            # The car does not tell its VIN (not a Tesla, or CAN off).
            s.vin_part = -1
            s.vin_tries = VIN_TRIES
            return
        if part < 2:
            s.vin_part = part + 1
            s.vin_next = now
        elif proto.vin_valid(s.vin):
            s.vin_part = -1
            s.vin_known = True
            self.on_event(VIN_READ, s.id, None)
        else:
            s.vin_part = -1  # garbled: start again later

    # -- output ------------------------------------------------------------

    def tick(self, now):
        """Do what is due at time now; sends at most one frame."""
        self._expire(now)
        self._hurry(now)
        if ticks_diff(now, self.wait_until) < 0:
            return
        quiet = ticks_diff(now, self.last_rx)
        if quiet < QUIET_MS or (self.reader.receiving() and quiet < RX_STALE_MS):
            return  # a frame is arriving: never talk over it
        self.waiting_for = None
        due = None
        soon = False
        for s in self.slots:
            if s.status == LINKED:
                d = ticks_diff(now, s.next_hb)
                if d >= 0 and (due is None or ticks_diff(s.next_hb, due.next_hb) < 0):
                    due = s
                elif d > -REPLY_MS:
                    soon = True
        if due is not None:
            self._heartbeat(due, now)
        elif self.burst and ticks_diff(now, self.next_burst) >= 0:
            self._linkready_frame(now)
        elif not soon and not self._start_stop(now):
            self._query(now)

    def _hurry(self, now):
        """A new site limit or cap: heartbeat the slaves early, so that the
        change reaches them in a fraction of a second, not up to one."""
        site = self.limits.site
        changed = site != self.site_seen
        self.site_seen = site
        for s in self.slots:
            if s.status == LINKED and (changed or s.cap != s.cap_seen):
                s.cap_seen = s.cap
                soon = ticks_add(s.last_hb, HURRY_MS)
                if ticks_diff(soon, now) < 0:
                    soon = now
                if ticks_diff(soon, s.next_hb) < 0:
                    s.next_hb = soon

    def _expire(self, now):
        for s in self.slots:
            if s.status == LINKED:
                if ticks_diff(now, s.last_seen) > LOST_MS:
                    s.status = LOST
                    s.wanting = False
                    s.charging = False
                    self.on_event(LOST_EVENT, s.id, None)
            elif s.status == LOST:
                if ticks_diff(now, s.last_seen) > RELEASE_MS:
                    twc_id = s.id
                    s.clear()
                    self.on_event(RELEASED, twc_id, None)

    def _linkready_frame(self, now):
        which = 1 if self.burst > BURST else 2
        n = proto.master_linkready(self._tx, which, self.id, self.sign)
        self.burst -= 1
        self.next_burst = ticks_add(now, BURST_MS)
        self._send(n, now, None)

    def _heartbeat(self, s, now):
        share.allocate(self.slots, self.limits)
        amps = share.next_offer(s, self.slots, self.limits)
        ca = amps * 100
        if amps == 0 or ca != s.limit_ca:
            cmd = proto.CMD_LIMIT_P2 if s.protocol == 2 else proto.CMD_LIMIT_P1
        else:
            cmd = proto.CMD_NONE
            ca = 0
        n = proto.master_heartbeat(self._tx, self.id, s.id, cmd, ca)
        s.awaiting = True
        s.last_hb = now
        nxt = ticks_add(s.next_hb, HEARTBEAT_MS)
        if ticks_diff(nxt, now) <= 0:  # fell behind: do not try to catch up
            nxt = ticks_add(now, HEARTBEAT_MS)
        s.next_hb = nxt
        self._send(n, now, s)

    def charging(self, twc_id, start, now):
        """Ask TWC twc_id to start (FC B1) or stop (FC B2) charging. The
        command is sent once, when the bus is free and no heartbeat is due
        (it never delays one), at most once per TWC every START_STOP_MS.
        Returns None if it will be sent, else why it is refused."""
        if not self.start_stop_enabled:
            return START_STOP_OFF
        s = self._find(twc_id)
        if s is None or s.status != LINKED:
            return "no TWC with id %04X is linked to this master" % twc_id
        if s.protocol != 2:
            return "TWC %04X speaks protocol 1, which has no start/stop command" % twc_id
        i = s.index
        if self._cmd_id[i] == twc_id and ticks_diff(now, self._cmd_at[i]) < START_STOP_MS:
            return "TWC %04X had a start/stop command less than %d s ago: wait" \
                % (twc_id, START_STOP_MS // 1000)
        self._cmd_id[i] = twc_id
        self._cmd_at[i] = now
        self._cmd[i] = proto.START_CHARGING if start else proto.STOP_CHARGING  # last: the
        # bus thread may look at it at any moment
        return None

    def _start_stop(self, now):
        """Send one start/stop command that is waiting, if any; True if sent."""
        for s in self.slots:
            i = s.index
            code = self._cmd[i]
            if not code:
                continue
            self._cmd[i] = 0
            if s.status != LINKED or s.id != self._cmd_id[i]:
                continue  # its TWC left since: the command is dropped
            start = code == proto.START_CHARGING
            n = proto.start_stop(self._tx, start, self.id, s.id)
            self._send(n, now, s)
            self.on_event(START_SENT if start else STOP_SENT, s.id, None)
            return True
        return False

    def _query(self, now):
        """Send one kWh or VIN request that is due, if any."""
        k = len(self.slots)
        for j in range(k):
            s = self.slots[(self.next_query + j) % k]
            if s.status != LINKED or s.protocol != 2:
                continue
            if s.charging and not s.vin_known and s.vin_tries < VIN_TRIES \
                    and ticks_diff(now, s.vin_next) >= 0:
                if s.vin_part < 0 or s.vin_asked:
                    # A new read, or the last request went unanswered.
                    s.vin_part = 0
                    s.vin_tries += 1
                s.vin_asked = True
                s.vin_next = ticks_add(now, VIN_RETRY_MS)
                code = proto.VIN_REQUESTS[s.vin_part]
            elif ticks_diff(now, s.next_meter) >= 0:
                s.next_meter = ticks_add(now, METER_MS)
                code = proto.METER_REQUEST
            else:
                continue
            n = proto.request(self._tx, code, self.id, s.id)
            self.next_query = (s.index + 1) % k
            self._send(n, now, s)
            return

    def _send(self, n, now, reply_from):
        k = escape_into(self._tx, n, self._wire)
        self.waiting_for = reply_from
        self.wait_until = ticks_add(now, REPLY_MS if reply_from is not None else QUIET_MS + 2 * k)
        self.send(self._views[k])
