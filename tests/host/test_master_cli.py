"""`twcm master` against `twcm sim` (three slaves) over a virtual serial link,
both as a user runs them: separate processes, real time, a real pty."""
from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time

import pytest

from twcm.cli import main

TWCM = [sys.executable, "-m", "twcm.cli"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
OFFER = re.compile(r"TWC ([0-9A-F]{4}) p2 linked\s+(\w+)\s+offer\s+(\d+) A\s+draws\s+([\d.]+) A")


class Proc:
    """A child process whose stdout lines we read with a deadline."""

    def __init__(self, args: list[str]) -> None:
        self.p = subprocess.Popen(TWCM + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, env=ENV)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.p.stdout, selectors.EVENT_READ)
        self.lines: list[str] = []

    def read_until(self, pred, timeout: float) -> str | None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.sel.select(timeout=0.2):
                line = self.p.stdout.readline()
                if not line:
                    return None
                self.lines.append(line)
                if pred(line):
                    return line
        return None

    def stop(self) -> int:
        self.p.send_signal(signal.SIGINT)
        try:
            out, _ = self.p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise
        self.lines += out.splitlines(keepends=True)
        return self.p.returncode


def test_master_and_sim_share_the_circuit_between_three_cars():
    sim = Proc(["sim", "--pty", "--slaves", "3", "--seed", "3", "--status-every", "1"])
    master = None
    try:
        line = sim.read_until(lambda s: "--port" in s, 10)
        assert line, sim.lines
        port = line.split("--port", 1)[1].split()[0]
        master = Proc(["master", "--port", port, "--wiring-max-amps-all", "40",
                       "--wiring-max-amps-per-twc", "32", "--fallback-amps", "40",
                       "--status-every", "1"])
        offers: dict[str, tuple[int, float]] = {}

        def shared(line: str) -> bool:
            m = OFFER.search(line)
            if m and m.group(2) == "charging":
                offers[m.group(1)] = (int(m.group(3)), float(m.group(4)))
            return len(offers) == 3 and sorted(o for o, _ in offers.values()) == [13, 13, 14]

        assert master.read_until(shared, 30), "".join(master.lines[-20:])
        assert all(0 < a <= o for o, a in offers.values())
        # The simulated slaves see the same: mastered, limits in force.
        assert sim.read_until(lambda s: "mastered" in s and "limit  14.00 A" in s, 5)
    finally:
        codes = ([master.stop()] if master else []) + [sim.stop()]
    assert codes == [0, 0], "".join(master.lines[-5:])
    assert any("stopped" in s for s in master.lines)
    assert any("event: joined" in s for s in master.lines)


@pytest.mark.parametrize("args, message", [
    (["--wiring-max-amps-all", "-5"], "-5 A is negative"),
    (["--wiring-max-amps-per-twc", "90"], "between 5 and 80 A"),
    (["--fallback-amps", "50"], "fallback_amps must not exceed wiring_max_amps_all"),
    (["--wiring-max-amps-all", "forty"], "not a whole number of amps"),
    (["--master-id", "77"], "not a 4-digit hex TWC id"),
])
def test_bad_arguments_are_refused_with_the_fix(args, message, capsys):
    base = {"--port": "/dev/null", "--wiring-max-amps-all": "40",
            "--wiring-max-amps-per-twc": "32", "--fallback-amps": "16"}
    for k, v in zip(args[::2], args[1::2]):
        base[k] = v
    argv = ["master"] + [x for kv in base.items() for x in kv]
    try:
        code = main(argv)
    except SystemExit as e:  # argparse
        code = e.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_port_that_does_not_open_is_named(capsys):
    code = main(["master", "--port", "/dev/ttyNOPE9", "--wiring-max-amps-all", "40",
                 "--wiring-max-amps-per-twc", "32", "--fallback-amps", "16"])
    assert code == 2
    err = capsys.readouterr().err
    assert "/dev/ttyNOPE9" in err and "check the device path" in err
