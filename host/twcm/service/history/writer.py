"""The history writer: records in from the event loop, without waiting; batches out to
every backend, each from its own thread.

`submit` only appends to each backend's queue (microseconds: the bus and the policy never
wait on a disk or a database server). Each backend's thread takes up to `batch` records
(waiting up to `linger_s` for a batch to fill, so that a database commits once a second
rather than once a record) and writes them. A write that raises is offered again, the
same batch, after a back-off (1 s doubling up to `retry_max_s`): a database that is down
gets its records when it is back. Meanwhile each backend holds at most `capacity`
records; past that it drops the oldest, counts them, logs it and shows it in status().
close() writes what is held (one try per backend), then closes the backends.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, Sequence

from twcm.service.history.backends import Backend
from twcm.service.history.records import Record

log = logging.getLogger("twcm.history")


def _said(e: Exception) -> str:
    """An error in a line: the driver's own (a database error wraps it), its first line."""
    said = getattr(e, "orig", None) or e
    return f"{type(said).__name__}: {str(said).splitlines()[0] if str(said) else ''}"


class _Lane:
    """One backend, its bounded queue and its thread."""

    def __init__(self, name: str, backend: Backend, capacity: int, batch: int,
                 linger_s: float, retry_s: float, retry_max_s: float) -> None:
        self.name, self.backend = name, backend
        self.capacity, self.batch, self.linger_s = capacity, batch, linger_s
        self.retry_s, self.retry_max_s = retry_s, retry_max_s
        self.cond = threading.Condition()
        self.pending: deque[Record] = deque()
        self.inflight: list[Record] = []  # taken for a write that has not succeeded yet
        self.written = self.dropped = self._dropped_logged = 0
        self.error: str | None = None
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name=f"history {name}", daemon=True)

    def put(self, record: Record) -> None:
        with self.cond:
            if len(self.pending) + len(self.inflight) >= self.capacity:
                self.dropped += 1  # a write holds at most half the capacity: pending has more
                self.pending.popleft()
            self.pending.append(record)
            if len(self.pending) == 1 or len(self.pending) >= self.batch:
                self.cond.notify_all()

    def held(self) -> int:
        with self.cond:
            return len(self.pending) + len(self.inflight)

    def _take(self) -> list[Record] | None:
        """The next batch to write (the one that failed, if any); None: stopped, all done."""
        with self.cond:
            self.cond.wait_for(lambda: self.pending or self.inflight or self.stopping)
            if not self.inflight:
                if not self.pending:
                    return None  # stopping, nothing held
                self.cond.wait_for(lambda: len(self.pending) >= self.batch or self.stopping,
                                   self.linger_s)
                n = min(self.batch, len(self.pending))
                self.inflight = [self.pending.popleft() for _ in range(n)]
            return list(self.inflight)

    def _run(self) -> None:
        delay = self.retry_s
        while (batch := self._take()) is not None:
            try:
                self.backend.write(batch)
            except Exception as e:
                with self.cond:
                    first, self.error = self.error is None, _said(e)
                    stopping = self.stopping
                self._log_drops()
                if stopping:
                    log.error("history %s: %d record(s) not written at stop: %s", self.name,
                              self.held(), self.error)
                    return
                if first:
                    log.error("history %s: cannot write (%s); holding up to %d records and "
                              "trying again", self.name, self.error, self.capacity)
                with self.cond:
                    self.cond.wait_for(lambda: self.stopping, delay)
                delay = min(delay * 2, self.retry_max_s)
                continue
            with self.cond:
                self.inflight = []
                self.written += len(batch)
                recovered, self.error = self.error, None
                self.cond.notify_all()
            delay = self.retry_s
            if recovered is not None:
                log.warning("history %s: writing again (after: %s)", self.name, recovered)
            self._log_drops()

    def _log_drops(self) -> None:
        with self.cond:
            dropped, new = self.dropped, self.dropped - self._dropped_logged
            self._dropped_logged = dropped
        if new:
            log.warning("history %s: the queue was full (%d records): dropped %d of the oldest "
                        "(%d since start)", self.name, self.capacity, new, dropped)

    def status(self) -> dict[str, Any]:
        with self.cond:
            return {"backend": self.name, "held": len(self.pending) + len(self.inflight),
                    "written": self.written, "dropped": self.dropped, "error": self.error}


class Writer:
    """`Writer([(name, backend), ...])` starts one thread per backend; close() when done."""

    def __init__(self, backends: Sequence[tuple[str, Backend]], *, capacity: int = 100_000,
                 batch: int = 500, linger_s: float = 1.0, retry_s: float = 1.0,
                 retry_max_s: float = 60.0) -> None:
        if capacity < 2 * batch:
            raise ValueError(f"capacity ({capacity}) must hold two batches ({batch} each)")
        self.lanes = [_Lane(n, b, capacity, batch, linger_s, retry_s, retry_max_s)
                      for n, b in backends]
        for lane in self.lanes:
            lane.thread.start()

    def submit(self, record: Record) -> None:
        """Hand a record to every backend; never waits on a backend."""
        for lane in self.lanes:
            lane.put(record)

    def status(self) -> list[dict[str, Any]]:
        """Per backend: records held (not written yet), written, dropped (the queue was
        full) and the last write's error while it fails (None: writing)."""
        return [lane.status() for lane in self.lanes]

    def flush(self, timeout: float) -> bool:
        """Wait until every backend has written all it holds; False if it did not in time
        (a backend that fails)."""
        for lane in self.lanes:
            with lane.cond:
                lane.cond.notify_all()  # no lingering: write what is held now
                if not lane.cond.wait_for(lambda lane=lane: not lane.pending
                                          and not lane.inflight, timeout):
                    return False
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Write what is held (one more try for a backend that fails), then close each
        backend. A backend still writing after `timeout` is left to its (daemon) thread."""
        for lane in self.lanes:
            with lane.cond:
                lane.stopping = True
                lane.cond.notify_all()
        for lane in self.lanes:
            lane.thread.join(timeout)
            if lane.thread.is_alive():
                log.error("history %s: still writing after %g s; %d record(s) may be lost",
                          lane.name, timeout, lane.held())
                continue
            try:
                lane.backend.close()
            except Exception as e:
                log.error("history %s: closing: %s", lane.name, e)
