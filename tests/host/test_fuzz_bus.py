"""Short seeded runs of the bus-frame fuzzer (bench/fuzz/bus_frames.py; the long runs are
bench/run fuzz) on CPython and on the MicroPython WebAssembly port: no crash, no frame the
master may not send, no offer above the wiring. The same seed must give the same cases on
both interpreters, and the checker must catch a master given more than the wiring."""
from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "fuzz" / "bus_frames.py"
CASES = "20000"


def fuzzer():
    spec = importlib.util.spec_from_file_location("bus_frames", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def counts(out: str) -> tuple[int, int, int]:
    m = re.search(r"(\d+) crashes, (\d+) frames sent, (\d+) bad", out)
    assert m, out
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def test_cpython_and_micropython_run_the_same_cases_and_find_nothing():
    cpython = subprocess.run([sys.executable, str(SCRIPT), CASES, "7"], capture_output=True,
                             text=True, timeout=300)
    wasm = subprocess.run(["node", str(ROOT / "tools/mpy-wasm/run.mjs"), "--lib",
                           str(ROOT / "firmware"), str(SCRIPT), CASES, "7"],
                          capture_output=True, text=True, timeout=600)
    assert cpython.returncode == 0, cpython.stdout + cpython.stderr
    assert wasm.returncode == 0, wasm.stdout + wasm.stderr
    assert "on micropython" in wasm.stdout
    c, w = counts(cpython.stdout), counts(wasm.stdout)
    assert c == w  # the same frames went out on both
    assert c[0] == 0 and c[2] == 0 and c[1] > 10000  # the master talked, and well


def test_the_checker_catches_a_master_given_more_than_the_wiring():
    crashes, _, check = fuzzer().run(5000, 3, wiring=(60, 40))
    assert crashes == 0 and check.bad > 0
    assert "cA" in check.first_bad
