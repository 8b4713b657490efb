"""Readable summaries of what the master knows, for logs and status output."""
from __future__ import annotations

from typing import Any

from twc import proto
from twc.slot import STATUS_NAMES, Slot


def slot_summary(slot: Slot) -> dict[str, Any]:
    """One slave as plain data (JSON-ready)."""
    return {
        "id": f"{slot.id:04X}",
        "link": STATUS_NAMES[slot.status],
        "protocol": slot.protocol,
        "max_amps": slot.max_ca / 100,
        "state": proto.STATE_NAMES.get(slot.state, f"0x{slot.state:02X}"),
        "offered_amps": slot.offer,
        "actual_amps": slot.actual_ca / 100,
        "volts": list(slot.volts),
        "lifetime_kwh": slot.kwh if slot.kwh >= 0 else None,
        "vin": bytes(slot.vin).decode("ascii", "replace") if slot.vin_known else None,
    }


def format_slot(s: dict[str, Any]) -> str:
    kwh = "-" if s["lifetime_kwh"] is None else f"{s['lifetime_kwh']} kWh"
    volts = "/".join(str(v) for v in s["volts"] if v) or "-"
    return (f"TWC {s['id']} p{s['protocol']} {s['link']:<6} {s['state']:<9} "
            f"offer {s['offered_amps']:>2} A  draws {s['actual_amps']:5.2f} A  "
            f"{volts} V  {kwh}  VIN {s['vin'] or '-'}")
