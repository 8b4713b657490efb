"""The one schema every logging backend receives (docs/logging.md).

Four kinds of record, produced by the service as it runs: an energy sample and a decision
every turn, a Wall Connector's status when it changes (or every status_every_s), and a
charge session when it starts, as it grows and when it ends. Records are plain frozen
values: a backend may keep them as rows, lines or log messages, and none of them needs
the service's objects to do so.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EnergySample:
    """The site's meters at one turn (None: unknown then). Watts; grid_w > 0 is import,
    battery_w > 0 is the home battery charging."""

    at: float
    site: str
    generation_w: float | None
    consumption_w: float | None
    charging_w: float | None
    grid_w: float | None
    battery_w: float | None
    battery_soc: float | None


@dataclass(frozen=True)
class TwcStatus:
    """One Wall Connector as the device reports it."""

    at: float
    site: str
    twc: str
    link: str
    state: str
    offered_amps: float | None
    actual_amps: float | None
    lifetime_kwh: float | None
    volts: tuple[float | None, float | None, float | None]
    """Per phase A, B, C; None where the unit reports none."""
    vin: str | None


@dataclass(frozen=True)
class ChargeSession:
    """A car's charge on one Wall Connector. Sent when it starts (end None), as it grows
    and when it ends; (site, twc, start) names it, so a backend updates it in place or
    keeps the last it got."""

    site: str
    twc: str
    vin: str | None
    start: float
    start_kwh: float | None
    """The unit's lifetime counter at the start (None: not reported)."""
    end: float | None
    end_kwh: float | None
    kwh: float
    """Energy of the session so far."""
    updated: float | None = None
    """When it was last brought up to date (None: at its start); a session a crash left
    open ends there."""
    integrated_kwh: float | None = None
    """Amps x volts integrated over the session (kwh is the lifetime counter's difference
    once that has moved a whole kWh, else this)."""


@dataclass(frozen=True)
class DecisionRecord:
    """What the policy decided at one turn and why."""

    at: float
    site: str
    amps: int | None
    """The site lease sent; None: no lease (the device follows its schedule or fallback)."""
    claim: str | None
    """The claim that set the amps (its source), None if none did."""
    capped_by: str | None
    reason: str


Record = EnergySample | TwcStatus | ChargeSession | DecisionRecord
