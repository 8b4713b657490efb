"""`type = "dsmr_reader"`: the grid meter as DSMR-reader publishes it on MQTT (its "JSON
telegram" export, topic dsmr/json by default).

DSMR-reader names directions from the house's side: electricity_currently_delivered is
what the grid delivers to the house (import), ..._returned what goes back (export), both in
kW, numbers or numeric strings depending on its settings. Per phase it gives the same
pair (phase_currently_delivered_l1 ...), the voltage and the current (phase_power_current_l1
..., in A without a sign; whole amps on Dutch meters). phase_amps is given only where the
current and both directions of a phase are there: the direction of a phase's current is
that of its power. A P1 meter sees the grid connection alone: no solar, no house load.
"""
from __future__ import annotations

import json
from typing import Any

from twcm.service.sources import Reading, SourceError, register
from twcm.service.sources.subscriber import BrokerOptions, Subscriber
from twcm.service.sources.values import number

PHASES = ("l1", "l2", "l3")


class DsmrReaderOptions(BrokerOptions):
    topic: str = "dsmr/json"


def _kw(doc: dict[str, Any], key: str) -> float | None:
    value = number(doc.get(key), key)
    return None if value is None else value * 1000


def parse(doc: Any, at: float) -> Reading:
    """The grid in a JSON telegram; SourceError if it has no current import and export."""
    if not isinstance(doc, dict):
        raise SourceError("the telegram is not a JSON object")
    delivered = _kw(doc, "electricity_currently_delivered")
    returned = _kw(doc, "electricity_currently_returned")
    if delivered is None or returned is None:
        raise SourceError("the telegram has no electricity_currently_delivered and "
                          "electricity_currently_returned: turn these fields on in "
                          "DSMR-reader's MQTT JSON telegram settings")
    volts = [v for v in (number(doc.get(f"phase_voltage_{p}"), f"phase_voltage_{p}")
                         for p in PHASES) if v is not None]
    amps: list[float] = []
    for phase in PHASES:  # l1, or l1 and l2, or all three: phase_amps[i] is phase i + 1
        current = number(doc.get(f"phase_power_current_{phase}"),
                         f"phase_power_current_{phase}")
        if current is None:
            break
        into = _kw(doc, f"phase_currently_delivered_{phase}")
        out = _kw(doc, f"phase_currently_returned_{phase}")
        if into is None or out is None:  # no direction: no signed current to give
            amps = []
            break
        amps.append(-abs(current) if out > into else abs(current))
    return Reading(grid_import_w=delivered - returned, phase_amps=tuple(amps) or None,
                   volts=sum(volts) / len(volts) if volts else None, at=at)


class DsmrReader:
    def __init__(self, o: DsmrReaderOptions) -> None:
        self.topic = o.topic
        self.sub = Subscriber(o.broker_of(), o.topic, o.retained)

    async def read(self) -> Reading:
        payload, at = self.sub.latest()
        try:
            doc = json.loads(payload)
        except ValueError:
            raise SourceError(f"the payload on {self.topic} is not JSON: "
                              f"{payload[:80]!r}") from None
        try:
            return parse(doc, at)
        except SourceError as e:
            raise SourceError(f"{self.topic}: {e}") from None

    async def close(self) -> None:
        await self.sub.close()


register("dsmr_reader", DsmrReaderOptions, DsmrReader, interval_s=1.0, min_interval_s=0.1,
         roles=("grid",))
