"""A Wall Connector's state (docs/mqtt.md, the device's `slaves`) as an OCPP 1.6
StatusNotification: (status, errorCode, info). docs/ocpp.md has the table.

| the TWC | status |
| --- | --- |
| not listed by the device, or the device offline | Unavailable |
| `link` lost (silent on the RS-485 bus for 26 s) | Faulted, InternalError |
| `state` error | Faulted, OtherError |
| no car wanting, not charging, no transaction | Available |
| no car wanting, after a transaction (or held) while the car is still plugged | Finishing |
| a car wanting, no transaction yet | Preparing |
| drawing 1 A or more | Charging |
| a car wanting, offered 0 A (held, capped or no current to share) | SuspendedEVSE |
| a car wanting, offered current but drawing less than 1 A | SuspendedEV |
"""
from __future__ import annotations

from twcm.service.devicelink.site import Slave

DRAWING_A = 1.0  # a draw below this is no charging (the device's own threshold)
PLUGGED = ("plugged", "asking", "starting", "charging", "busy", "raising", "lowering",
           "setting", "adjusted")  # states with a car on the cable


def status(slave: Slave | None, device_online: bool, in_transaction: bool,
           finishing: bool) -> tuple[str, str, str | None]:
    """(status, errorCode, info) for a connector's TWC. `finishing`: its transaction has
    ended (or it is held) and the car is still there."""
    if slave is None or not device_online:
        return ("Unavailable", "NoError",
                "no Wall Connector on this connector" if device_online
                else "the twcm device is not online")
    if slave.link == "lost":
        return "Faulted", "InternalError", "the Wall Connector is silent on the RS-485 bus"
    if slave.state == "error":
        return "Faulted", "OtherError", "the Wall Connector reports an error"
    wanting = bool(slave.wanting) or slave.actual_amps >= DRAWING_A
    plugged = wanting or slave.state in PLUGGED
    if finishing and plugged and not (wanting and in_transaction):
        return "Finishing", "NoError", None
    if not wanting:
        return ("SuspendedEV", "NoError", None) if in_transaction else (
            "Available", "NoError", None)
    if not in_transaction:
        return "Preparing", "NoError", None
    if slave.actual_amps >= DRAWING_A:
        return "Charging", "NoError", None
    if slave.offered_amps <= 0:
        return "SuspendedEVSE", "NoError", None
    return "SuspendedEV", "NoError", None


def car_present(slave: Slave | None) -> bool:
    """A car on the cable that wants current (a transaction may start or go on)."""
    return slave is not None and slave.link == "linked" and slave.state != "error" and (
        bool(slave.wanting) or slave.actual_amps >= DRAWING_A)


def car_gone(slave: Slave | None) -> bool:
    """No car on the cable (a held connector is released, a transaction ends)."""
    return slave is None or slave.link == "linked" and not car_present(slave) \
        and slave.state not in PLUGGED
