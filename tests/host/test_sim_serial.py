"""Simulated slaves on a real (pseudo-)serial port, and the `twcm sim` command."""
import select
import signal
import subprocess
import sys
import time

import pytest
import serial

from twc import proto
from twc.frame import Reader
from twc.master import Master
from twc.share import Limits
from twc.ticks import ticks_ms
from twcm.cli import main
from twcm.master.serial import open_port
from twcm.sim.serial_port import PtyLink, SerialSlaves


def read_frames(port, seconds, want):
    """Frames read from port until `want(frames)` or the time is up."""
    r = Reader()
    frames = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and not want(frames):
        for b in port.read(256):
            n = r.push(b)
            if n:
                frames.append(bytes(r.buf[:n]))
    return frames


def test_pty_link_carries_bytes_both_ways():
    with PtyLink() as link:
        a = serial.Serial(link.a, 9600, timeout=1)
        b = serial.Serial(link.b, 9600, timeout=1)
        every_byte = bytes(range(256))  # no echo, no line editing
        a.write(every_byte)
        assert b.read(256) == every_byte
        b.write(b"\xc0\x11\xc0")
        assert a.read(3) == b"\xc0\x11\xc0"
        a.close()
        b.close()


def test_twcm_sim_sends_linkready_on_a_pty():
    with PtyLink() as link:
        sim = subprocess.Popen(
            [sys.executable, "-m", "twcm.cli", "sim", "--port", link.a, "--slaves", "2",
             "--seed", "3", "--status-every", "0.5"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            with serial.Serial(link.b, 9600, timeout=0.05) as port:
                frames = read_frames(port, 8, lambda fs: len({proto.sender(f) for f in fs}) >= 2)
        finally:
            sim.send_signal(signal.SIGINT)
            out, err = sim.communicate(timeout=10)
    assert sim.returncode == 0, err
    assert len({proto.sender(f) for f in frames}) == 2
    for f in frames:
        assert proto.code(f) == proto.SLAVE_LINKREADY and len(f) == 16
        assert proto.linkready_max_ca(f) == 3200
    ids = {f"{proto.sender(f):04X}" for f in frames}
    assert all(i in out for i in ids)
    assert "no master" in out and "twcm sim: stopped" in out and not err


def test_serial_slaves_are_linked_by_the_real_master():
    with PtyLink() as link:
        sim = SerialSlaves(open_port(link.a))
        slave = sim.add_slave(twc_id=0x2431, seed=5, first_linkready_ms=200)
        slave.car.plug()
        port = open_port(link.b)

        master = Master(port.write, Limits(40, 32, 40), now=ticks_ms())
        end = time.monotonic() + 8
        while time.monotonic() < end and slave.applied_amps < 32:
            sim.poll()
            if select.select([port], [], [], 0)[0]:
                master.handle_bytes(port.read(4096), ticks_ms())
            master.tick(ticks_ms())
        port.close()
        sim.port.close()
    assert slave.mastered and slave.applied_amps == 32 and slave.car.amps > 0


def test_a_port_that_does_not_open_is_named(capsys):
    assert main(["sim", "--port", "/dev/no-such-tty"]) == 2
    err = capsys.readouterr().err
    assert "/dev/no-such-tty" in err and "ls /dev/tty" in err


@pytest.mark.parametrize("args,flag", [
    (["--slaves", "4"], "--slaves"),
    (["--protocol", "3"], "--protocol"),
    (["--phases", "2"], "--phases"),
    (["--max-amps", "100"], "--max-amps"),
    (["--plug-after", "-1"], "--plug-after"),
    (["--vin", "TOO-SHORT"], "--vin"),
    (["--status-every", "0"], "--status-every"),
])
def test_bad_values_are_refused_naming_the_flag(capsys, args, flag):
    with pytest.raises(SystemExit) as e:
        main(["sim", "--port", "/dev/null", *args])
    assert e.value.code == 2
    assert f"argument {flag}" in capsys.readouterr().err


def test_more_vins_than_slaves_is_an_error(capsys):
    vin = "5YJ3E1EA7KF317000"
    assert main(["sim", "--port", "/dev/null", "--vin", vin, "--vin", vin]) == 2
    assert "--vin" in capsys.readouterr().err
