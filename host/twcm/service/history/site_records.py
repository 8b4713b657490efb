"""What one site's turn records: its energy sample and decision every turn, and what its
device's state makes (sessions.py), handed to the history writer without waiting."""
from __future__ import annotations

from typing import Any

from twcm.service.devicelink import DeviceState
from twcm.service.history.records import DecisionRecord, EnergySample, Record
from twcm.service.history.sessions import DeviceRecords, volts_phases
from twcm.service.history.writer import Writer
from twcm.service.policy import Decision
from twcm.service.sources import Reading


def charging_w(state: DeviceState | None) -> float | None:
    """What the site's Wall Connectors draw, as the device reports it (None: unknown)."""
    if state is None:
        return None
    return sum(s.actual_amps * volts_phases(s) for s in state.slaves if s.link == "linked")


class SiteRecords:
    """`SiteRecords(site, writer, status_every_s)`; SiteLoop calls turn() each turn."""

    def __init__(self, site: str, writer: Writer, status_every_s: float = 60.0) -> None:
        self.site = site
        self.writer = writer
        self.device = DeviceRecords(site, status_every_s)

    def submit(self, record: Record) -> None:
        self.writer.submit(record)

    def status(self) -> list[dict[str, Any]]:
        """The writer's backends: held, written, dropped, error (Writer.status)."""
        return self.writer.status()

    def turn(self, at: float, reading: Reading | None, decision: Decision, sent: int | None,
             state: DeviceState | None) -> None:
        """One turn: the readings (None: unknown), the decision and the lease it sent
        (None: no lease), and the device's latest state (None: none yet)."""
        r = reading or Reading(at=at)
        self.submit(EnergySample(
            at, self.site, r.generation_w, r.consumption_w, charging_w(state),
            r.grid_import_w, None if r.battery_w is None else -r.battery_w, r.battery_soc))
        self.submit(DecisionRecord(at, self.site, sent,
                                   decision.set_by.source if decision.set_by else None,
                                   decision.capped_by.source if decision.capped_by else None,
                                   decision.reason))
        if state is not None:
            for record in self.device.update(at, state):
                self.submit(record)
