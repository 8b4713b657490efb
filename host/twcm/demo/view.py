"""What `twcm demo` shows: a live view in a terminal (rich), plain lines elsewhere.

Both views take the same Frame at each update and the same events as they happen;
PlainView prints one line per update at most every `every_s` seconds, so that the demo
can be logged and tested.
"""
from __future__ import annotations

import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table

from twcm.demo.device import DeviceView

EVENTS = 8  # events the live view keeps on screen


@dataclass(frozen=True)
class Frame:
    """The figures of one update: the meters as the site loop last read them (the
    consumption includes the cars), the policy's decision, the device now."""

    clock: str  # simulated time of day, HH:MM
    generation_w: float | None
    consumption_w: float | None
    grid_import_w: float | None  # negative while exporting
    lease: int | None  # amps the host leases; None: no lease, the device is on its own
    claim: str | None  # the policy's claim that set them: green, default, ...
    reason: str  # the policy's words
    device: DeviceView


def _w(value: float | None) -> str:
    return "? W" if value is None else f"{value:.0f} W"


def _grid(value: float | None) -> str:
    if value is None:
        return "? W"
    return f"export {-value:.0f} W" if value < 0 else f"import {value:.0f} W"


def _lease(frame: Frame) -> str:
    return "none" if frame.lease is None else f"{frame.lease} A"


def line(frame: Frame) -> str:
    """The frame as one line: time, meters, lease and why, the device, each TWC."""
    d = frame.device
    twcs = " | ".join(f"TWC {t.id} {t.state} offer {t.offer} A draws {t.draws:.1f} A "
                      f"car {t.car}" for t in d.twcs)
    return (f"{frame.clock} sun {_w(frame.generation_w)} use {_w(frame.consumption_w)} "
            f"(cars {_w(d.cars_w)}) grid {_grid(frame.grid_import_w)} | "
            f"lease {_lease(frame)}: {frame.reason} | device {d.source} {d.limit} A | {twcs}")


class PlainView:
    """Lines on `out`: each event as it happens, a frame every `every_s` seconds."""

    def __init__(self, about: str, clock: Callable[[], str], every_s: float,
                 out: TextIO = sys.stdout) -> None:
        self.about = about
        self.clock = clock
        self.every_s = every_s
        self.out = out
        self._next = 0.0
        self._lock = threading.Lock()  # events come from the bus and paho threads too

    def __enter__(self) -> PlainView:
        self._print(f"twcm demo: {self.about}. Ctrl-C to stop.")
        return self

    def __exit__(self, *exc: object) -> None:
        self._print("twcm demo: stopped")

    def _print(self, text: str) -> None:
        with self._lock:
            print(text, file=self.out, flush=True)

    def event(self, text: str) -> None:
        self._print(f"{self.clock()} {text}")

    def show(self, frame: Frame) -> None:
        now = time.monotonic()
        if now >= self._next:
            self._next = now + self.every_s
            self._print(line(frame))


class LiveView:
    """A panel redrawn in place, the simulated time in its title: the site, the TWCs,
    the latest events."""

    def __init__(self, about: str, clock: Callable[[], str],
                 console: Console | None = None) -> None:
        self.about = about
        self.clock = clock
        self._events: deque[str] = deque(maxlen=EVENTS)  # appended to from any thread
        self._live = Live(self._panel("starting ...", clock()), console=console,
                          refresh_per_second=4)

    def __enter__(self) -> LiveView:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def event(self, text: str) -> None:
        self._events.append(f"{self.clock()} {text}")

    def show(self, frame: Frame) -> None:
        self._live.update(self._render(frame))

    def _render(self, frame: Frame) -> Panel:
        d = frame.device
        site = Table.grid(padding=(0, 2))
        site.add_column(style="bold")
        site.add_column()
        site.add_row("setup", self.about)
        site.add_row("sun", _w(frame.generation_w))
        site.add_row("use", f"{_w(frame.consumption_w)}  (the house and the cars, which "
                     f"draw {_w(d.cars_w)})")
        site.add_row("grid", _grid(frame.grid_import_w))
        site.add_row("lease", f"{_lease(frame)}  (claim: {frame.claim or '-'})")
        site.add_row("why", frame.reason)
        broker = "connected" if d.connected else "offline"
        site.add_row("device", f"{d.source}, site limit {d.limit} A, broker {broker}")
        twcs = Table()
        for name in ("TWC", "state", "offer", "draws", "car"):
            twcs.add_column(name, justify="right" if name in ("offer", "draws") else "left")
        for t in d.twcs:
            twcs.add_row(t.id, t.state if t.joined else "not joined yet", f"{t.offer} A",
                         f"{t.draws:.1f} A", t.car)
        events = "\n".join(self._events) or "-"
        return self._panel(Group(site, twcs, Panel(events, title="events")), frame.clock)

    @staticmethod
    def _panel(body: RenderableType, clock: str) -> Panel:
        return Panel(body, title=f"twcm demo: {clock} (simulated time)",
                     subtitle="Ctrl-C to stop")
