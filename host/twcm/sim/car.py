"""A car on the end of a simulated TWC's cable.

The car sees only the pilot current the TWC offers it and draws towards it
the way the protocol notes describe real Teslas: a little under the offer
(offered 5 A it draws ~4.2 A, offered 40 A ~38.8 A), ramping up at about
2 A/s and following reductions within a couple of seconds. It integrates
the energy it draws into its battery and stops drawing once the battery is
full. Time is passed in (milliseconds); nothing here reads a clock.

With `speed` above 1 the draw still follows the offer in the time passed in, but the
battery fills `speed` times faster: for `twcm demo`, whose day runs sped up while the
bus and the cars run in real time, so that a car fills over a sped-up afternoon.
"""
from __future__ import annotations

# Offers below this are "don't charge" to a car (the Perl original's note).
MIN_OFFER_AMPS = 1.0
# What a car draws under the offer: a fixed part plus a part that grows with
# the current. Fitted to the two readings in the protocol notes.
SHORTFALL_AMPS = 0.75
SHORTFALL_RATIO = 0.011


def draw_for(offer_amps: float, car_max_amps: float) -> float:
    """The current a car settles at when offered offer_amps."""
    if offer_amps < MIN_OFFER_AMPS:
        return 0.0
    a = min(offer_amps, car_max_amps)
    return max(0.0, a - SHORTFALL_AMPS - SHORTFALL_RATIO * a)


class Car:
    """One car: its charger's maximum, its battery and its VIN.

    vin is 17 ASCII characters, or None for a car that does not tell it
    (not a Tesla, or the TWC's car communication switched off). speed: the
    battery fills this many times faster than the draw says (see above).
    phases: how many phases its charger draws on, at most (1, 2 or 3; None:
    as many as its TWC supplies), e.g. 1 for a single-phase car on a
    three-phase TWC.
    """

    def __init__(self, max_amps: float = 32.0, battery_kwh: float = 75.0,
                 soc: float = 0.5, vin: str | None = None,
                 ramp_up: float = 2.0, ramp_down: float = 12.0, speed: float = 1.0,
                 phases: int | None = None) -> None:
        if not 0.0 <= soc <= 1.0:
            raise ValueError("soc must be between 0 and 1")
        if not speed > 0:
            raise ValueError("speed must be above 0")
        if vin is not None and (len(vin) != 17 or not vin.isascii()):
            raise ValueError("a VIN is 17 ASCII characters")
        if phases not in (None, 1, 2, 3):
            raise ValueError("phases must be 1, 2 or 3, or None")
        self.phases = phases
        self.max_amps = max_amps
        self.battery_wh = battery_kwh * 1000.0
        self.stored_wh = self.battery_wh * soc
        self.vin = vin
        self.ramp_up = ramp_up  # A/s
        self.ramp_down = ramp_down  # A/s
        self.speed = speed
        self.plugged = False
        self.amps = 0.0  # what it draws now
        # True from the moment it starts drawing from nothing until it first
        # reaches what the offer allows: the TWC reports state 08 meanwhile.
        self.starting = False
        self._last_ms: int | None = None

    @property
    def full(self) -> bool:
        return self.stored_wh >= self.battery_wh

    @property
    def soc(self) -> float:
        return self.stored_wh / self.battery_wh if self.battery_wh else 1.0

    def phases_on(self, supplied: int) -> int:
        """The phases it draws on from a TWC that supplies `supplied`."""
        return supplied if self.phases is None else min(self.phases, supplied)

    def plug(self) -> None:
        self.plugged = True

    def unplug(self) -> None:
        self.plugged = False
        self.cut()

    def cut(self) -> None:
        """Power removed (contactor opened): the draw drops to 0 at once."""
        self.amps = 0.0
        self.starting = False

    def advance(self, now_ms: int, offer_amps: float, volts: float, phases: int) -> float:
        """Move on to now_ms under the given pilot offer; return the Wh drawn.

        The energy of the interval is counted at the draw it started with,
        times speed, and goes into the battery; the caller's meter counts the
        same Wh. phases: those the TWC supplies (the car draws on as many of
        them as it can).
        """
        phases = self.phases_on(phases)
        last = self._last_ms
        self._last_ms = now_ms
        if last is None or now_ms <= last:
            return 0.0
        dt = (now_ms - last) / 1000.0
        wh = self.amps * volts * phases * dt * self.speed / 3600.0
        self.stored_wh = min(self.battery_wh, self.stored_wh + wh)
        if not self.plugged or self.full:
            self.cut()
            return wh
        target = draw_for(offer_amps, self.max_amps)
        if target <= 0.0:
            self.starting = False
        elif self.amps == 0.0:
            self.starting = True
        if self.amps < target:
            self.amps = min(target, self.amps + self.ramp_up * dt)
        else:
            self.amps = max(target, self.amps - self.ramp_down * dt)
        if self.amps >= target:
            self.starting = False
        return wh
