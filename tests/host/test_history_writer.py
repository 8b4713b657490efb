"""twcm.service.history.writer: batches from its own threads, never waits in submit, retries
a failing backend, holds a bounded queue and counts what it drops, flushes on close."""
from __future__ import annotations

import logging
import threading
import time

from twcm.service.history.records import DecisionRecord
from twcm.service.history.writer import Writer


def record(i: int) -> DecisionRecord:
    return DecisionRecord(float(i), "home", i, None, None, f"turn {i}")


class Kept:
    """A backend that keeps what it is given; fails while `down`, blocks while `gate` is
    clear."""

    def __init__(self) -> None:
        self.batches: list[list] = []
        self.down = False
        self.tries = 0
        self.gate = threading.Event()
        self.gate.set()
        self.threads: set[str] = set()
        self.closed = False

    def write(self, batch) -> None:
        self.threads.add(threading.current_thread().name)
        self.tries += 1
        self.gate.wait()
        if self.down:
            raise ConnectionError("the server is down")
        self.batches.append(list(batch))

    def close(self) -> None:
        self.closed = True

    def records(self) -> list:
        return [r for b in self.batches for r in b]


def until(test, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not test():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def test_records_reach_every_backend_in_order_in_batches_from_its_own_thread():
    a, b = Kept(), Kept()
    w = Writer([("a", a), ("b", b)], batch=10, capacity=100, linger_s=5)
    for i in range(25):
        w.submit(record(i))
    until(lambda: len(a.records()) >= 20, "two full batches")  # full batches do not linger
    assert [len(x) for x in a.batches[:2]] == [10, 10]
    w.close()  # the last 5 are written at close, lingering or not
    assert a.records() == b.records() == [record(i) for i in range(25)]
    assert a.closed and b.closed
    assert a.threads == {"history a"} and b.threads == {"history b"}
    assert w.status() == [{"backend": n, "held": 0, "written": 25, "dropped": 0, "error": None}
                          for n in ("a", "b")]


def test_submit_does_not_wait_for_a_backend_that_blocks():
    slow, fast = Kept(), Kept()
    slow.gate.clear()  # e.g. a server that does not answer
    w = Writer([("slow", slow), ("fast", fast)], batch=5, capacity=1000, linger_s=0.01)
    for i in range(200):
        w.submit(record(i))  # would hang here if submit waited for the slow backend
    until(lambda: len(fast.records()) == 200, "the fast backend's records")
    assert w.status()[0]["held"] == 200 and len(slow.records()) == 0
    slow.gate.set()
    assert w.flush(10)
    assert slow.records() == fast.records()
    w.close()


def test_a_failing_backend_is_retried_with_its_records_held(caplog):
    db = Kept()
    db.down = True
    w = Writer([("database", db)], batch=10, capacity=100, linger_s=0.01, retry_s=0.01,
               retry_max_s=0.05)
    with caplog.at_level(logging.WARNING, "twcm.history"):
        for i in range(30):
            w.submit(record(i))
        until(lambda: db.tries >= 4, "retries")
        status = w.status()[0]
        assert status["held"] == 30 and status["written"] == 0
        assert status["error"] == "ConnectionError: the server is down"
        db.down = False
        assert w.flush(10)
    assert db.records() == [record(i) for i in range(30)]  # none lost, none twice, in order
    assert w.status()[0] == {"backend": "database", "held": 0, "written": 30, "dropped": 0,
                             "error": None}
    messages = [r.getMessage() for r in caplog.records]
    assert sum("cannot write" in m for m in messages) == 1  # once per outage, not per retry
    assert any("writing again" in m for m in messages)
    w.close()


def test_the_queue_is_bounded_and_counts_what_it_drops(caplog):
    db = Kept()
    db.down = True
    w = Writer([("database", db)], batch=10, capacity=50, linger_s=0.01, retry_s=0.01,
               retry_max_s=0.02)
    with caplog.at_level(logging.WARNING, "twcm.history"):
        for i in range(10):
            w.submit(record(i))
        until(lambda: db.tries >= 1, "a batch taken")  # held until it is written
        for i in range(10, 80):
            w.submit(record(i))
        assert w.status()[0]["held"] == 50 and w.status()[0]["dropped"] == 30
        until(lambda: any("dropped 30 of the oldest" in r.getMessage()
                          for r in caplog.records), "the drops logged")
        db.down = False
        assert w.flush(10)
    kept = db.records()
    # The batch taken before the queue filled is written; the oldest of the rest went.
    assert len(kept) == 50 and kept[:10] == [record(i) for i in range(10)]
    assert kept[10:] == [record(i) for i in range(40, 80)]
    w.close()


def test_close_gives_a_failing_backend_one_more_try_and_says_what_is_lost(caplog):
    db = Kept()
    db.down = True
    w = Writer([("database", db)], batch=10, capacity=100, linger_s=0.01, retry_s=60)
    w.submit(record(1))
    until(lambda: db.tries == 1, "the first try")
    with caplog.at_level(logging.ERROR, "twcm.history"):
        w.close(timeout=10)  # wakes the back-off: one more try, then gives up
    assert db.tries == 2 and db.closed
    assert any("1 record(s) not written at stop" in r.getMessage() for r in caplog.records)
