"""`twcm flash` (host/twcm/commands/flash.py): checks, staging with the real mpy-cross, the
commands and their order, on a dry run and on a run with stand-in mpremote/esptool tools."""
from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from twcm.cli import main
from twcm.commands import flash

ROOT = Path(__file__).resolve().parents[2]
MICROPYTHON = Path(sys.executable).parent / "micropython"

CONFIG = {
    "site": "home",
    "board": "esp32-devkitc-max3485",
    "wiring_max_amps_all": 32,
    "wiring_max_amps_per_twc": 32,
    "wifi": {"ssid": "garage", "password": "secret"},
}


@pytest.fixture
def firmware(tmp_path):
    """A copy of firmware/, with an entry point even while main.py/boot.py are not written."""
    fw = tmp_path / "firmware"
    shutil.copytree(ROOT / "firmware", fw, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("main.py", "boot.py"):
        if not (fw / name).exists():
            (fw / name).write_text("print('twcm')\n")
    return fw


def _config(tmp_path, **changes):
    cfg = dict(CONFIG, **changes)
    path = tmp_path / "device.json"
    path.write_text(json.dumps(cfg))
    return path


def _flash(capsys, *argv):
    code = main(["flash", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def _commands(out):
    return [line[2:] for line in out.splitlines() if line.startswith("$ ")]


def test_dry_run_stages_the_firmware(tmp_path, firmware, capsys):
    stage = tmp_path / "stage"
    cfg = _config(tmp_path)
    code, out, err = _flash(capsys, "--port", "/dev/ttyUSB9", "--config", cfg, "--dry-run",
                            "--firmware", firmware, "--stage", stage)
    assert code == 0, err
    fs = stage / "fs"
    sources = {p.relative_to(firmware) for p in firmware.rglob("*.py")}
    expected = {Path("boards/esp32-devkitc-max3485.json"), Path("config.json")}
    for rel in sources:
        expected.add(rel if str(rel) in ("main.py", "boot.py") else rel.with_suffix(".mpy"))
    staged = {p.relative_to(fs) for p in fs.rglob("*") if p.is_file()}
    assert staged == expected
    assert Path("twc/master.mpy") in staged and Path("device/rs485.mpy") in staged
    for rel in staged:
        if rel.suffix == ".mpy":
            assert (fs / rel).read_bytes()[:2] == b"\x4d\x06", rel  # mpy version 6
    assert (fs / "main.py").read_bytes() == (firmware / "main.py").read_bytes()
    assert (fs / "config.json").read_bytes() == cfg.read_bytes()
    assert (fs / "boards/esp32-devkitc-max3485.json").read_bytes() == \
        (ROOT / "boards/esp32-devkitc-max3485.json").read_bytes()
    assert "nothing was sent to /dev/ttyUSB9" in out


def test_dry_run_prints_the_commands_in_order(tmp_path, firmware, capsys):
    image = tmp_path / "ESP32_GENERIC-v1.27.0.bin"
    image.write_bytes(b"\xe9" + bytes(15))
    stage = tmp_path / "stage"
    code, out, err = _flash(capsys, "--port", "/dev/ttyUSB9", "--config", _config(tmp_path),
                            "--dry-run", "--firmware", firmware, "--stage", stage,
                            "--write-micropython", image)
    assert code == 0, err
    cmds = _commands(out)
    assert len(cmds) == 7
    fs = stage / "fs"
    expected = [
        "esptool --chip esp32 --port /dev/ttyUSB9 erase-flash",
        f"esptool --chip esp32 --port /dev/ttyUSB9 write-flash -z 0x1000 {image}",
        "mpremote connect /dev/ttyUSB9 mip install umqtt.simple",
        f"mpremote connect /dev/ttyUSB9 run {stage}/prepare.py",
        f"mpremote connect /dev/ttyUSB9 fs cp -r {fs}/boards {fs}/device {fs}/twc :",
        f"mpremote connect /dev/ttyUSB9 fs cp {fs}/main.py {fs}/boot.py {fs}/config.json :",
        "mpremote connect /dev/ttyUSB9 reset",
    ]
    for got, want in zip(cmds, expected):
        tool, rest = want.split(" ", 1)
        assert got.split(" ", 1)[0].endswith(tool), (got, want)  # bare name or a full path
        assert got.split(" ", 1)[1] == rest
    steps = [line for line in out.splitlines() if line.startswith("[")]
    assert steps[0] == "[1/7] Erasing the ESP32's flash"
    assert steps[-1] == "[7/7] Resetting the board"


def test_prepare_script_empties_and_recreates_the_folders(tmp_path, firmware, capsys):
    # The script mpremote runs on the device, run here on the unix port in a scratch folder.
    stage = tmp_path / "stage"
    code, _, err = _flash(capsys, "--port", "/dev/ttyUSB9", "--config", _config(tmp_path),
                          "--dry-run", "--firmware", firmware, "--stage", stage)
    assert code == 0, err
    device = tmp_path / "device-fs"
    (device / "twc" / "old").mkdir(parents=True)
    (device / "twc" / "master.py").write_text("stale")
    (device / "twc" / "old" / "x.mpy").write_text("stale")
    (device / "lib").mkdir()
    (device / "lib" / "keep.py").write_text("kept")
    r = subprocess.run([str(MICROPYTHON), str(stage / "prepare.py")], cwd=device,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in device.iterdir()) == ["boards", "device", "lib", "twc"]
    assert all(list((device / d).iterdir()) == [] for d in ("boards", "device", "twc"))
    assert (device / "lib" / "keep.py").read_text() == "kept"


def _fake_tool(bindir, name, log):
    path = bindir / name
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_a_real_run_calls_the_tools_in_order(tmp_path, firmware, capsys, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "calls.log"
    for name in ("mpremote", "esptool"):
        _fake_tool(bindir, name, log)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    image = tmp_path / "micropython.bin"
    image.write_bytes(bytes(16))
    master, slave = os.openpty()  # a port that exists
    port = os.ttyname(slave)
    try:
        code, out, err = _flash(capsys, "--port", port, "--config", _config(tmp_path),
                                "--firmware", firmware, "--stage", tmp_path / "stage",
                                "--write-micropython", image)
    finally:
        os.close(master)
        os.close(slave)
    assert code == 0, err
    calls = log.read_text().splitlines()
    assert [c.split(" ")[0:2] + c.split(" ")[3:4] for c in calls] == [
        ["esptool", "--chip", "--port"],
        ["esptool", "--chip", "--port"],
        ["mpremote", "connect", "mip"],
        ["mpremote", "connect", "run"],
        ["mpremote", "connect", "fs"],
        ["mpremote", "connect", "fs"],
        ["mpremote", "connect", "reset"],
    ]
    assert calls[1].endswith(f"write-flash -z 0x1000 {image}")
    assert all(port in c for c in calls)
    assert "done" in out


def test_a_failing_step_stops_the_run(tmp_path, firmware, capsys, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "mpremote").write_text("#!/bin/sh\nexit 3\n")
    (bindir / "mpremote").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    master, slave = os.openpty()
    try:
        code, out, err = _flash(capsys, "--port", os.ttyname(slave), "--config",
                                _config(tmp_path), "--firmware", firmware,
                                "--stage", tmp_path / "stage")
    finally:
        os.close(master)
        os.close(slave)
    assert code == 1
    assert "step 1 failed (exit code 3)" in err
    assert len(_commands(out)) == 1


def test_missing_config(tmp_path, firmware, capsys):
    code, _, err = _flash(capsys, "--port", "/dev/ttyUSB9", "--config", tmp_path / "no.json",
                          "--dry-run", "--firmware", firmware, "--stage", tmp_path / "s")
    assert code == 2
    assert "--config" in err and "no.json: no such file" in err


def test_config_that_is_not_json(tmp_path, firmware, capsys):
    bad = tmp_path / "device.json"
    bad.write_text('{"board": "esp32-devkitc-max3485",')
    code, _, err = _flash(capsys, "--port", "/dev/ttyUSB9", "--config", bad, "--dry-run",
                          "--firmware", firmware, "--stage", tmp_path / "s")
    assert code == 2
    assert "device.json: not valid JSON" in err


def test_config_that_fails_the_device_checks(tmp_path, firmware, capsys):
    cfg = dict(CONFIG)
    del cfg["board"]
    del cfg["wiring_max_amps_all"]
    path = tmp_path / "device.json"
    path.write_text(json.dumps(cfg))
    code, _, err = _flash(capsys, "--port", "/dev/ttyUSB9", "--config", path, "--dry-run",
                          "--firmware", firmware, "--stage", tmp_path / "s")
    assert code == 2
    assert "is not a valid device config" in err
    assert "board: missing" in err and "wiring_max_amps_all: missing" in err
    assert not (tmp_path / "s").exists()  # nothing staged


def test_board_errors(tmp_path, firmware, capsys):
    args = ["--port", "/dev/ttyUSB9", "--dry-run", "--firmware", firmware,
            "--stage", tmp_path / "s"]
    code, _, err = _flash(capsys, "--config", _config(tmp_path, board="no-such-board"), *args)
    assert code == 2
    assert "no-such-board.json: not found" in err and "lilygo-t-can485" in err
    code, _, err = _flash(capsys, "--config", _config(tmp_path, board="sim"), *args)
    assert code == 2 and "board sim is for the MicroPython unix port" in err
    code, _, err = _flash(capsys, "--config", _config(tmp_path), "--board", "lilygo-t-can485",
                          *args)
    assert code == 2 and '"board": "esp32-devkitc-max3485"' in err
    mine = tmp_path / "my-board.json"
    obj = json.loads((ROOT / "boards/esp32-devkitc-max3485.json").read_text())
    obj.update(name="my-board")
    obj["uart"]["tx"] = 34
    mine.write_text(json.dumps(obj))
    code, _, err = _flash(capsys, "--config", _config(tmp_path, board="my-board"), "--board",
                          mine, *args)
    assert code == 2 and "uart.tx: GPIO 34 is input-only" in err
    obj["uart"]["tx"] = 26
    mine.write_text(json.dumps(obj))
    code, out, err = _flash(capsys, "--config", _config(tmp_path, board="my-board"),
                            "--board", mine, *args)
    assert code == 0, err
    assert (tmp_path / "s/fs/boards/my-board.json").exists()


def test_port_must_be_given(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["flash", "--config", str(_config(tmp_path))])
    assert e.value.code == 2
    assert "the following arguments are required: --port" in capsys.readouterr().err


def test_port_must_exist(tmp_path, firmware, capsys):
    code, _, err = _flash(capsys, "--port", "/dev/ttyTWCM-none", "--config", _config(tmp_path),
                          "--firmware", firmware, "--stage", tmp_path / "s")
    assert code == 2
    assert "--port /dev/ttyTWCM-none: no such device" in err


def test_missing_tools_are_named(tmp_path, firmware, capsys, monkeypatch):
    monkeypatch.setattr(flash, "_tool", lambda name: "/bin/true" if name == "mpy-cross" else None)
    master, slave = os.openpty()
    try:
        code, _, err = _flash(capsys, "--port", os.ttyname(slave), "--config",
                              _config(tmp_path), "--firmware", firmware,
                              "--stage", tmp_path / "s")
    finally:
        os.close(master)
        os.close(slave)
    assert code == 2
    assert "mpremote is not installed: pip install mpremote esptool" in err
