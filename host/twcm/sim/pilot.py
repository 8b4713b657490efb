"""The current a slave TWC offers its car, and the state byte it reports.

The master's heartbeat commands set the limit (protocol notes 3.3-3.5):
05/08/09 copy it, however absurd (on protocol 2, 05 only counts before the
car charges; 09 is protocol 2 only); 06 raises it by 2 A (state 06, 0A
after ~44 s); 07 lowers it by 2 A for ~10 s (state 07, 0A after ~13 s);
02 is an error the slave stays in until reset. FC B2 / B1 open and close
the contactor.
"""
from __future__ import annotations

from twc import proto

from twcm.sim.car import Car, draw_for

RAISE_MS = 44_000  # command 06: state 06 this long, then 0A
LOWER_MS = 10_000  # command 07: 2 A less this long,
LOWER_STATE_MS = 13_000  # state 07 this long, then 0A
ADJUST_CA = 200  # 06 and 07 move the limit by 2 A


class Pilot:
    def __init__(self, car: Car, protocol: int) -> None:
        self.car = car
        self.protocol = protocol
        self.limit_ca = 0  # the limit the master set (echoed)
        self.contactor_closed = True
        self.error = False  # after heartbeat command 02 until reset()
        self._lower_ca = 0  # taken off the limit for a while by command 07
        self._adjust = 0  # 6 or 7 while an 06/07 adjustment runs
        self._adjust_at = 0
        self._adjust_done = False  # its period is over: report 0A once
        self._zero_offered = False  # the master sent 0 A since plug-in
        self._asking = proto.STATE_ASKING  # state while waiting for a limit
        self._was_plugged = False

    @property
    def applied_ca(self) -> int:
        """The limit in force, in centiamps."""
        return max(0, self.limit_ca - self._lower_ca)

    def command(self, cmd: int, ca: int, now: int) -> None:
        """Obey the command byte (and limit) of a master heartbeat."""
        p2 = self.protocol == 2
        if cmd == proto.CMD_ERROR:
            self.error = True
            self.stop()
        elif cmd == proto.CMD_ACK or (cmd == proto.CMD_LIMIT_P2 and p2) or \
                (cmd == proto.CMD_LIMIT_P1 and not (p2 and self.car.amps > 0)):
            self.limit_ca = ca
            self._lower_ca = 0
            self._adjust = 0
            self._zero_offered = ca == 0
            if ca:
                self._asking = proto.STATE_ASKING
        elif p2 and cmd in (proto.CMD_RAISE, proto.CMD_LOWER):
            self._adjust = cmd
            self._adjust_at = now
            self._adjust_done = False
            if cmd == proto.CMD_RAISE:
                self.limit_ca = min(0xFFFF, self.limit_ca + ADJUST_CA)
                self._lower_ca = 0
            else:
                self._lower_ca = ADJUST_CA

    def set_contactor(self, closed: bool) -> None:
        """FC B1 (closed) / FC B2 (open): an open contactor cuts the car."""
        self.contactor_closed = closed
        if not closed:
            self.car.cut()

    def stop(self) -> None:
        """Offer nothing and cut the car now."""
        self.limit_ca = 0
        self._lower_ca = 0
        self._adjust = 0
        self.car.cut()

    def master_lost(self) -> None:
        """Long without a master: the car stops with a cable fault, and the
        slave will ask again in state 08 once a master talks to it."""
        self.stop()
        self._asking = proto.STATE_STARTING

    def advance(self, now: int, volts: float, phases: int) -> float:
        """Run the car and the 06/07 timers up to now; return the Wh drawn."""
        car = self.car
        if car.plugged and not self._was_plugged:
            self._zero_offered = False
        elif not car.plugged and self._was_plugged:
            self._asking = proto.STATE_ASKING
        self._was_plugged = car.plugged
        if self._adjust:
            age = now - self._adjust_at
            if self._adjust == proto.CMD_LOWER and age >= LOWER_MS:
                self._lower_ca = 0
            if age >= (RAISE_MS if self._adjust == proto.CMD_RAISE else LOWER_STATE_MS):
                self._adjust_done = True
        offer = self.applied_ca / 100 if self.contactor_closed else 0.0
        return car.advance(now, offer, volts, phases)

    def state(self) -> int:
        """The state byte to report now."""
        car = self.car
        if self.error:
            return proto.STATE_ERROR
        if not car.plugged:
            return proto.STATE_READY
        if self._adjust:
            return proto.STATE_ADJUSTED if self._adjust_done else self._adjust
        if self.applied_ca == 0:
            return proto.STATE_PLUGGED if self._zero_offered else self._asking
        if car.full or not self.contactor_closed \
                or draw_for(self.applied_ca / 100, car.max_amps) == 0:
            return proto.STATE_PLUGGED
        if car.starting or car.amps == 0:
            return proto.STATE_STARTING
        return proto.STATE_CHARGING

    def reported(self, state: int) -> None:
        """A heartbeat carried state: 0A is reported once."""
        if state == proto.STATE_ADJUSTED:
            self._adjust = 0
