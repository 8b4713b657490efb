"""One readable line per record, for the log-file and console backends, and the switches
that mute a kind of record in them (docs/logging.md)."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from twcm.service.history.records import (ChargeSession, DecisionRecord, EnergySample,
                                          Record, TwcStatus)


class Mute(BaseModel):
    """`mute = { energy = true }`: that kind of record is not written (all default false)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    energy: bool = False
    twc_status: bool = False
    session: bool = False
    decision: bool = False

    def muted(self, record: Record) -> bool:
        return bool(getattr(self, kind(record)))


_KIND = {EnergySample: "energy", TwcStatus: "twc_status", ChargeSession: "session",
         DecisionRecord: "decision"}


def kind(record: Record) -> str:
    """The record's kind as Mute names it."""
    return _KIND[type(record)]


def local(at: float) -> str:
    """Unix time as the machine's local time, to the second: 2026-06-21 12:00:05."""
    return datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S")


def _w(value: float | None) -> str:
    return "?" if value is None else f"{value:.0f} W"


def _n(value: float | None, unit: str, digits: int = 0) -> str:
    return "?" if value is None else f"{value:.{digits}f} {unit}"


def line(record: Record) -> str:
    """The record in words, starting with its time and site."""
    r = record
    if isinstance(r, EnergySample):
        return (f"{local(r.at)} {r.site} energy: generation {_w(r.generation_w)}, "
                f"consumption {_w(r.consumption_w)}, charging {_w(r.charging_w)}, "
                f"grid {_w(r.grid_w)}, battery {_w(r.battery_w)} at {_n(r.battery_soc, '%')}")
    if isinstance(r, TwcStatus):
        volts = "/".join("?" if v is None else f"{v:.0f}" for v in r.volts)
        return (f"{local(r.at)} {r.site} TWC {r.twc}: {r.link}, {r.state}, offered "
                f"{_n(r.offered_amps, 'A', 1)}, drawing {_n(r.actual_amps, 'A', 1)}, "
                f"{volts} V, lifetime {_n(r.lifetime_kwh, 'kWh')}, VIN {r.vin or '?'}")
    if isinstance(r, ChargeSession):
        how = "started" if r.end is None and r.kwh == 0 else \
            "charging" if r.end is None else "ended"
        since = f"since {local(r.start)}" if r.end is None else \
            f"{local(r.start)} to {local(r.end)}"
        return (f"{local(r.end or r.start)} {r.site} TWC {r.twc} session {how}: {since}, "
                f"{r.kwh:.2f} kWh, VIN {r.vin or '?'}")
    amps = "no lease" if r.amps is None else f"{r.amps} A"
    why = [f"by {r.claim}"] if r.claim else []
    why += [f"capped by {r.capped_by}"] if r.capped_by else []
    return f"{local(r.at)} {r.site} decision: {amps}" + \
        (f" ({', '.join(why)})" if why else "") + f": {r.reason}"
