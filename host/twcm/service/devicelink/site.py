"""One site of the device link (docs/mqtt.md): the lease and schedule the host wants, and
what the device says. No I/O, the time is an argument: DeviceLink (client.py) feeds it
the device's messages and publishes what outbox() returns."""
from __future__ import annotations

import functools
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, get_args, get_origin, get_type_hints

from twc import payloads
from twc.contract import (CARS_TOPIC, EVENT_TOPIC, ONLINE_TOPIC, SCHEDULE_TOPIC, SITE_RULE,
                          SITE_TOPIC, STATE_TOPIC, prefix, site_ok)

from .twcs import TwcLinks

log = logging.getLogger("twcm.devicelink")

SILENT_AFTER_S = 90.0  # the device publishes its state at least every 30 s: three missed
# Device events (docs/mqtt.md) that say something is wrong on the bus: warnings in the log.
TROUBLE = ("second_master", "id_conflict", "too_many_slaves", "schedule_not_restored",
           "rejected")

@dataclass(frozen=True)
class CarRule:
    """The rule the device applies to a slave's car, by its VIN (cars/set, docs/cars.md)."""
    vin: str
    max_amps: int
    min_amps: int
    priority: int


@dataclass(frozen=True)
class Slave:
    """A Wall Connector in the state; fields that may be None may also be absent."""
    id: str
    link: str
    offered_amps: int
    actual_amps: float
    state: str
    volts: tuple[int, ...]
    protocol: int | None
    max_amps: float | None
    lifetime_kwh: int | None
    vin: str | None
    cap_amps: int | None
    wanting: bool | None  # None from a device that predates the field
    phase_amps: tuple[float, ...] | None = None  # per phase, from its meter (FD EB)
    car_rule: CarRule | None = None  # None without one, or from a device before car rules


@dataclass(frozen=True)
class NetworkHealth:
    """The device's network: up now, times it came up since start, its latest failure."""
    up: bool
    connects: int
    last_error: str | None


@dataclass(frozen=True)
class NtpHealth:
    """Whether NTP set the device's clock since start, and its latest failure."""
    synced: bool
    last_error: str | None


@dataclass(frozen=True)
class MqttHealth:
    """Times the broker took the device's connection since start, and its latest failure."""
    connects: int
    last_error: str | None


@dataclass(frozen=True)
class DeviceState:
    """The state message; the fields the host acts on are required."""
    mode: str
    source: str
    limit_amps: int
    wiring_max_amps_all: int
    wiring_max_amps_per_twc: int
    slaves: tuple[Slave, ...]
    version: str | None
    uptime_s: int | None
    lease_left_s: int | None
    schedule_windows: int | None
    time_valid: bool | None
    fallback_amps: int | None
    min_amps: int | None
    free_heap: int | None
    loop_max_ms: int | None
    # The device's health (docs/mqtt.md); None from a device that predates them.
    network: NetworkHealth | None
    ntp: NtpHealth | None
    mqtt: MqttHealth | None
    events_dropped: int | None
    car_rules: int | None = None  # rules stored on the device (cars/set)


class Garbage(ValueError):
    """A device message that does not follow docs/mqtt.md; the argument says why."""


def _value(d: dict, key: str, hint: Any, where: str) -> Any:
    types = get_args(hint) or (hint,)
    if key not in d or d[key] is None:
        if type(None) in types:
            return None
        raise Garbage(f"{where}{key} is {'null' if key in d else 'missing'}")
    v = d[key]
    nested = next((t for t in types if is_dataclass(t)), None)
    if nested is not None:  # an object of the state, e.g. network
        return _build(nested, v, f"{where}{key}: ")
    tuple_hint = hint if get_origin(hint) is tuple else next(
        (t for t in types if get_origin(t) is tuple), None)
    if tuple_hint is not None:  # volts: a list of integers; phase_amps: of numbers
        each = (int, float) if get_args(tuple_hint)[0] is float else (int,)
        if isinstance(v, list) and all(type(x) in each for x in v):
            return tuple(v)
        raise Garbage(f"{where}{key} must be a list of "
                      f"{'numbers' if float in each else 'integers'}")
    ok = tuple(t for t in types if t is not type(None)) + ((int,) if float in types else ())
    if isinstance(v, bool) and bool not in ok or not isinstance(v, ok):
        names = " or ".join(t.__name__ for t in ok)
        raise Garbage(f"{where}{key} must be {names}, not {json.dumps(v)[:40]}")
    return v


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The field types of a state dataclass, worked out once (it costs ~1 ms a message)."""
    return get_type_hints(cls)


def _build(cls: type, d: Any, where: str, **given: Any) -> Any:
    if not isinstance(d, dict):
        raise Garbage(f"{where or 'state '}must be a JSON object")
    hints = _hints(cls)
    return cls(**{f.name: given[f.name] if f.name in given else
                  _value(d, f.name, hints[f.name], where) for f in fields(cls)})


def parse_state(d: Any) -> DeviceState:
    """The state message as a DeviceState, or Garbage; unknown fields are ignored."""
    slaves = _value(d, "slaves", list, "") if isinstance(d, dict) else None
    return _build(DeviceState, d, "", slaves=tuple(
        _build(Slave, x, f"slaves[{i}]: ") for i, x in enumerate(slaves or [])))


class SiteLink:
    """The lease the host wants for one site, its schedule, and the device's latest word.

    The lease is sent at once when its value changes and renewed every ttl_s *
    renew_fraction seconds (docs/mqtt.md: every ttl_s/3, so that two lost messages do not
    drop the device to its fallback). seq starts at the Unix time in ms and grows by one per
    lease, so that a restarted host is heard at once. `twcs` holds the per-TWC caps and
    start/stop commands (twcs.py), sent with the same outbox.
    """

    def __init__(self, site: str, max_amps: int, ttl_s: int = 60,
                 renew_fraction: float = 1 / 3, silent_after_s: float = SILENT_AFTER_S) -> None:
        problem = (f"give {SITE_RULE}" if not site_ok(site) else
                   "max_amps must not be negative" if max_amps < 0 else
                   f"ttl_s must be {payloads.TTL_MIN}-{payloads.TTL_MAX} s"
                   if not payloads.TTL_MIN <= ttl_s <= payloads.TTL_MAX else
                   "renew_fraction must be between 0 and 1" if not 0 < renew_fraction < 1 else "")
        if problem:
            raise ValueError(f"site {site!r}: {problem}")
        self.site = site
        self.prefix = prefix(site)
        self.max_amps = int(max_amps)
        self.ttl_s = int(ttl_s)
        self.renew_s = ttl_s * renew_fraction
        self.silent_after_s = silent_after_s
        self.state: DeviceState | None = None
        self.state_at: float | None = None  # monotonic arrival of the latest valid state
        self.online: bool | None = None  # None until the device's `online` was heard
        self.garbage = 0
        self.last_garbage: str | None = None
        self.seq = int(time.time() * 1000)
        self.notify: Callable[[], None] = lambda: None  # DeviceLink's wake-up
        self._wanted: int | None = None
        self._sent: tuple[int, float] | None = None  # (amps, monotonic) of the last lease
        self._windows: list[dict] | None = None
        self._schedule_due = False
        self._cars: list[dict] | None = None  # the rules for cars by VIN (cars/set)
        self._cars_due = False
        self._watch_from = 0.0
        self.twcs = TwcLinks(site, self.prefix, self.ttl_s, self.renew_s, self._next_seq)

    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    @property
    def limit(self) -> int:
        """The most a lease may give: max_amps and, once known, the device's wiring limit."""
        return min(self.max_amps, self.state.wiring_max_amps_all if self.state else self.max_amps)

    @property
    def lease_amps(self) -> int | None:
        return None if self._wanted is None else min(self._wanted, self.limit)

    def want(self, amps: float, reason: str) -> int:
        """Lease amps (whole, within 0..limit) from now on; returns what will be sent."""
        if isinstance(amps, bool) or not isinstance(amps, (int, float)) or math.isnan(amps):
            raise TypeError(f"site {self.site}: amps must be a number, not {amps!r}")
        before, self._wanted = self.lease_amps, int(max(0, min(amps, self.max_amps)))
        amps = min(self._wanted, self.limit)
        if amps != before:
            log.info("site %s: lease %d A (%s)", self.site, amps, reason)
            self.notify()
        return amps

    def release(self, reason: str) -> None:
        """Stop renewing: the device goes to its schedule or fallback when the lease ends."""
        self._wanted, self._sent = None, None
        log.info("site %s: lease released (%s)", self.site, reason)
        self.notify()

    def cap(self, twc: str, amps: int | None) -> None:
        """Cap one TWC (its id as the state lists it) at amps; None removes the cap."""
        self.twcs.want(twc, amps)
        self.notify()

    def ceil(self, ceilings: dict[str, int]) -> None:
        """Per-TWC ceilings from outside the host's caps (OCPP's), replacing the last."""
        if ceilings != self.twcs.ceilings:
            self.twcs.ceil(ceilings)
            self.notify()

    def start_stop(self, twc: str, charging: bool, now: float) -> None:
        """Send one TWC a start (True) or stop (False) command now, once."""
        self.twcs.command(twc, charging, now)
        self.notify()

    def schedule(self, windows: list[dict], unix_now: float | None = None) -> None:
        """Push windows [{"start", "end", "amps"}...]; ValueError as the device would refuse."""
        now = time.time() if unix_now is None else unix_now
        try:
            payloads.windows(windows, self.limit, int(now) - payloads.EPOCH)
        except payloads.Bad as e:
            raise ValueError(f"site {self.site}: schedule refused: {e}") from None
        self._windows = [dict(w) for w in windows]
        self._schedule_due = True
        self.notify()

    def cars(self, rules: list[dict]) -> None:
        """Push the rules for cars by VIN ([{"vin", "max_amps", ...}], docs/mqtt.md); sent
        once the device's state is known (min_amps is held within its per-TWC wiring),
        and again at each reconnect."""
        self._cars = [dict(r) for r in rules]
        self._cars_due = True
        self.notify()

    def reconnected(self, now: float) -> None:
        """A new broker session: send the lease and schedule anew, watch from now."""
        self._sent = None
        self._schedule_due = self._windows is not None
        self._cars_due = self._cars is not None
        self._watch_from = now
        self.twcs.reconnected()

    def next_due(self, now: float) -> float:
        """When outbox() has something next (monotonic); inf if nothing will be."""
        if self._schedule_due or self._cars_due and self.state is not None:
            return now
        return min(self._lease_due(now), self.twcs.next_due(now))

    def _lease_due(self, now: float) -> float:
        amps = self.lease_amps
        if amps is None:
            return math.inf
        return now if self._sent is None or self._sent[0] != amps else self._sent[1] + self.renew_s

    def outbox(self, now: float, unix_now: float | None = None) -> list[tuple[str, bytes]]:
        """The (topic, payload) messages due at now; they count as sent."""
        out = []
        if self._schedule_due and self._windows is not None:
            wall = time.time() if unix_now is None else unix_now
            live = [w for w in self._windows if w["end"] > wall]  # ended ones would be refused
            out.append((self.prefix + SCHEDULE_TOPIC, json.dumps(live).encode()))
            self._schedule_due = False
        if self._cars_due and self._cars is not None and self.state is not None:
            per_twc = self.state.wiring_max_amps_per_twc
            rules = [{**r, "min_amps": min(r["min_amps"], per_twc)} if "min_amps" in r else r
                     for r in self._cars]
            out.append((self.prefix + CARS_TOPIC, json.dumps(rules).encode()))
            self._cars_due = False
        amps = self.lease_amps
        if amps is not None and self._lease_due(now) <= now:
            lease = {"amps": amps, "ttl_s": self.ttl_s, "seq": self._next_seq()}
            out.append((self.prefix + SITE_TOPIC, json.dumps(lease).encode()))
            self._sent = (amps, now)
        return out + self.twcs.outbox(now)

    def health(self, now: float) -> str:
        """online, offline (its retained `online` is false), silent (online but no state
        for silent_after_s), or unknown (nothing heard yet)."""
        if self.online is False:
            return "offline"
        if self.online is None and self.state_at is None:
            return "unknown"
        last = max(self._watch_from, -math.inf if self.state_at is None else self.state_at)
        return "online" if now - last <= self.silent_after_s else "silent"

    def receive(self, kind: str, payload: bytes, now: float) -> None:
        """A message of the device (kind: its topic after the prefix, STATE_TOPIC,
        EVENT_TOPIC or ONLINE_TOPIC); garbage is counted, logged and ignored: this never
        raises."""
        health = self.health(now)
        try:
            text = payload.decode("utf-8")
            data = json.loads(text) if text else None
        except (UnicodeDecodeError, ValueError, RecursionError):
            return self._garbage(kind, "not UTF-8 JSON: " + repr(payload[:40]))
        try:
            if kind == STATE_TOPIC:
                self.state, self.state_at = parse_state(data), now
                self.twcs.seen((x.id for x in self.state.slaves),
                               self.state.wiring_max_amps_per_twc)
            elif kind == ONLINE_TOPIC:
                if not isinstance(data, bool):
                    raise Garbage(f"must be true or false, not {text[:40]!r}")
                if data and self.online is not True:
                    self.reconnected(now)  # the device's new session has lost our commands
                self.online = data
            elif kind == EVENT_TOPIC:
                if not isinstance(data, dict) or not isinstance(data.get("event"), str):
                    raise Garbage('must be a JSON object with a string "event"')
                self._event(data)
            else:
                raise Garbage("unknown topic")
        except Garbage as e:
            self._garbage(kind, str(e))
        if kind == ONLINE_TOPIC or self.health(now) != health:  # not on every state: many sites
            self.notify()

    def _event(self, data: dict) -> None:
        """A device event, in the log (the host keeps none): our own commands refused are
        errors, trouble on the bus warnings, the rest (a TWC joined, a VIN read) info."""
        kind = data["event"]
        self.twcs.heard(data)
        topic = data.get("topic")
        if kind == "rejected" and (topic in (SITE_TOPIC, SCHEDULE_TOPIC, CARS_TOPIC) or isinstance(
                topic, str) and topic.startswith("twc/")):
            log.error("site %s: the device refused our %s: %s", self.site, data["topic"],
                      data.get("reason"))
            return
        detail = ", ".join(f"{k} {v}" for k, v in data.items() if k != "event")
        log.log(logging.WARNING if kind in TROUBLE else logging.INFO, "site %s: device: %s%s",
                self.site, kind, detail and f" ({detail})")

    def _garbage(self, kind: str, reason: str) -> None:
        self.garbage += 1
        self.last_garbage = f"{kind}: {reason}"
        log.warning("site %s: ignored a garbled %s message (%s)", self.site, kind, reason)
