"""The `twcm` command line: one sub-command per user task."""
from __future__ import annotations

import argparse
import importlib
import sys

from twcm import __version__

# Each module (the command's name, "_" for "-") has register(subparsers), which adds its
# parser and sets `run` (a function taking the parsed arguments and returning an exit code).
COMMANDS = ("charge", "demo", "flash", "import_twcmanager", "master", "replay", "run", "sim",
            "token", "history")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twcm", description="Tesla Wall Connector (gen 2) manager")
    parser.add_argument("--version", action="version", version=f"twcm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"twcm.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
