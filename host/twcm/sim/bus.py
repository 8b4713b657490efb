"""An in-process RS-485 bus with simulated time, for tests and the demo.

    bus = Bus()
    master = Master(bus.master_send, Limits(40, 32, 40), now=bus.master_now)
    bus.attach_master(master)
    slaves = [bus.add_slave(seed=i) for i in range(3)]
    bus.advance(60_000)

Each step the bus delivers the bytes whose wire time (9600 baud 8N1: 10
bits, ~1.04 ms a byte) has passed to every node but their sender, then
ticks every node. A transmission starts when its node sends (or when that
node's previous one ends).

Collisions: RS-485 has no arbitration, so when two transmissions overlap
every byte slot that overlaps another is received as line garbage: an
invalid escape (DB 00) and then 00s. A Reader that was assembling a frame
drops it and waits for the next C0, so both frames are lost for sure, as on
a real bus, rather than "probably" as mixed bytes would be. Each overlap is
recorded in `collisions`, naming the node that started into a busy line and
whether it could already have heard the other frame.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from twc import proto
from twc.frame import Reader
from twc.ticks import PERIOD

from twcm.sim.slave import SimSlave

BAUD = 9600
BITS = 10  # start, 8 data, stop
GARBAGE = b"\xdb\x00"  # what a receiver makes of a slot two nodes drive
MASTER = "master"


def slot_end_us(start_us: int, k: int) -> int:
    """End of byte k of a transmission that starts at start_us."""
    return start_us + (k + 1) * BITS * 1_000_000 // BAUD


@dataclass
class WireFrame:
    """One transmission as it went on the wire."""
    start_ms: float
    end_ms: float
    sender: str  # "master" or "slave<index>"
    wire: bytes
    frame: bytes | None  # the frame a Reader finds in wire alone, if any
    collided: bool = False


@dataclass
class Collision:
    at_ms: float
    starter: str  # the node that started while the line was busy
    others: tuple[str, ...]
    heard: bool  # the starter had already received a byte of another frame


class _Tx:
    def __init__(self, sender: str, data: bytes, start_us: int, log: WireFrame) -> None:
        self.sender = sender
        self.data = data
        self.start_us = start_us
        self.end_us = slot_end_us(start_us, len(data) - 1)
        self.next = 0  # next byte to deliver
        self.log = log


def _first_frame(wire: bytes) -> bytes | None:
    r = Reader()
    for b in wire:
        n = r.push(b)
        if n:
            return bytes(r.buf[:n])
    return None


class Bus:
    """The line, the clock and the nodes: at most one master, any slaves.

    now is the bus time in ms (a plain int; it may start near 2**30 to test
    the master's tick wrap). The master is fed now wrapped like
    twc.ticks; slaves get now itself. step_ms 1 resolves single bytes; 5
    runs about four times faster with coarser carrier sense.
    """

    def __init__(self, step_ms: int = 1, start_ms: int = 0) -> None:
        self.step_ms = step_ms
        self.now = start_ms
        self.master: Any = None  # a twc.master.Master
        self.slaves: list[SimSlave] = []
        self._nodes: list[tuple[str, Any]] = []  # (name, node) to deliver to
        self.log: list[WireFrame] = []
        self.collisions: list[Collision] = []
        # Called after every step with the bus time: check invariants here.
        self.hooks: list[Callable[[int], None]] = []
        self._live: list[_Tx] = []
        self._free_at: dict[str, int] = {}  # when each node's line driver is free

    @property
    def master_now(self) -> int:
        """The bus time as the master sees it: wrapping ticks."""
        return self.now & (PERIOD - 1)

    def master_send(self, view: memoryview) -> None:
        """The master's send callback (its buffer is reused: copy it now)."""
        self.transmit(MASTER, bytes(view))

    def attach_master(self, master: Any) -> None:
        """Put a master built with send=bus.master_send on the bus, in place
        of the one there before (a master restart)."""
        self.master = master
        self._nodes = [(name, node) for name, node in self._nodes if name != MASTER]
        self._nodes.append((MASTER, master))

    def add_slave(self, **options: Any) -> SimSlave:
        """A new SimSlave on the bus; options go to SimSlave."""
        name = f"slave{len(self.slaves)}"
        slave = SimSlave(lambda data: self.transmit(name, data), now_ms=self.now, **options)
        self.slaves.append(slave)
        self._nodes.append((name, slave))
        return slave

    # -- the line ------------------------------------------------------------

    def transmit(self, sender: str, data: bytes) -> None:
        """sender starts sending data now (or when its last frame ends)."""
        if not data:
            return
        now_us = self.now * 1000
        start = max(now_us, self._free_at.get(sender, now_us))
        log = WireFrame(start / 1000, 0.0, sender, data, _first_frame(data))
        tx = _Tx(sender, data, start, log)
        log.end_ms = tx.end_us / 1000
        self._free_at[sender] = tx.end_us
        busy = [o for o in self._live
                if o.sender != sender and o.start_us < tx.end_us and o.end_us > start]
        if busy:
            heard = any(slot_end_us(o.start_us, 0) <= now_us for o in busy)
            self.collisions.append(Collision(start / 1000, sender,
                                             tuple(o.sender for o in busy), heard))
        self._live.append(tx)
        self.log.append(log)

    def _deliver(self) -> None:
        now_us = self.now * 1000
        events: list[tuple[int, str, bytes]] = []
        live = self._live
        for tx in live:
            while tx.next < len(tx.data):
                k = tx.next
                end = slot_end_us(tx.start_us, k)
                if end > now_us:
                    break
                start = slot_end_us(tx.start_us, k - 1) if k else tx.start_us
                if any(o is not tx and o.start_us < end and o.end_us > start for o in live):
                    tx.log.collided = True
                    events.append((end, tx.sender, GARBAGE))
                else:
                    events.append((end, tx.sender, tx.data[k:k + 1]))
                tx.next = k + 1
        if events:
            events.sort(key=lambda e: e[0])
            for name, node in self._nodes:
                data = b"".join(b for _, sender, b in events if sender != name)
                if data:
                    if name == MASTER:
                        node.handle_bytes(data, self.master_now)
                    else:
                        node.handle_bytes(data, self.now)
        # A finished transmission is kept while one it may overlap is unsent.
        self._live = [tx for tx in live if tx.next < len(tx.data) or any(
            o.next < len(o.data) and o.start_us < tx.end_us for o in live)]

    # -- time ----------------------------------------------------------------

    def step(self) -> None:
        """Deliver what has arrived, tick every node, run the hooks."""
        self._deliver()
        for s in self.slaves:
            s.tick(self.now)
        if self.master is not None:
            self.master.tick(self.master_now)
        for hook in self.hooks:
            hook(self.now)
        self.now += self.step_ms

    def run_until(self, t_ms: int) -> None:
        while self.now < t_ms:
            self.step()

    def advance(self, ms: int) -> None:
        self.run_until(self.now + ms)

    # -- reading the log -------------------------------------------------------

    def frames(self, code: int | None = None, sender: str | None = None) -> list[WireFrame]:
        """Logged transmissions holding a good frame, by message code and sender."""
        return [f for f in self.log if f.frame is not None
                and (code is None or proto.code(f.frame) == code)
                and (sender is None or f.sender == sender)]
