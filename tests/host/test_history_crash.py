"""The CSV backend killed with SIGKILL while it appends: reopened, its file parses, and
every batch it acknowledged is there, once."""
from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import textwrap

from twcm.service.history.csv_log import CsvLog, CsvOptions

WRITER = textwrap.dedent("""
    import sys
    from twcm.service.history.csv_log import CsvLog, CsvOptions
    from twcm.service.history.records import EnergySample

    log = CsvLog(CsvOptions(directory=sys.argv[1], files=["greenenergy"]))
    n = 0
    while True:
        log.write([EnergySample(1e9 + 100 * n + k, "home", n, k, 0.0, None, None, None)
                   for k in range(100)])
        print(n, flush=True)  # acknowledged: write() returned
        n += 1
""")


def test_a_killed_append_loses_nothing_acknowledged(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    acked = -1
    for text in child.stdout:  # kill it while it is busy appending
        acked = int(text)
        if acked >= 30:
            break
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert acked >= 30
    CsvLog(CsvOptions(directory=str(tmp_path), files=["greenenergy"])).close()  # repairs
    with open(tmp_path / "greenenergy.csv", newline="") as f:
        got = list(csv.reader(f, strict=True))
    assert got[0] == ["time", "timestamp", "genWatts", "conWatts", "chgWatts"]
    assert all(len(r) == 5 for r in got[1:])
    kept = [(int(r[2]), int(r[3])) for r in got[1:]]
    want = [(n, k) for n in range(acked + 1) for k in range(100)]
    assert kept[:len(want)] == want  # every acknowledged row, in order, once
    assert len(kept) % 100 == 0  # and batches written whole or not at all
