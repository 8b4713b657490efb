"""The per-TWC part of a site's device link (docs/mqtt.md): the caps the host wants for
single Wall Connectors (twc/<id>/limit/set leases) and one-shot start/stop commands
(twc/<id>/charging/set). No I/O, the time is an argument; SiteLink owns one and puts what
it has due in its outbox.

A cap is sent when it changes, when its TWC appears in the device's state (a TWC that
(re)joins starts uncapped on the device), and renewed every renew_s, like the site lease;
only for TWCs the latest state lists (the device refuses others). Removing a cap sends
one short lease at the TWC's wiring limit, which caps nothing and ends within
RELEASE_TTL_S (there is no "release" message: the device would otherwise hold the old cap
until its ttl ran out). A start/stop command goes out once, with the next outbox, and is
dropped rather than sent late (COMMAND_MAX_AGE_S) if the broker was away meanwhile.
"""
from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable

from twc import payloads
from twc.contract import CHARGING_TOPIC, twc_topic

log = logging.getLogger("twcm.devicelink")

RELEASE_TTL_S = payloads.TTL_MIN
COMMAND_MAX_AGE_S = 10.0


class TwcLinks:
    """The caps and start/stop commands of one site's Wall Connectors."""

    def __init__(self, site: str, prefix: str, ttl_s: int, renew_s: float,
                 next_seq: Callable[[], int]) -> None:
        self.site = site
        self.prefix = prefix
        self.ttl_s = ttl_s
        self.renew_s = renew_s
        self.next_seq = next_seq
        self.caps: dict[str, int] = {}  # TWC id -> the cap the host wants (amps)
        # TWC id -> a ceiling from outside the host's caps (OCPP's, SiteLoop.set_outside):
        # the lower of the two is sent.
        self.ceilings: dict[str, int] = {}
        self._sent: dict[str, tuple[int, float]] = {}  # (amps, monotonic) last sent
        self._release: set[str] = set()  # removed caps whose ending lease is due
        self._present: dict[str, int] = {}  # TWCs of the latest state: their wiring limit
        self._commands: list[tuple[str, bool, float]] = []  # (twc, charging, monotonic)
        self.word: dict[str, str] = {}  # TWC id -> the device's latest word on start/stop

    def want(self, twc: str, amps: int | None) -> None:
        """Cap `twc` at `amps` from now on; None removes its cap."""
        if amps is None:
            self.caps.pop(twc, None)
        else:
            self.caps[twc] = int(amps)
        self._settle({twc})

    def ceil(self, ceilings: dict[str, int]) -> None:
        """The ceilings from outside from now on, replacing the ones before."""
        changed = self.ceilings.keys() | ceilings.keys()
        self.ceilings = {twc: int(amps) for twc, amps in ceilings.items()}
        self._settle(changed)

    def _limit(self, twc: str) -> int | None:
        """The lower of the cap and the ceiling of `twc`; None if it has neither."""
        both = [d[twc] for d in (self.caps, self.ceilings) if twc in d]
        return min(both) if both else None

    def _settle(self, twcs: Iterable[str]) -> None:
        """A TWC left with neither cap nor ceiling gets its ending lease if it was sent one."""
        for twc in twcs:
            if self._limit(twc) is None:
                if twc in self._sent:
                    self._release.add(twc)
                self._sent.pop(twc, None)
            else:
                self._release.discard(twc)

    def command(self, twc: str, charging: bool, now: float) -> None:
        """Send {"charging": charging} to `twc` once, now."""
        self._commands.append((twc, charging, now))

    def seen(self, twcs: Iterable[str], wiring_per_twc: int) -> None:
        """The TWCs of the device's latest state and its per-TWC wiring limit: a capped TWC
        that was not in the state before is sent its cap again at once (it joined
        uncapped)."""
        present = dict.fromkeys(twcs, wiring_per_twc)
        for twc in present.keys() - self._present.keys():
            self._sent.pop(twc, None)
        self._present = present

    def heard(self, event: dict) -> None:
        """A device event: keep what it says of a start/stop command ("stop sent", "stop
        acked", "refused: <reason>")."""
        twc, kind = event.get("twc"), event["event"]
        if not isinstance(twc, str):
            return
        if kind.startswith("charging_"):
            self.word[twc] = kind.removeprefix("charging_").replace("_", " ")
        elif kind == "rejected" and str(event.get("topic")).endswith(CHARGING_TOPIC):
            self.word[twc] = f"refused: {event.get('reason')}"

    def reconnected(self) -> None:
        """A new broker session: send every cap anew."""
        self._sent.clear()

    def _amps(self, twc: str) -> int | None:
        """What the cap of `twc` sends: within the device's per-TWC wiring; None while the
        device does not list it."""
        wiring, limit = self._present.get(twc), self._limit(twc)
        return None if wiring is None or limit is None else min(limit, wiring)

    def next_due(self, now: float) -> float:
        """When outbox() has something next (monotonic); inf if nothing will be."""
        if self._commands or self._release & self._present.keys():
            return now
        due = math.inf
        for twc in self.caps.keys() | self.ceilings.keys():
            amps = self._amps(twc)
            if amps is None:
                continue
            sent = self._sent.get(twc)
            due = min(due, now if sent is None or sent[0] != amps else sent[1] + self.renew_s)
        return due

    def outbox(self, now: float) -> list[tuple[str, bytes]]:
        """The (topic, payload) messages due at now; they count as sent."""
        out = []
        for twc, charging, at in self._commands:
            if now - at > COMMAND_MAX_AGE_S:
                log.warning("site %s: TWC %s: the %s command was not sent: the broker was "
                            "away for %.0f s", self.site, twc,
                            "start" if charging else "stop", now - at)
                continue
            out.append((self.prefix + twc_topic(twc, CHARGING_TOPIC),
                        json.dumps({"charging": charging}).encode()))
        self._commands.clear()
        for twc in sorted(self._release & self._present.keys()):
            lease = {"amps": self._present[twc], "ttl_s": RELEASE_TTL_S,
                     "seq": self.next_seq()}
            out.append((self.prefix + twc_topic(twc), json.dumps(lease).encode()))
            self._release.discard(twc)
        for twc in sorted(self.caps.keys() | self.ceilings.keys()):
            amps = self._amps(twc)
            sent = self._sent.get(twc)
            if amps is None or sent is not None and sent[0] == amps \
                    and now < sent[1] + self.renew_s:
                continue
            lease = {"amps": amps, "ttl_s": self.ttl_s, "seq": self.next_seq()}
            out.append((self.prefix + twc_topic(twc), json.dumps(lease).encode()))
            self._sent[twc] = (amps, now)
        return out
