"""The device's states as records: a Wall Connector's status when it changes (or every
status_every_s), and its charge sessions with their kWh as they start, grow and end.

A session is on while the device says the car wants current. Its energy is the unit's
lifetime counter's difference once that has moved a whole kWh (the counter counts whole
kWh), else amps x volts integrated between states (gaps longer than MAX_GAP_S are not
integrated over: nothing is known of them).
"""
from __future__ import annotations

from dataclasses import dataclass

from twc.slot import CHARGING_CA
from twcm.service.devicelink import DeviceState, Slave
from twcm.service.history.records import ChargeSession, Record, TwcStatus

MAX_GAP_S = 120.0


def car_on(s: Slave) -> bool:
    """A charge session is on: the device says the car wants current (as its sharing sees
    it); firmware from before `wanting` leaves it to the draw, 1 A or more."""
    if s.link != "linked":
        return False
    return s.wanting if s.wanting is not None else s.actual_amps * 100 >= CHARGING_CA


def volts_phases(s: Slave) -> float:
    """Volts x phases of the slave: what its amps are multiplied by."""
    return float(sum(v for v in s.volts if v))


@dataclass
class _Open:
    """A session in progress on one Wall Connector."""

    start: float
    vin: str | None
    start_kwh: int | None
    end_kwh: int | None
    integrated_kwh: float
    kwh: float
    updated: float
    last_amps: float
    volts: float


class DeviceRecords:
    """One site's device states in, its TwcStatus and ChargeSession records out."""

    def __init__(self, site: str, status_every_s: float = 60.0) -> None:
        self.site = site
        self.status_every_s = status_every_s
        self._open: dict[str, _Open] = {}
        self._status: dict[str, tuple[float, tuple]] = {}

    def update(self, at: float, state: DeviceState) -> list[Record]:
        """The records the device's latest state makes, in order."""
        out: list[Record] = []
        for s in state.slaves:
            what = (s.link, s.state, s.offered_amps, round(s.actual_amps), s.vin)
            last = self._status.get(s.id)
            if last is None or last[1] != what or at - last[0] >= self.status_every_s:
                self._status[s.id] = (at, what)
                out.append(self._twc_status(at, s))
            session = self._session(at, s)
            if session is not None:
                out.append(session)
        listed = {s.id for s in state.slaves}
        for twc in [t for t in self._open if t not in listed]:  # gone: its session ends
            out.append(self._record(twc, self._open.pop(twc), end=at))
        return out

    def _twc_status(self, at: float, s: Slave) -> TwcStatus:
        volts = tuple(float(v) if v is not None else None for v in s.volts[:3])
        volts += (None,) * (3 - len(volts))
        return TwcStatus(at, self.site, s.id, s.link, s.state, s.offered_amps, s.actual_amps,
                         s.lifetime_kwh, volts, s.vin)  # type: ignore[arg-type]

    def _session(self, at: float, s: Slave) -> ChargeSession | None:
        now = self._open.get(s.id)
        car = car_on(s)
        if now is None:
            if not car:
                return None
            now = _Open(at, s.vin, s.lifetime_kwh, None, 0.0, 0.0, at, s.actual_amps,
                        volts_phases(s))
            self._open[s.id] = now
            return self._record(s.id, now)
        gap = at - now.updated
        wh = now.last_amps * now.volts * gap / 3600 if 0 < gap <= MAX_GAP_S else 0.0
        now.updated, now.last_amps, now.volts = at, s.actual_amps, volts_phases(s) or now.volts
        now.vin = now.vin or s.vin  # the first VIN read names the session
        counted = now.start_kwh  # the counter at the start, if it was known then
        now.start_kwh = counted if counted is not None else s.lifetime_kwh
        now.end_kwh = s.lifetime_kwh
        now.integrated_kwh += wh / 1000
        moved = None if counted is None or s.lifetime_kwh is None else s.lifetime_kwh - counted
        now.kwh = float(moved) if moved is not None and moved >= 1 else now.integrated_kwh
        if car:
            return self._record(s.id, now)
        del self._open[s.id]
        return self._record(s.id, now, end=at)

    def _record(self, twc: str, o: _Open, end: float | None = None) -> ChargeSession:
        return ChargeSession(self.site, twc, o.vin, o.start, o.start_kwh, end, o.end_kwh,
                             o.kwh, o.updated, o.integrated_kwh)
