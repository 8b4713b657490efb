"""When the demo's cars come and go, in simulated time.

The first car is plugged in from the start, so that it follows the sun from the first
minute; the others arrive later and share what the sun gives; the second one leaves in
the afternoon.
"""
from __future__ import annotations

from dataclasses import dataclass

HOUR_S = 3600.0


@dataclass(frozen=True)
class Plug:
    after_s: float  # simulated seconds after the start
    twc: int  # index of the simulated TWC
    plugged: bool  # True: a car arrives; False: it leaves


def timeline(slaves: int) -> list[Plug]:
    """The plugs and unplugs for `slaves` TWCs."""
    plugs = [Plug(0.0, 0, True)]
    if slaves >= 2:
        plugs += [Plug(1.5 * HOUR_S, 1, True), Plug(6 * HOUR_S, 1, False)]
    if slaves >= 3:
        plugs.append(Plug(3 * HOUR_S, 2, True))
    return plugs


class Scenario:
    """Hands out each Plug once its time has come."""

    def __init__(self, plugs: list[Plug]) -> None:
        self._left = sorted(plugs, key=lambda p: p.after_s)

    def due(self, elapsed_s: float) -> list[Plug]:
        """The plugs due by `elapsed_s` simulated seconds that were not handed out yet."""
        n = next((i for i, p in enumerate(self._left) if p.after_s > elapsed_s),
                 len(self._left))
        due, self._left = self._left[:n], self._left[n:]
        return due
