"""A simulated slave TWC, sans-IO like twc.master.Master.

    s = SimSlave(send, twc_id=0x1839)
    s.handle_bytes(data, now_ms)   # whatever came off the bus
    s.tick(now_ms)                 # often; may call send(bytes)

Behaviour follows docs of real slaves (protocol notes 3.1-3.9, 4.4):
unmastered it sends its linkready every 10 s; it answers only the
heartbeats and requests addressed to it, 10-40 ms after they end; it echoes
the limit it was given; 10 s without a heartbeat it is unmastered again and
25 s without one it stops the car. Times are plain (non-wrapping) ms.
"""
from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable

from twc import proto
from twc.frame import MAX_LEN, MAX_WIRE, Reader, escape_into, valid

from twcm.sim.car import Car
from twcm.sim.pilot import Pilot

LINKREADY_MS = 10_000  # unmastered: a linkready this often
MASTER_TIMEOUT_MS = 10_000  # no heartbeat this long: unmastered again
CAR_STOP_MS = 25_000  # no heartbeat this long: the car is stopped (20-30 s real)
BURST_DELAY_MS = 200  # after the second master linkready 2 ...
BURST = 5  # ... this many linkreadies,
BURST_SPACING_MS = 100  # this far apart (plus jitter)
# Before it sends, the bus must have been idle QUIET_MS plus a random
# 1-20 ms, drawn anew for each frame. Without the random part two nodes
# that heard the same frame end would start together, every time.
QUIET_MS = 10
QUIET_JITTER_MS = 20
IDLE_CA = 25  # what an idle unit reports drawing (0.25 A)
HISTORY = 100_000  # heartbeat times kept (a day at one a second)

_REQUESTS = (proto.METER_REQUEST, proto.START_CHARGING, proto.STOP_CHARGING) \
    + proto.VIN_REQUESTS


class SimSlave:
    """One slave TWC with a car (plugged in or not) on its cable.

    Options: twc_id/sign (random from seed when None), protocol 1 or 2,
    max_amps (its rating: 32 EU, 80 US), phases and volts, kwh (the lifetime
    counter at start), car (its VIN lives there), trailer (the stray byte
    sent after each closing C0, None for none), first_linkready_ms (delay of
    its first linkready; random when None), reply_delay_ms (range).
    """

    def __init__(self, send: Callable[[bytes], None], *, twc_id: int | None = None,
                 sign: int | None = None, protocol: int = 2, max_amps: int = 32,
                 phases: int = 1, volts: int = 230, kwh: float = 0.0,
                 car: Car | None = None, seed: int = 0, trailer: int | None = 0xFE,
                 now_ms: int = 0, first_linkready_ms: int | None = None,
                 reply_delay_ms: tuple[int, int] = (10, 40)) -> None:
        if protocol not in (1, 2):
            raise ValueError("protocol must be 1 or 2")
        if phases not in (1, 3):
            raise ValueError("phases must be 1 or 3")
        self.send = send
        self.rng = random.Random(seed)
        self.id = self.rng.randrange(0x10000) if twc_id is None else twc_id
        self.sign = self.rng.randrange(0x100) if sign is None else sign
        self.protocol = protocol
        self.max_amps = max_amps
        self.phases = phases
        self.volts = volts
        self.kwh_start = kwh
        self.energy_wh = 0.0  # counted by its meter since start
        self.car = car if car is not None else Car()
        self.pilot = Pilot(self.car, protocol)
        self.trailer = trailer
        self.reply_delay_ms = reply_delay_ms
        self.reader = Reader()
        self._buf = bytearray(MAX_LEN)
        self._wire = bytearray(MAX_WIRE)
        # Master link.
        self.mastered = False
        self.master_id = 0
        self.last_hb: int | None = None
        self.heartbeats = 0  # heartbeats addressed to it
        self.heartbeat_times: deque[int] = deque(maxlen=HISTORY)  # when they came
        self._lr2_heard = 0  # master linkready 2 heard since start or unmastering
        if first_linkready_ms is None:
            first_linkready_ms = self.rng.randint(100, 1500)
        self._next_linkready = now_ms + first_linkready_ms
        self._burst_left = 0
        self._next_burst = 0
        self._reply: tuple[int, int, int] | None = None  # (due, request code, master)
        self._last_rx = now_ms - QUIET_MS
        self._quiet_ms = QUIET_MS
        # Faults.
        self._silent_until = now_ms
        self._corrupt = 0

    # -- what tests look at -------------------------------------------------

    @property
    def applied_amps(self) -> float:
        """The limit in force here (what the master sent, give or take 06/07)."""
        return self.pilot.applied_ca / 100

    @property
    def kwh(self) -> float:
        return self.kwh_start + self.energy_wh / 1000.0

    def state(self) -> int:
        """The state byte it would report now."""
        return self.pilot.state()

    def heartbeat_gaps(self, since: int = 0) -> list[int]:
        """Gaps (ms) between the heartbeats it got from `since` on."""
        times = [t for t in self.heartbeat_times if t >= since]
        return [b - a for a, b in zip(times, times[1:])]

    # -- faults ------------------------------------------------------------

    def silence(self, now: int, duration_ms: int) -> None:
        """Send nothing for duration_ms (it still hears and obeys)."""
        self._silent_until = now + duration_ms

    def corrupt_next(self, count: int = 1) -> None:
        """Send the next count frames with a wrong checksum."""
        self._corrupt += count

    def send_garbage(self, n: int = 8) -> None:
        """Send n junk bytes now, as a badly terminated bus shows them.

        They hold no C0 or DB (no delimiter, no escape), and 13-20 of them
        never pass as a frame between two C0s: the checksum is made wrong.
        """
        junk = bytearray(self.rng.randrange(0xC0) for _ in range(n))
        if valid(junk, n):
            junk[-1] ^= 1
        self.send(bytes(junk))

    def reset(self) -> None:
        """The reset button: clears the error state of command 02."""
        self.pilot.error = False

    def heal(self, now: int) -> None:
        """End the injected faults: no more silence, no more bad frames."""
        self._silent_until = now
        self._corrupt = 0

    # -- input -------------------------------------------------------------

    def handle_bytes(self, data: bytes, now: int) -> None:
        r = self.reader
        for b in data:
            n = r.push(b)
            if n:
                self._handle_frame(r.buf, now)
        if data:
            self._last_rx = now

    def _handle_frame(self, buf: bytearray, now: int) -> None:
        if self.pilot.error:
            return  # it stopped talking
        c = proto.code(buf)
        who = proto.sender(buf)
        if c in (proto.MASTER_LINKREADY1, proto.MASTER_LINKREADY2):
            if who == self.id:
                self._new_identity(who)
            elif c == proto.MASTER_LINKREADY2:
                self._lr2_heard += 1
                if self._lr2_heard == 2:
                    self._burst_left = BURST
                    self._next_burst = now + BURST_DELAY_MS + self.rng.randint(0, 40)
            return
        if proto.receiver(buf) != self.id:
            return
        if c == proto.MASTER_HEARTBEAT:
            self._heartbeat(buf, who, now)
        elif c in _REQUESTS and self.protocol == 2:  # firmware 4.5.3 only
            if c in (proto.START_CHARGING, proto.STOP_CHARGING):
                self.pilot.set_contactor(c == proto.START_CHARGING)
        else:
            return
        self._reply = (now + self.rng.randint(*self.reply_delay_ms), c, who)

    def _heartbeat(self, buf: bytearray, master: int, now: int) -> None:
        self.heartbeats += 1
        self.heartbeat_times.append(now)
        self.last_hb = now
        self.master_id = master
        self.mastered = True
        self.pilot.command(proto.hb_state(buf), proto.hb_limit_ca(buf), now)

    def _new_identity(self, taken: int) -> None:
        """A master linkready carried our ID: pick another ID and sign."""
        new = taken
        while new == taken:
            new = self.rng.randrange(0x10000)
        self.id = new
        self.sign = self.rng.randrange(0x100)
        self._lr2_heard = 0

    # -- time --------------------------------------------------------------

    def tick(self, now: int) -> None:
        self._watch_master(now)
        self.energy_wh += self.pilot.advance(now, self.volts, self.phases)
        if self.pilot.error and self._reply is None:
            return  # it stopped talking
        if now < self._silent_until:
            self._reply = None  # what it should have said is lost
            return
        if now - self._last_rx < self._quiet_ms:
            return
        if self._reply is not None:
            if now >= self._reply[0]:
                _, code, master = self._reply
                self._reply = None
                self._answer(code, master)
            return
        if self._burst_left and now >= self._next_burst:
            self._burst_left -= 1
            self._next_burst = now + BURST_SPACING_MS + self.rng.randint(0, 40)
            self._linkready()
        elif not self.mastered and now >= self._next_linkready:
            self._next_linkready = now + LINKREADY_MS
            self._linkready()

    def _watch_master(self, now: int) -> None:
        last = self.last_hb
        if last is None:
            return
        if self.mastered and now - last >= MASTER_TIMEOUT_MS:
            self.mastered = False
            self._lr2_heard = 0
            self._next_linkready = now
        if now - last >= CAR_STOP_MS and (self.pilot.limit_ca or self.car.amps):
            self.pilot.master_lost()

    # -- output ------------------------------------------------------------

    def _answer(self, code: int, master: int) -> None:
        buf = self._buf
        if code == proto.MASTER_HEARTBEAT:
            state = self.pilot.state()
            self.pilot.reported(state)
            actual = round(self.car.amps * 100)
            n = proto.slave_heartbeat(buf, self.id, master, state,
                                      self.pilot.applied_ca,
                                      max(actual, IDLE_CA), self.protocol)
        elif code == proto.METER_REQUEST:
            live = (1, 1, 1) if self.phases == 3 else (1, 0, 0)
            drawn = self.car.phases_on(self.phases)  # a 1-phase car draws on L1 only
            half = round(self.car.amps * 2)
            n = proto.meter_reply(buf, self.id, int(self.kwh),
                                  [self.volts * k for k in live],
                                  [half if p < drawn else 0 for p in range(3)])
        elif code in (proto.START_CHARGING, proto.STOP_CHARGING):
            n = proto.charge_ack(buf, proto.START_ACK if code == proto.START_CHARGING
                                 else proto.STOP_ACK, self.id)
        else:
            vin = self.car.vin if self.car.plugged and self.car.vin else ""
            n = proto.vin_reply(buf, proto.VIN_REQUESTS.index(code), self.id,
                                vin.encode("ascii"))
        self._send(n)

    def _linkready(self) -> None:
        self._send(proto.slave_linkready(self._buf, self.id, self.sign,
                                         self.max_amps * 100, self.protocol))

    def _send(self, n: int) -> None:
        if self._corrupt:
            self._corrupt -= 1
            self._buf[n - 1] ^= 0xFF
        self._quiet_ms = QUIET_MS + self.rng.randint(1, QUIET_JITTER_MS)
        k = escape_into(self._buf, n, self._wire)
        out = bytes(self._wire[:k])
        if self.trailer is not None:
            out += bytes((self.trailer,))
        self.send(out)
