"""The checks of SiteLoop's per-TWC commands (set_twc_cap, set_twc_charging): which Wall
Connector is meant and what it may be given, from the device's latest state. Each refusal
is a ValueError that names the TWC, what is wrong and what would be accepted.

A TWC is one the device's state lists now (linked, or lost and not yet released): an id
it does not list cannot be checked against its rating, and the device would refuse it.
A cap once set stays (kept across restarts) while its TWC is offline, and applies again
when it comes back; removing a cap is allowed for any TWC that has one.
"""
from __future__ import annotations

import math

from twc.master import START_STOP_MS
from twcm.service.devicelink import DeviceState, Slave

START_STOP_EVERY_S = START_STOP_MS / 1000  # the device's own spacing of start/stop commands


def twc_id(twc: object) -> str:
    """The id in the state's words (4 upper-case hex digits), or ValueError."""
    if not isinstance(twc, str) or len(twc) != 4 or any(
            c not in "0123456789abcdefABCDEF" for c in twc):
        raise ValueError(f"TWC id must be 4 hex digits as the device's state shows it "
                         f"(e.g. 1A2B), not {twc!r}")
    return twc.upper()


def listed(site: str, state: DeviceState | None, twc: str) -> Slave:
    """The slave `twc` of the device's state, or ValueError naming the known ones."""
    if state is None:
        raise ValueError(f"site {site}: no TWC {twc}: the device has not sent its state "
                         f"yet (try again once it is online)")
    for s in state.slaves:
        if s.id == twc:
            return s
    known = ", ".join(s.id for s in state.slaves) or "none"
    raise ValueError(f"site {site}: no TWC {twc} on this site's device; it lists: {known}")


def cap_most(state: DeviceState, slave: Slave) -> int:
    """The highest cap a TWC may be given: its rating and the per-TWC wiring."""
    most = state.wiring_max_amps_per_twc
    if slave.max_amps is not None and math.isfinite(slave.max_amps):
        most = min(most, int(slave.max_amps))
    return max(0, most)


def cap_amps(site: str, state: DeviceState, slave: Slave, amps: object) -> int:
    """`amps` if it is a whole number within 0..cap_most, else ValueError."""
    most = cap_most(state, slave)
    if isinstance(amps, bool) or not isinstance(amps, int) or not 0 <= amps <= most:
        raise ValueError(f"site {site}: TWC {slave.id}: amps must be a whole number 0-{most} "
                         f"(its rating and the per-TWC wiring), or null to remove the cap, "
                         f"not {amps!r}")
    return amps


def startable(site: str, enabled: bool, slave: Slave, charging: object,
              since_last_s: float | None) -> bool:
    """`charging` if a start/stop command may go to `slave` now, else ValueError."""
    if not enabled:
        raise ValueError(f"site {site}: starting and stopping a TWC is off: set "
                         "twc_start_stop = true in its [[site]] table and in the device's "
                         "config to allow it (docs/load-sharing.md says what it risks)")
    if not isinstance(charging, bool):
        raise ValueError(f"site {site}: charging must be true or false, not {charging!r}")
    if slave.link != "linked":
        raise ValueError(f"site {site}: TWC {slave.id} is {slave.link}, not linked: it "
                         "cannot be told to start or stop now")
    if slave.protocol == 1:
        raise ValueError(f"site {site}: TWC {slave.id} speaks protocol 1, which has no "
                         "start/stop command")
    if since_last_s is not None and since_last_s < START_STOP_EVERY_S:
        raise ValueError(f"site {site}: TWC {slave.id} had a start/stop command "
                         f"{since_last_s:.0f} s ago: wait {START_STOP_EVERY_S:.0f} s "
                         "between two")
    return charging
