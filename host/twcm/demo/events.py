"""The device's events in a person's words, for the demo's view.

The device publishes each event as JSON on twcm/<site>/event (docs/mqtt.md), and
MqttLink logs the leases' events as "event: <that JSON>"; `words` turns such a line,
and `event_words` such an event, into a sentence. Anything else is left as it is.
"""
from __future__ import annotations

import json
from typing import Any

PREFIX = "event: "
_SWITCH = "the {source} sets the site limit now: {amps} A (was the {previous})"
# By event kind; "kind/twc" when the event names a TWC and says something else then.
WORDS = {
    "slave_joined": "TWC {twc} joined",
    "slave_lost": "TWC {twc} lost: silent for 26 s, no longer heartbeated",
    "slave_released": "TWC {twc} released: its current is free for the others",
    "too_many_slaves": "TWC {twc} refused: a fourth Wall Connector, at most three share a "
                       "bus",
    "id_conflict": "TWC {twc} has the master's own id: it is told to choose another",
    "second_master": "another master (TWC {twc}) talks on the bus: remove one",
    "vin_read": "the VIN of the car on TWC {twc} was read",
    "session_end": "the car on TWC {twc} stopped drawing: its charging session ended",
    "rejected": "command {topic} refused: {reason}",
    "rejected/twc": "command {topic} for TWC {twc} refused: {reason}",
    "lease_expired": "the lease expired: the host sent no new one in time",
    "lease_expired/twc": "the lease capping TWC {twc} expired",
    "fallback_entered": "back to the fallback {amps} A (after the {previous})",
    "fallback_left": _SWITCH,
    "source_changed": _SWITCH,
    "schedule_not_restored": "the stored schedule was not used: {reason}",
}
_FIELDS = ("twc", "amps", "source", "previous", "topic", "reason")


def event_words(e: dict[str, Any]) -> str:
    """One event (as on twcm/<site>/event) as a sentence; one not known here as its
    kind and fields."""
    kind = str(e.get("event"))
    text = WORDS.get(f"{kind}/twc" if "twc" in e else kind, WORDS.get(kind))
    if text is None:
        rest = ", ".join(f"{k} {v}" for k, v in sorted(e.items()) if k != "event")
        return f"event {kind}" + (f": {rest}" if rest else "")
    return text.format(**{k: e.get(k, "?") for k in _FIELDS})


def words(line: str) -> str:
    """A line of MqttLink's log with its event, if any, in words."""
    if not line.startswith(PREFIX):
        return line
    try:
        event = json.loads(line[len(PREFIX):])
    except ValueError:
        return line
    return event_words(event) if isinstance(event, dict) else line
